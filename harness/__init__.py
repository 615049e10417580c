"""Freshness harness."""
