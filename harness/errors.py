"""One root for every error the harness raises on purpose.

The CLI turns any :class:`FreshnessError` into a one-line message and exit code 2; anything else is
a bug in Freshness and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FreshnessError", "ScenarioError", "SourceSpan", "TargetError"]


class FreshnessError(Exception):
    """Root of the errors a user can cause and fix (bad input, a target that will not start)."""


@dataclass(frozen=True)
class SourceSpan:
    """Where in a scenario file something was written (1-based, inclusive lines)."""

    path: Path
    line: int
    end_line: int

    def __str__(self) -> str:
        if self.end_line > self.line:
            return f"{self.path}:{self.line}-{self.end_line}"
        return f"{self.path}:{self.line}"


@dataclass
class ScenarioError(FreshnessError):
    """A scenario file that cannot be loaded, with the place that is wrong."""

    path: Path
    line: int
    message: str
    source_lines: list[str] = field(default_factory=list)
    also: list[tuple[int, str]] = field(default_factory=list)
    """Further problems found in the same pass, as (line, message): each on a line of its own,
    so one edit-and-rerun fixes them all."""

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        first = f"{self.path}:{self.line}: {self.message}"
        return "\n".join([first, *(f"{self.path}:{line}: {text}" for line, text in self.also)])

    def with_source(self) -> str:
        """The one-line error followed by the offending source line, as a reader wants it."""
        if not self.source_lines:
            return str(self)
        shown = "\n".join(f"  {self.line:>4} | {text}" for text in self.source_lines[:1])
        first, *rest = str(self).splitlines()
        return "\n".join([first, shown, *rest])


class TargetError(FreshnessError):
    """The system under test failed to install, start or answer; names the step that failed."""
