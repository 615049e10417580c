"""The dispatcher and the reports' import boundary."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import harness.reports
from harness.reports import write_reports
from harness.runner import RunResult


def test_writes_each_requested_format_under_its_fixed_name(
    matrix_results: list[RunResult], tmp_path: Path
) -> None:
    out = tmp_path / "nested" / "out"

    written = write_reports(matrix_results, {"html", "json", "junit"}, out)

    assert written == {
        "html": out / "report.html",
        "json": out / "report.json",
        "junit": out / "junit.xml",
    }
    assert json.loads(written["json"].read_text(encoding="utf-8"))["summary"]["runs"] == 4
    assert ET.parse(written["junit"]).getroot().tag == "testsuites"
    assert written["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "report.json"]


def test_only_the_requested_formats_are_written(
    matrix_results: list[RunResult], tmp_path: Path
) -> None:
    assert write_reports(matrix_results, {"json"}, tmp_path) == {"json": tmp_path / "report.json"}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_an_unknown_format_is_refused_before_anything_is_written(
    matrix_results: list[RunResult], tmp_path: Path
) -> None:
    with pytest.raises(
        ValueError, match=r"unknown report format 'pdf'; choose from: html, json, junit"
    ):
        write_reports(matrix_results, {"json", "pdf"}, tmp_path / "out")

    assert not (tmp_path / "out").exists()


def test_public_names_are_explicit() -> None:
    assert set(harness.reports.__all__) >= {
        "print_report",
        "render_matrix",
        "to_json",
        "write_json",
        "write_junit",
        "write_html",
        "write_reports",
    }


def test_reports_do_not_load_ui_drivers() -> None:
    code = (
        "import sys, harness.reports; "
        "loaded = [m for m in ('textual', 'playwright', 'harness.runner', 'httpx') if m in sys.modules]; "
        "print(','.join(loaded))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == ""
