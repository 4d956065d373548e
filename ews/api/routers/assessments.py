"""Risk assessments, read from :mod:`ews.risk.queries`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ews.alerts.records import Level
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
from ews.risk.queries import assessment_page

router = APIRouter(prefix=PREFIX, responses=REFUSALS)


@router.get("/assessments")
def list_assessments(
    key: Reader,
    reader: StoreReaderDep,
    catalog: CatalogDep,
    item: Annotated[str | None, Query(description="HS code prefix.")] = None,
    country: Annotated[
        str | None, Query(description="Supplier (name or code)."), KnownCountry
    ] = None,
    importer: Annotated[str | None, Query(description="Watching country."), KnownCountry] = None,
    level: Annotated[Level | None, Query(description="Lowest level.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> m.AssessmentPage:
    """The latest assessment of each unit, highest score first."""
    supplier = country_code(catalog, country, "country")
    watcher = country_code(catalog, importer, "importer")
    with reader.read() as store:
        total, rows = assessment_page(
            store,
            item=item,
            supplier=supplier,
            importer=watcher,
            level=level,
            limit=limit,
            offset=offset,
        )
    out = [
        m.AssessmentOut(
            assessment_id=r["assessment_id"],
            group=r["item_group"],
            hs=r["hs"],
            supplier=r["supplier"],
            importer=r["importer"],
            as_of=r["as_of"],
            score=r["score"],
            level=r["level"],
            explanation=r["explanation"],
            config_version=r["config_version"],
        )
        for r in rows
    ]
    return m.AssessmentPage(total=total, limit=limit, offset=offset, items=out)
