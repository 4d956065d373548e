"""How the dashboard, the brief and their charts write sources and moments for people.

A source is cited by the short name its readers know ("World Bank Pink Sheet"), not by the
id the store keeps; a moment is written as a date, or as ``YYYY-MM-DD HH:MM UTC`` when it has
a time of day, never as Python prints a datetime (``2026-03-18 00:00:00+00:00``).
"""

from __future__ import annotations

import datetime as dt
import re

from ews.sources.registry import load_specs

# Names as readers cite them; the registry's own names (ews/sources/specs) describe the files
# and are too long for a chart's source line. Sources not listed fall back to those names.
SOURCE_NAMES: dict[str, str] = {
    "pinksheet": "World Bank Pink Sheet",
    "comtrade": "UN Comtrade",
    "china_exports": "UN Comtrade",
}


def source_name(source_id: str) -> str:
    """The name a chart cites for a source id: the short name, the registry's name (without
    its parenthesised details), else the id itself (a source this node does not know)."""
    if source_id in SOURCE_NAMES:
        return SOURCE_NAMES[source_id]
    spec = load_specs().get(source_id)
    if spec is None:
        return source_id
    return re.sub(r"\s*\([^)]*\)\s*$", "", spec.name) or spec.name


def when(value: dt.datetime | dt.date | str | None) -> str:
    """A moment for people: ``2026-03-18`` for a date or a datetime at midnight UTC (the time
    of alerts dated by day), else ``2026-03-18 14:05 UTC``; naive datetimes are taken as UTC,
    as the store keeps them."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    moment = value.astimezone(dt.UTC) if value.tzinfo is not None else value
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M UTC")
