"""pytest plugin: collects scenario files as test items (filled in by the runner work)."""
