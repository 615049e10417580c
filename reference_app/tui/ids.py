"""Readout names and the Textual widget ids that show them: the one place that maps the two.

Readout names (``sidebar.cost``) are the project's stable vocabulary, but Textual ids may hold
only letters, digits, underscores and hyphens, so a dotted name is not a valid id. Every readout
widget's id is its name with the dots replaced by hyphens (``sidebar-cost``); drivers and tests go
through :func:`widget_id` rather than spelling ids themselves.
"""

from __future__ import annotations

from reference_app.client.readouts import READOUT_NAMES

__all__ = ["READOUT_WIDGET_IDS", "readout_for_widget", "widget_id"]


def widget_id(readout: str) -> str:
    """The Textual id of the widget showing ``readout``: ``sidebar.cost`` -> ``sidebar-cost``."""
    return readout.replace(".", "-")


READOUT_WIDGET_IDS: dict[str, str] = {name: widget_id(name) for name in READOUT_NAMES}

_BY_WIDGET: dict[str, str] = {ident: name for name, ident in READOUT_WIDGET_IDS.items()}


def readout_for_widget(ident: str) -> str | None:
    """The readout a widget id shows, or None for a widget that shows no readout."""
    return _BY_WIDGET.get(ident)
