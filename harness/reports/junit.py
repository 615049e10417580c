"""JUnit XML for CI dashboards: one testcase per scenario and fix mode.

A caught run passes (the harness reproduced the bug, as the scenario says it must) and records
what it caught in system-out; a failed or missed run carries the same explanation the terminal
prints; a run that did not finish is an <error>, never a pass.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.reports._common import caught_line, counts, failure_text, run_id
from harness.verdict import Status

if TYPE_CHECKING:
    from harness.runner import RunResult

__all__ = ["SUITE", "to_junit", "write_junit"]

SUITE = "freshness"

# XML 1.0 cannot carry most control characters at all, not even escaped; an error message from a
# crashed subprocess can contain them, and one stray byte would make the whole file unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", text)


def to_junit(results: Sequence[RunResult]) -> ET.Element:
    tally = counts(results)
    total = f"{sum(r.seconds for r in results):.3f}"
    attributes = {
        "name": SUITE,
        "tests": str(tally.runs),
        "failures": str(tally.failed - tally.errors),
        "errors": str(tally.errors),
        "skipped": "0",
        "time": total,
    }
    root = ET.Element("testsuites", attributes)
    suite = ET.SubElement(root, "testsuite", attributes)
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": _xml_text(result.history.path),
                "name": _xml_text(f"mode={result.mode}"),
                "time": f"{result.seconds:.3f}",
            },
        )
        status = result.verdict.status
        if status is Status.ERROR:
            element = ET.SubElement(
                case,
                "error",
                {
                    "message": _xml_text(f"the run did not finish: {result.verdict.error}"),
                    "type": "error",
                },
            )
            element.text = _xml_text(failure_text(result))
        elif not status.ok:
            body = failure_text(result)
            headline = body.splitlines()[1] if "\n" in body else run_id(result)
            element = ET.SubElement(
                case, "failure", {"message": _xml_text(headline), "type": status.value}
            )
            element.text = _xml_text(body)
        elif status is Status.CAUGHT:
            ET.SubElement(case, "system-out").text = _xml_text(caught_line(result))
    return root


def write_junit(results: Sequence[RunResult], path: Path) -> Path:
    tree = ET.ElementTree(to_junit(results))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
