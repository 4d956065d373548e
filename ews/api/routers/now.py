"""What is at risk for a watching country now, and one alert as a card (ews.report.now)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from ews.alerts.board import versions_of, visible
from ews.alerts.repository import load_alerts
from ews.api import models as m
from ews.api.deps import (
    NOT_FOUND,
    PREFIX,
    REFUSALS,
    CatalogDep,
    GlossaryDep,
    Reader,
    StoreReaderDep,
    country_code,
)
from ews.report.i18n import Lang
from ews.report.now import alert_card, default_watcher, now_view
from ews.risk.inputs import local_today
from ews.settings import get_settings

router = APIRouter(prefix=PREFIX, responses=REFUSALS)

AsOf = Annotated[
    dt.date | None,
    Query(
        alias="as_of",
        description="The day to look from (default: today where the day is furthest ahead, "
        "so a story dated today in Seoul counts).",
    ),
]


# The sentences' language; anything but en, ko or ja is refused (422), unlike the dashboard,
# which falls back to English: an API client asked for something it did not get.
Language = Annotated[
    Lang,
    Query(
        description="Language of the sentences (this week, reason, exposure, actions, notes): "
        "en, ko or ja. JSON keys, level codes and data as published stay as they are."
    ),
]


def _day(as_of: dt.date | None) -> dt.date:
    today = local_today()
    if as_of is not None and as_of > today:
        raise HTTPException(422, f"as_of: {as_of} is in the future")
    return as_of or today


@router.get("/now", response_model=m.NowOut)
def now(
    key: Reader,
    reader: StoreReaderDep,
    catalog: CatalogDep,
    country: Annotated[
        str | None, Query(description="Watching country, name or code (default: the node's).")
    ] = None,
    as_of: AsOf = None,
    lang: Language = "en",
) -> m.NowOut:
    """Open alerts that touch the watching country, ranked by level then score, each with
    what changed this week and the country's exposure, and the freshness of every source."""
    code = country_code(catalog, country, "country") or default_watcher()
    day = _day(as_of)
    with reader.read() as store:
        view = now_view(
            store,
            catalog,
            store.memo("alerts", load_alerts),
            code,
            day=day,
            include_red="admin" in key.scopes,
            stale_after=get_settings().source_stale_after,
            lang=lang,
        )
    return m.NowOut.model_validate(view.as_json())


@router.get("/alerts/{alert_id}/card", response_model=m.AlertCardOut, responses=NOT_FOUND)
def card(
    key: Reader,
    reader: StoreReaderDep,
    catalog: CatalogDep,
    glossary: GlossaryDep,
    alert_id: str,
    watcher: Annotated[
        str | None,
        Query(description="Whose exposure to show for a global alert (default: the node's)."),
    ] = None,
    as_of: AsOf = None,
    lang: Language = "en",
) -> m.AlertCardOut:
    """One alert as a card: the reason in words, evidence with English renderings, the
    watcher's exposure and alternative suppliers with sources, suggested actions, history."""
    code = country_code(catalog, watcher, "watcher") or default_watcher()
    day = _day(as_of)
    with reader.read() as store:
        versions = versions_of(store.memo("alerts", load_alerts), alert_id)
        admin = "admin" in key.scopes
        if not versions or not all(visible(a, include_red=admin) for a in versions):
            raise HTTPException(404, f"no alert {alert_id!r}")
        result = alert_card(store, catalog, glossary, versions, watcher=code, day=day, lang=lang)
    return m.AlertCardOut.model_validate(result.as_json())
