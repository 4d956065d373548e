"""The read side of stored events: one filter and the listings that the API, the dashboard
and the weekly brief show, so they select and order events the same way."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ews.records import safe_link
from ews.store import Store


@dataclass(frozen=True)
class EventFilter:
    """Which events a reader asks for. Every field left at its default selects everything."""

    item: str | None = None
    """An HS code prefix."""
    related: bool = False
    """With ``item``: an event tagged with a broader code counts too (an item page for 280530
    shows events about heading 2805)."""
    country: str | None = None
    event_type: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def where(self) -> tuple[str, list[Any]]:
        """Condition on ``events e`` and its parameters."""
        where, params = ["TRUE"], list[Any]()
        if self.item is not None:
            match = (
                "starts_with(hs, ?) OR starts_with(?, hs)" if self.related else "starts_with(hs, ?)"
            )
            where.append(f"e.event_id IN (SELECT event_id FROM event_items WHERE {match})")
            params += [self.item, self.item] if self.related else [self.item]
        for column, value in (("country", self.country), ("event_type", self.event_type)):
            if value is not None:
                where.append(f"e.{column} = ?")
                params.append(value)
        if self.since is not None:
            where.append("e.event_date >= ?")
            params.append(self.since)
        if self.until is not None:
            where.append("e.event_date <= ?")
            params.append(self.until)
        return " AND ".join(where), params


def count_events(store: Store, f: EventFilter) -> int:
    """How many stored events match ``f``."""
    cond, params = f.where()
    return int(store.scalar(f"SELECT count(*) FROM events e WHERE {cond}", params))


def list_events(
    store: Store, f: EventFilter, *, limit: int, offset: int = 0, with_items: bool = False
) -> list[dict[str, Any]]:
    """Events matching ``f``, newest first: every column of ``events``, ``link`` (the source
    document's when it is an http(s) address, else None) and ``matched`` as a list of terms;
    with ``with_items`` also ``items``, the HS codes the event is tagged with, in order."""
    cond, params = f.where()
    items = (
        ", (SELECT array_agg(hs ORDER BY hs) FROM event_items i "
        "WHERE i.event_id = e.event_id) AS items"
        if with_items
        else ""
    )
    rows = store.query(
        f"SELECT e.*, d.link{items} FROM events e LEFT JOIN documents d ON d.doc_id = e.doc_id "
        f"WHERE {cond} ORDER BY e.event_date DESC, e.event_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    for r in rows:
        # Stores written before links were checked on intake (and event files, which carry
        # their own) may hold other schemes; what is shown as a link is checked again here.
        r["link"] = safe_link(r["link"])
        r["matched"] = json.loads(r["matched"]) if r["matched"] else []
        if with_items:
            r["items"] = list(r["items"] or [])
    return rows


def events_in_clusters(store: Store, clusters: Iterable[str]) -> list[dict[str, Any]]:
    """Stored events whose cluster id (else their own id, as the risk stage keys them) is one
    of ``clusters``, oldest first, shaped like :func:`list_events` rows with ``items``."""
    keys = sorted(set(clusters))
    if not keys:
        return []
    marks = ", ".join("?" for _ in keys)
    rows = store.query(
        "SELECT e.*, d.link, (SELECT array_agg(hs ORDER BY hs) FROM event_items i "
        "WHERE i.event_id = e.event_id) AS items, coalesce(e.cluster_id, e.event_id) AS cluster "
        "FROM events e LEFT JOIN documents d ON d.doc_id = e.doc_id "
        f"WHERE coalesce(e.cluster_id, e.event_id) IN ({marks}) "
        "ORDER BY e.event_date, e.event_id",
        keys,
    )
    for r in rows:
        r["link"] = safe_link(r["link"])
        r["matched"] = json.loads(r["matched"]) if r["matched"] else []
        r["items"] = list(r["items"] or [])
    return rows
