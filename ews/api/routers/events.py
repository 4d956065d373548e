"""Events extracted from texts, read from :mod:`ews.text.queries`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from ews.api import models as m
from ews.api.deps import (
    PREFIX,
    REFUSALS,
    CatalogDep,
    GlossaryDep,
    KnownCountry,
    Limit,
    Offset,
    Reader,
    StoreReaderDep,
    country_code,
)
from ews.text import queries as events
from ews.text.render import render_row

router = APIRouter(prefix=PREFIX, responses=REFUSALS)


@router.get("/events")
def list_events(
    key: Reader,
    reader: StoreReaderDep,
    catalog: CatalogDep,
    glossary: GlossaryDep,
    item: Annotated[str | None, Query(description="HS code prefix.")] = None,
    country: Annotated[
        str | None, Query(description="Country (name or code)."), KnownCountry
    ] = None,
    event_type: Annotated[str | None, Query(examples=["export_restriction"])] = None,
    since: Annotated[dt.date | None, Query(description="On or after.")] = None,
    until: Annotated[dt.date | None, Query(description="On or before.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> m.EventPage:
    """Events extracted from texts, newest first, with their evidence sentences and an English
    rendering of each (one row per event: the same sentence carried by several documents is
    listed once per event)."""
    f = events.EventFilter(
        item=item,
        country=country_code(catalog, country, "country"),
        event_type=event_type,
        since=since,
        until=until,
    )
    with reader.read() as store:
        total = events.count_events(store, f)
        rows = events.list_events(store, f, limit=limit, offset=offset, with_items=True)
    out = [
        m.EventOut(
            event_id=r["event_id"],
            date=r["event_date"],
            event_type=r["event_type"],
            country=r["country"],
            items=r["items"],
            lang=r["lang"],
            evidence=r["evidence"],
            confidence=r["confidence"],
            link=r["link"],
            source_id=r["source_id"],
            matched=r["matched"],
            rendering=m.RenderingOut.model_validate(render_row(r, catalog, glossary).as_json()),
        )
        for r in rows
    ]
    return m.EventPage(total=total, limit=limit, offset=offset, items=out)
