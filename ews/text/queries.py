"""The one WHERE clause that selects stored events, shared by the API and the dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any


def events_where(
    *,
    item: str | None = None,
    related: bool = False,
    country: str | None = None,
    event_type: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> tuple[str, list[Any]]:
    """Condition on ``events e`` and its parameters.

    ``item`` is an HS code prefix; with ``related`` an event tagged with a broader code counts
    too (an item page for 280530 shows events about heading 2805).
    """
    where, params = ["TRUE"], list[Any]()
    if item is not None:
        match = "starts_with(hs, ?) OR starts_with(?, hs)" if related else "starts_with(hs, ?)"
        where.append(f"e.event_id IN (SELECT event_id FROM event_items WHERE {match})")
        params += [item, item] if related else [item]
    for column, value in (("country", country), ("event_type", event_type)):
        if value is not None:
            where.append(f"e.{column} = ?")
            params.append(value)
    if since is not None:
        where.append("e.event_date >= ?")
        params.append(since)
    if until is not None:
        where.append("e.event_date <= ?")
        params.append(until)
    return " AND ".join(where), params
