"""The read side of stored assessments: what the API lists of them."""

from __future__ import annotations

import json
from typing import Any

from ews.alerts.records import LEVELS
from ews.store import Store

# A unit is an item family (a code when it has none), a supplier and an importer.
_LATEST = (
    "SELECT *, row_number() OVER (PARTITION BY coalesce(item_group, hs), supplier, "
    "importer ORDER BY as_of DESC) AS rn FROM assessments"
)


def assessment_page(
    store: Store,
    *,
    item: str | None = None,
    supplier: str | None = None,
    importer: str | None = None,
    level: str | None = None,
    limit: int,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """The latest assessment of each unit, highest score first, optionally on codes starting
    with ``item``, of one supplier or importer, at ``level`` or above. Returns the number of
    matches before paging and the page, each row with ``explanation`` decoded."""
    where, params = ["rn = 1"], list[Any]()
    if item is not None:
        where.append("starts_with(hs, ?)")
        params.append(item)
    for col, code in (("supplier", supplier), ("importer", importer)):
        if code is not None:
            where.append(f"{col} = ?")
            params.append(code)
    lowest = LEVELS.index(level) if level is not None else 0
    if lowest:
        where.append("list_position(?, level) >= ?")
        params += [list(LEVELS), lowest + 1]
    cond = " AND ".join(where)
    total = int(store.scalar(f"SELECT count(*) FROM ({_LATEST}) WHERE {cond}", params))
    rows = store.query(
        f"SELECT * FROM ({_LATEST}) WHERE {cond} "
        "ORDER BY score DESC, assessment_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    for r in rows:
        r["explanation"] = json.loads(r["explanation"])
    return total, rows
