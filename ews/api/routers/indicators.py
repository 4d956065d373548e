"""Indicator results behind the alerts: import dependence and anomalies, read from
:mod:`ews.indicators.queries`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from ews.api import models as m
from ews.api.deps import (
    PREFIX,
    REFUSALS,
    CatalogDep,
    KnownCountry,
    Limit,
    Offset,
    Reader,
    StoreReaderDep,
    country_code,
)
from ews.indicators import queries

router = APIRouter(prefix=PREFIX, responses=REFUSALS)


@router.get("/indicators/dependence")
def dependence(
    key: Reader,
    reader: StoreReaderDep,
    catalog: CatalogDep,
    importer: Annotated[
        str | None, Query(description="Importer (name or code)."), KnownCountry
    ] = None,
    item: Annotated[str | None, Query(description="HS code prefix.")] = None,
    dependent_only: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> m.DependencePage:
    """Import dependence from the newest dependence run, highest top share first."""
    code = country_code(catalog, importer, "importer")
    with reader.read() as store:
        run = queries.latest_run(store, "dependence")
        if run is None:
            return m.DependencePage(run_id=None, total=0, limit=limit, offset=offset, items=[])
        total, rows = queries.dependence_page(
            store,
            run,
            importer=code,
            item=item,
            dependent_only=dependent_only,
            limit=limit,
            offset=offset,
        )
    items = [
        m.DependenceOut.model_validate({k: r[k] for k in m.DependenceOut.model_fields})
        for r in rows
    ]
    return m.DependencePage(run_id=run, total=total, limit=limit, offset=offset, items=items)


@router.get("/indicators/anomalies")
def anomalies(
    key: Reader,
    reader: StoreReaderDep,
    kind: Annotated[str | None, Query(examples=["trade_drop"])] = None,
    series: Annotated[
        str | None, Query(description="Series key prefix, e.g. trade:CN> or price:")
    ] = None,
    since: Annotated[dt.date | None, Query(description="Period on or after.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> m.AnomalyPage:
    """Anomalies of the newest trade and price runs, newest period first."""
    with reader.read() as store:
        total, rows = queries.anomaly_page(
            store, kind=kind, series=series, since=since, limit=limit, offset=offset
        )
    items = [
        m.AnomalyOut.model_validate({k: r[k] for k in m.AnomalyOut.model_fields}) for r in rows
    ]
    return m.AnomalyPage(total=total, limit=limit, offset=offset, items=items)
