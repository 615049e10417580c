"""Anomalies as prose: the code line, what it implies, a small table, and the argument.

Pure text from records; every report format (terminal, HTML, JUnit, pytest) prints the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.anomalies import DISAGREE, FROZEN, LOCKSTEP, NON_MONOTONIC, STALE, WRONG, Anomaly
from harness.history import Checkpoint, History, Reading
from harness.readouts import LOCKSTEP_GROUPS
from harness.verdict import Verdict

__all__ = [
    "Finding",
    "anomaly_label",
    "explain",
    "explain_or_summarize",
    "failure_text",
    "findings_text",
    "format_checkpoints",
    "group_findings",
    "missing_sentences",
    "unexpected_by_surface",
    "unexpected_sentence",
    "unread_sentences",
]


@dataclass(frozen=True)
class Finding:
    """One anomaly as a reader sees it: the same code, readouts and checkpoints on every surface
    where it shows, told once."""

    anomaly: Anomaly
    surfaces: tuple[str, ...]


def format_checkpoints(indexes: tuple[int, ...]) -> str:
    """(2, 3, 4, 7) -> "2-4, 7"."""
    spans: list[str] = []
    start = previous = indexes[0]
    for index in (*indexes[1:], None):
        if index is not None and index == previous + 1:
            previous = index
            continue
        spans.append(str(start) if start == previous else f"{start}-{previous}")
        if index is not None:
            start = previous = index
    return ", ".join(spans)


def group_findings(anomalies: list[Anomaly] | tuple[Anomaly, ...]) -> list[Finding]:
    groups: dict[tuple[str, tuple[str, ...], tuple[int, ...]], list[Anomaly]] = {}
    for anomaly in anomalies:
        groups.setdefault((anomaly.code, anomaly.readouts, anomaly.checkpoints), []).append(anomaly)
    return [Finding(members[0], tuple(m.surface for m in members)) for members in groups.values()]


def _neighbours(readout: str, present: list[str]) -> list[str]:
    for group in LOCKSTEP_GROUPS:
        if readout in group:
            return [name for name in group if name in present]
    return [readout]


def _short(readout: str) -> str:
    return readout.rsplit(".", 1)[-1]


def _rows_to_show(history: History, anomaly: Anomaly) -> list[Checkpoint]:
    wanted = set(anomaly.checkpoints)
    if len(wanted) > 6:
        wanted = {anomaly.checkpoints[0], anomaly.checkpoints[1], anomaly.checkpoints[-1]}
    if anomaly.witness > 1:
        wanted.add(anomaly.witness - 1)
    return [cp for cp in history.checkpoints if cp.index in wanted]


def _table(history: History, anomaly: Anomaly, surface: str) -> list[str]:
    present = history.readouts_on(surface)
    columns = _neighbours(anomaly.readout, present)
    header = ["cp", "line", "step", *(_short(c) for c in columns), "expected", "after reload"]
    rows: list[list[str]] = []
    for checkpoint in _rows_to_show(history, anomaly):
        readings = checkpoint.readings.get(surface, {})
        focus = readings.get(anomaly.readout, Reading(None, None, None))
        rows.append(
            [
                str(checkpoint.index),
                str(checkpoint.line),
                checkpoint.label,
                *((readings[c].live or "?") if c in readings else "-" for c in columns),
                focus.asserted or focus.expected or "-",
                focus.reload or "?",
            ]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


_MISSING = Reading(None, None, None)


def _at(history: History, surface: str, readout: str, index: int) -> Reading:
    # A trace edited or cut short by hand must still explain what it can.
    for checkpoint in history.checkpoints:
        if checkpoint.index == index:
            return checkpoint.readings.get(surface, {}).get(readout, _MISSING)
    return _MISSING


def _stretches(indexes: tuple[int, ...]) -> list[tuple[int, ...]]:
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return [tuple(run) for run in runs]


def _where_it_stayed(history: History, surface: str, anomaly: Anomaly) -> str:
    """ "$0.00" or "$0.00 at checkpoints 3-5, then $0.09 at 7-10" when a side effect moved it."""
    parts = [
        (_at(history, surface, anomaly.readout, run[0]).live, format_checkpoints(run))
        for run in _stretches(anomaly.checkpoints)
    ]
    if len({value for value, _ in parts}) == 1:
        return str(parts[0][0])
    return ", then ".join(f"{value} at {span}" for value, span in parts)


def _argument(history: History, anomaly: Anomaly) -> str:
    surface = anomaly.surface.split("+")[0]
    readout = anomaly.readout
    span = format_checkpoints(anomaly.checkpoints)
    first = _at(history, surface, readout, anomaly.witness)
    if anomaly.code in (FROZEN, STALE):
        readings = [_at(history, surface, readout, i) for i in anomaly.checkpoints]
        storage_right = all(r.expected is None or r.reload == r.expected for r in readings)
        moving = [
            n
            for n in _neighbours(readout, history.readouts_on(surface))
            if n != readout
            and len({_at(history, surface, n, i).live for i in anomaly.checkpoints}) > 1
        ]
        lead = f"{', '.join(moving)} advanced over checkpoints {span}; " if moving else ""
        if anomaly.code == FROZEN:
            stayed = _where_it_stayed(history, surface, anomaly)
            # Moved between stretches by a side effect (a rename's update): not "never moved".
            still = "did not follow live" if ", then " in stayed else "never moved live"
            middle = f"{readout} {still} (it stayed at {stayed})"
        else:
            middle = f"{readout} moved live but stayed behind what storage held"
        tail = (
            "a fresh client showed the expected value each time, so storage was right and the"
            " live channel never carried the change."
            if storage_right
            else "a fresh client showed a different value, so storage had moved on."
        )
        return f"Then: {lead}{middle}; {tail}"
    if anomaly.code == WRONG:
        truth = first.asserted or first.expected
        storage = (
            "a fresh client agreed with the live value, so the total itself is wrong, not late."
            if first.reload == first.live
            else f"a fresh client showed {first.reload}."
        )
        return (
            f"Then: at checkpoint {anomaly.witness} {readout} showed {first.live} where the"
            f" scenario's usage and prices give {truth}; {storage}"
        )
    if anomaly.code == NON_MONOTONIC:
        return (
            f"Then: {readout} fell at checkpoint {anomaly.witness} ({anomaly.detail}); money"
            " billed never decreases, whatever is reverted, compacted or scrolled away."
        )
    if anomaly.code == DISAGREE:
        checkpoint = next(cp for cp in history.checkpoints if cp.index == anomaly.witness)
        shown = ", ".join(
            f"{name} {readings[readout].live}"
            for name, readings in checkpoint.readings.items()
            if readout in readings
        )
        return f"Then: at checkpoint {anomaly.witness} the surfaces showed {readout} as: {shown}."
    if anomaly.code == LOCKSTEP:
        return (
            f"Then: in one box, {', '.join(anomaly.readouts[1:]) or 'its neighbours'} moved while"
            f" {anomaly.readouts[0]} stood still although storage changed (checkpoints {span})."
        )
    return ""


def explain(history: History, finding: Finding, artifacts: str | None = None) -> str:
    anomaly = finding.anomaly
    lines = [
        f"{anomaly.code}  {', '.join(anomaly.readouts)}  checkpoints"
        f" {format_checkpoints(anomaly.checkpoints)} ({', '.join(finding.surfaces)})"
    ]
    if anomaly.implied:
        also = ", ".join(
            f"{a.code}({', '.join(a.readouts)})" for a in dict.fromkeys(anomaly.implied)
        )
        lines.append(f"  also: {also}")
    surface = anomaly.surface.split("+")[0]
    lines.extend(_table(history, anomaly, surface))
    lines.append(f"  {_argument(history, anomaly)}")
    witness = next((cp for cp in history.checkpoints if cp.index == anomaly.witness), None)
    line = f" (line {witness.line})" if witness is not None else ""
    where = f"  Witness: cp {anomaly.witness}{line}."
    if artifacts:
        where += f" Artifacts: {artifacts}"
    lines.append(where)
    return "\n".join(lines)


def anomaly_label(anomaly: Anomaly) -> str:
    return f"{anomaly.code}({', '.join(anomaly.readouts)})"


def explain_or_summarize(history: History, finding: Finding, artifacts: str | None = None) -> str:
    try:
        return explain(history, finding, artifacts)
    except (KeyError, StopIteration, IndexError):
        # A history that lost the witness's checkpoint (a run cut short, an edited trace) still
        # deserves a report; say what is known rather than lose every other finding with it.
        anomaly = finding.anomaly
        return (
            f"{anomaly.code}  {', '.join(anomaly.readouts)}  checkpoints"
            f" {format_checkpoints(anomaly.checkpoints)} ({', '.join(finding.surfaces)})\n"
            "  (the history does not hold these checkpoints, so they cannot be shown)"
        )


def findings_text(history: History, verdict: Verdict, artifacts: str | None = None) -> list[str]:
    """The explanation of every finding in the run, each a block of lines."""
    return [
        explain_or_summarize(history, finding, artifacts)
        for finding in group_findings(verdict.anomalies)
        if finding.anomaly.checkpoints
    ]


def _expectation_at(history: History) -> str:
    """Where the scenario states what this run must give, as `path:line` an editor opens."""
    line = history.meta.get("expect_line")
    return f"{history.path}:{line}" if isinstance(line, int) else history.path


def _expectation_key(history: History) -> str:
    target = history.meta.get("target", "reference")
    return f"expect_targets: {target}" if history.mode == "shipped" else history.mode


def _suggested(history: History, unexpected: list[tuple[Anomaly, list[str]]]) -> str:
    """The unexpected anomalies written as a scenario's expectation (a YAML flow list)."""
    by_code: dict[tuple[str, tuple[str, ...]], dict[str, None]] = {}
    for anomaly, seen_on in unexpected:
        # Name the surfaces only where another surface of the run reads the readout and did
        # not show it; otherwise the expectation holds on every surface as written.
        quiet_elsewhere = any(
            set(anomaly.readouts) & set(history.readouts_on(surface))
            for surface in history.surfaces
            if surface not in seen_on
        )
        # A second window (store#2) is written as its kind: that is what a scenario names.
        kinds = {surface.split("#", 1)[0] for surface in seen_on}
        where = tuple(sorted(kinds)) if quiet_elsewhere else ()
        by_code.setdefault((anomaly.code, where), {}).update(dict.fromkeys(anomaly.readouts))
    items = []
    for (code, where), readouts in by_code.items():
        item = f"{code}: [{', '.join(readouts)}]"
        if where:
            item += f", surfaces: [{', '.join(where)}]"
        items.append("{" + item + "}")
    return f"[{', '.join(items)}]"


def unexpected_by_surface(verdict: Verdict) -> list[tuple[Anomaly, list[str]]]:
    found: dict[Anomaly, list[str]] = {}
    for surface, surface_verdict in verdict.surfaces.items():
        for anomaly in surface_verdict.unexpected:
            found.setdefault(anomaly, []).append(surface)
    return list(found.items())


def unexpected_sentence(history: History, verdict: Verdict) -> list[str]:
    """What the run raised that its expectation does not name, and how to state it if meant."""
    unexpected = unexpected_by_surface(verdict)
    if not unexpected:
        return []
    named = "; ".join(
        f"{anomaly_label(anomaly)} on {', '.join(surfaces)}" for anomaly, surfaces in unexpected
    )
    key = _expectation_key(history)
    it = "it" if len(unexpected) == 1 else "them"
    return [
        f"UNEXPECTED for mode={verdict.mode}: {named}. The expectation at"
        f" {_expectation_at(history)} does not name {it}: a regression, or, if this is what the"
        f" run should give, write there `{key}: {_suggested(history, unexpected)}`"
    ]


def missing_sentences(history: History, verdict: Verdict) -> list[str]:
    """One sentence per expected (code, readout) that no surface showed, surfaces named once."""
    where: dict[tuple[str, str], list[str]] = {}
    for surface, surface_verdict in verdict.surfaces.items():
        for pair in surface_verdict.missing:
            where.setdefault(pair, []).append(surface)
    return [
        f"MISSED  expected {code} on {readout} ({', '.join(surfaces)}) but the run never showed"
        " it: either the harness did not catch the bug this mode reproduces, or the expectation"
        f" at {_expectation_at(history)} no longer says what this mode does."
        for (code, readout), surfaces in where.items()
    ]


def failure_text(history: History, verdict: Verdict, artifacts: str | None = None) -> str:
    """Everything a reader needs about one run that did not meet its expectation: its id, each
    finding explained, what was unexpected, what was missed. Every report prints these words."""
    lines = [f"FAILED {history.path}::mode={verdict.mode}"]
    lines.extend(unread_sentences(verdict))
    if verdict.error is not None:
        lines.append(
            f"ERROR  the run did not finish: {verdict.error}. Nothing is known about this mode;"
            " it counts as a failure, never as a pass."
        )
        if artifacts:
            lines.append(f"  Artifacts: {artifacts}")
        if verdict.anomalies:
            lines.append("  Found before the run stopped:")
    lines.extend(findings_text(history, verdict, artifacts))
    lines.extend(unexpected_sentence(history, verdict))
    lines.extend(missing_sentences(history, verdict))
    return "\n".join(lines)


def unread_sentences(verdict: Verdict) -> list[str]:
    """One ERROR line per surface that never read some of its readouts."""
    return [
        f"ERROR  {surface} never read {', '.join(v.unread)}: nothing is known there (a pattern"
        " that stopped matching, a surface that never loaded); an unread readout is never a pass."
        for surface, v in verdict.surfaces.items()
        if v.unread
    ]
