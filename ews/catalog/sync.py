"""Copying the shipped catalogue into the store, so queries can join on items and countries."""

from __future__ import annotations

import json

import pyarrow as pa

from ews.catalog.catalog import Catalog
from ews.records import NAME_KEYS
from ews.store import Store

META_KEY = "catalog_digest"


def sync_catalog(store: Store, catalog: Catalog) -> bool:
    """Write the catalogue into the store when it changed; True when it wrote."""
    if store.get_meta(META_KEY) == catalog.digest:
        return False
    groups = list(catalog.groups.values())
    items = sorted(catalog.items.values(), key=lambda i: i.hs)
    countries = sorted(catalog.countries.values(), key=lambda c: c.iso2)
    group_table = pa.table(
        {
            "id": [g.id for g in groups],
            "sector": [g.sector for g in groups],
            "names": [json.dumps(g.names, ensure_ascii=False) for g in groups],
            "aliases": [json.dumps(g.aliases, ensure_ascii=False) for g in groups],
        }
    )
    item_cols: dict[str, list[str]] = {
        "hs": [i.hs for i in items],
        "group_id": [i.group for i in items],
        "sector": [i.sector for i in items],
    }
    for key in NAME_KEYS:
        item_cols[f"name_{key}"] = [i.names[key] for i in items]
    item_cols["aliases"] = [json.dumps(i.aliases, ensure_ascii=False) for i in items]
    item_cols["note"] = [i.note for i in items]
    item_cols["hs_description"] = [i.hs_description for i in items]
    country_cols: dict[str, list[str]] = {
        "iso2": [c.iso2 for c in countries],
        "iso3": [c.iso3 for c in countries],
        "numeric_code": [c.numeric for c in countries],
        "region": [c.region for c in countries],
        "subregion": [c.subregion for c in countries],
    }
    for key in NAME_KEYS:
        country_cols[f"name_{key}"] = [c.names[key] for c in countries]
    country_cols["aliases"] = [json.dumps(c.aliases, ensure_ascii=False) for c in countries]
    with store.transaction():
        store.replace_all("item_groups", group_table)
        store.replace_all("items", pa.table(item_cols))
        store.replace_all("countries", pa.table(country_cols))
        store.set_meta(META_KEY, catalog.digest)
    return True
