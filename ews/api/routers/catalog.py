"""Critical items and countries from the catalogue, and how current the store's answers are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from ews.api import models as m
from ews.api.deps import (
    NOT_FOUND,
    PREFIX,
    REFUSALS,
    CatalogDep,
    Limit,
    Offset,
    Reader,
    StoreReaderDep,
)
from ews.catalog.names import fold
from ews.records import Country, Item

router = APIRouter(prefix=PREFIX, responses=REFUSALS)


def _item_out(item: Item) -> m.ItemOut:
    return m.ItemOut(
        hs=item.hs,
        group=item.group,
        sector=item.sector,
        names=dict(item.names),
        aliases={k: list(v) for k, v in item.aliases.items()},
        note=item.note,
        hs_description=item.hs_description,
    )


def _country_out(c: Country) -> m.CountryOut:
    return m.CountryOut(
        iso2=c.iso2, iso3=c.iso3, numeric=c.numeric, region=c.region, names=dict(c.names)
    )


@router.get("/items")
def list_items(
    key: Reader,
    catalog: CatalogDep,
    q: Annotated[str, Query(description="Code prefix or a name in any language.")] = "",
    sector: Annotated[str | None, Query(description="Only this sector.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> m.ItemPage:
    """Critical items matching ``q`` (any language, diacritics optional)."""
    found = [i for i in catalog.search_items(q) if sector is None or i.sector == sector]
    page = [_item_out(i) for i in found[offset : offset + limit]]
    return m.ItemPage(total=len(found), limit=limit, offset=offset, items=page)


@router.get("/items/{hs}", responses=NOT_FOUND)
def get_item(key: Reader, catalog: CatalogDep, hs: str) -> m.ItemOut:
    """One critical item by HS code."""
    item = catalog.item(hs)
    if item is None:
        raise HTTPException(404, f"no critical item {hs!r}")
    return _item_out(item)


@router.get("/countries")
def list_countries(
    key: Reader,
    catalog: CatalogDep,
    q: Annotated[str, Query(description="Name in any language, or ISO code.")] = "",
) -> list[m.CountryOut]:
    """Countries, or those matching a name in any of the five languages."""
    folded = fold(q)
    code = catalog.country_code(q) if q else None
    rows = [
        c
        for c in catalog.countries.values()
        if not folded
        or c.iso2 == code
        or any(folded in fold(n) for n in (*c.names.values(), *c.aliases))
    ]
    return [_country_out(c) for c in sorted(rows, key=lambda c: c.iso2)]


@router.get("/status")
def status(key: Reader, reader: StoreReaderDep) -> m.StatusOut:
    """How current the answers are: for a DuckDB store, when the server last copied the
    file and whether another process has written since (docs/reliability.md)."""
    return m.StatusOut.model_validate(reader.status())
