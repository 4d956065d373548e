"""The alert board: the read side of stored alert versions, shared by every interface.

The CLI (``ews alerts``), the API (``GET /api/v1/alerts``, the partner feed), the dashboard
and the weekly brief all decide here which version of an alert is current, how high it rose,
who may see it and whether it matches a filter, so they can never disagree.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ews.alerts.records import LEVELS, Alert, level_rank

Status = Literal["open", "closed", "all"]
STATUSES: tuple[Status, ...] = ("all", "open", "closed")


def visible(alert: Alert, *, include_red: bool) -> bool:
    """TLP:RED alerts are for the node's own people: shown only when ``include_red`` (an admin
    key, or the node's own command line)."""
    return alert.tlp != "RED" or include_red


def latest_versions(alerts: Iterable[Alert]) -> list[Alert]:
    """The newest version of each alert id, newest first."""
    latest: dict[str, Alert] = {}
    for a in alerts:
        if a.alert_id not in latest or a.version > latest[a.alert_id].version:
            latest[a.alert_id] = a
    return sorted(latest.values(), key=lambda a: (a.sent, a.alert_id), reverse=True)


def peak_levels(alerts: Iterable[Alert]) -> dict[str, str]:
    """The highest level each alert id reached over its versions."""
    peak: dict[str, int] = {}
    for a in alerts:
        peak[a.alert_id] = max(peak.get(a.alert_id, 0), level_rank(a.level))
    return {k: LEVELS[v] for k, v in peak.items()}


def versions_of(alerts: Iterable[Alert], alert_id: str) -> list[Alert]:
    """Every stored version of one alert, oldest first."""
    return sorted((a for a in alerts if a.alert_id == alert_id), key=lambda a: a.version)


@dataclass(frozen=True)
class BoardFilter:
    """What a reader asks of the board. Every field left at its default selects everything."""

    level: str | None = None
    """Lowest level. An open alert is judged by its current level (a reader asking for
    alerts at "alert" wants what stands at alert now, not what once rose there and has
    fallen back); a closed alert, which has no current level, by its peak."""
    item: str | None = None
    """An HS code prefix."""
    related: bool = False
    """With ``item``: an alert on a broader code counts too (an item page for 280530 shows
    alerts about heading 2805), as the dashboard's item pages need."""
    items: tuple[str, ...] = ()
    """Or any of these exact codes (an item named in words)."""
    supplier: str | None = None
    importer: str | None = None
    """The watching country of a watchlist alert."""
    with_global: bool = False
    """With ``importer``: global alerts (no watching country) count too. A global alert on
    a supplier is a risk for every buyer of it, so a country's view that left them out
    would hide threats that also hit the country."""
    since: dt.date | None = None
    until: dt.date | None = None
    status: Status = "all"
    include_red: bool = False

    def lowest(self) -> int:
        return LEVELS.index(self.level) if self.level in LEVELS else 0

    def matches(self, alert: Alert, peak: str) -> bool:
        closed = alert.msg_type == "Cancel"
        if (self.status == "open" and closed) or (self.status == "closed" and not closed):
            return False
        if not visible(alert, include_red=self.include_red):
            return False
        if LEVELS.index(peak if closed else alert.level) < self.lowest():
            return False
        if self.item and not (
            alert.hs.startswith(self.item) or (self.related and self.item.startswith(alert.hs))
        ):
            return False
        if self.items and alert.hs not in self.items:
            return False
        if self.supplier and alert.supplier != self.supplier:
            return False
        own = alert.importer == self.importer
        if self.importer and not own and not (self.with_global and alert.importer is None):
            return False
        if self.since and alert.sent.date() < self.since:
            return False
        return not (self.until and alert.sent.date() > self.until)


@dataclass(frozen=True)
class BoardEntry:
    alert: Alert
    """The newest version."""
    peak: str
    """The highest level the alert reached."""


def board(alerts: Iterable[Alert], f: BoardFilter) -> list[BoardEntry]:
    """The newest version of each alert matching ``f``, newest first.

    Peaks are computed over the versions ``f`` may see, so a hidden RED version never shows
    through another alert's peak. Takes alerts already loaded, so a page that also charts
    them reads the table once.
    """
    every = [a for a in alerts if visible(a, include_red=f.include_red)]
    peaks = peak_levels(every)
    return [
        BoardEntry(a, peaks[a.alert_id])
        for a in latest_versions(every)
        if f.matches(a, peaks[a.alert_id])
    ]


SORTS = ("severity", "newest")


def by_severity(entries: Iterable[BoardEntry]) -> list[BoardEntry]:
    """Worst first, as an analyst reads a board: open alerts before closed ones, then by level
    now (a closed one by its peak), then by score, then the newest."""

    def key(e: BoardEntry) -> tuple[int, int, float, float]:
        a = e.alert
        closed = a.msg_type == "Cancel"
        rank = LEVELS.index(e.peak if closed else a.level)
        return (int(closed), -rank, -a.score, -a.sent.timestamp())

    return sorted(entries, key=key)


def entry_json(entry: BoardEntry) -> dict[str, Any]:
    """One board row as JSON: what ``ews alerts --format json`` and the API return."""
    a = entry.alert
    return {
        "id": a.alert_id,
        "item": a.hs,
        "item_name": a.item_name,
        "country": a.supplier,
        "importer": a.importer,
        "level": a.level,
        "peak_level": entry.peak,
        "updated": a.sent.isoformat(),
        "version": a.version,
        "msg_type": a.msg_type,
        "headline": a.headline,
        "tlp": a.tlp,
    }


def board_json(entries: Iterable[BoardEntry]) -> list[dict[str, Any]]:
    return [entry_json(e) for e in entries]


CSV_COLUMNS = (
    "id",
    "item_hs",
    "item_name",
    "supplier",
    "watching_country",
    "level",
    "peak_level",
    "status",
    "onset",
    "updated",
    "headline",
    "tlp",
)


def _cell(text: str) -> str:
    """Text a spreadsheet will not run: a cell opening with = + - @ (or a tab or carriage
    return) is read as a formula by Excel and LibreOffice, and headlines come from the news."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def board_csv(entries: Iterable[BoardEntry]) -> str:
    """Board rows as CSV (one header line, then one line per alert, newest first): what the
    dashboard's and the API's CSV exports return."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        a = e.alert
        writer.writerow(
            (
                a.alert_id,
                a.hs,
                _cell(a.item_name),
                a.supplier or "",
                a.importer or "",
                a.level,
                e.peak,
                "closed" if a.msg_type == "Cancel" else "open",
                a.onset.isoformat(),
                a.sent.isoformat(),
                _cell(a.headline),
                a.tlp,
            )
        )
    return buffer.getvalue()
