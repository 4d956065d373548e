"""The read side of observations and indicator runs: what the API, the dashboard and the
weekly brief show of prices, trade, anomalies and dependence.

Trade rows are matched to an item the way the indicators match them: by its HS code (either
code a prefix of the other) or by its family when a source reports one. Listings that page
return ``(total, rows)``: the number of matches before paging, and the page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from ews.records import WORLD, Item
from ews.store import Store

Rows = list[dict[str, Any]]


def latest_run(store: Store, kind: str) -> str | None:
    """Id of the newest indicator run of ``kind`` (dependence, trade or prices)."""
    value = store.scalar(
        "SELECT run_id FROM indicator_runs WHERE kind = ? ORDER BY created_at DESC LIMIT 1",
        [kind],
    )
    return str(value) if value is not None else None


# -- prices ------------------------------------------------------------------------------------
def item_prices(store: Store, item: Item) -> Rows:
    """Monthly price observations linked to the item by code, by series then period:
    source_id, series_id, series_name, unit, period, value."""
    return store.query(
        "SELECT source_id, series_id, series_name, unit, period, value FROM price_observations "
        "WHERE freq = 'M' AND hs IS NOT NULL AND (starts_with(hs, ?) OR starts_with(?, hs)) "
        "ORDER BY series_id, period",
        [item.hs, item.hs],
    )


# -- trade -------------------------------------------------------------------------------------
def item_trade(store: Store, item: Item) -> Rows:
    """Trade observations of the item summed by reporter, partner, flow, freq, period and
    source (``source_id``, so that a chart can cite it), as ``value_usd``, oldest period
    first."""
    return store.query(
        "SELECT reporter, partner, flow, freq, period, source_id, sum(value_usd) AS value_usd "
        "FROM trade_observations WHERE ((hs IS NOT NULL AND (starts_with(hs, ?) "
        "OR starts_with(?, hs))) OR item_group = ?) GROUP BY ALL ORDER BY period",
        [item.hs, item.hs, item.group],
    )


def country_trade(store: Store, country: str) -> Rows:
    """Yearly value the country exports, imports or (by its partners' reports) receives, per
    code: code (HS code, else family), year, direction, source_id, value_usd."""
    return store.query(
        "SELECT coalesce(hs, item_group) AS code, year(period) AS year, "
        "CASE WHEN reporter = ? THEN flow ELSE 'received (partner data)' END AS direction, "
        "source_id, sum(value_usd) AS value_usd FROM trade_observations "
        "WHERE (reporter = ? AND partner <> ?) OR (partner = ? AND flow = 'export') "
        "GROUP BY ALL ORDER BY year",
        [country, country, WORLD, country],
    )


def received_by(store: Store, importer: str, item: Item) -> Rows:
    """What ``importer`` receives of the item, monthly, as both sides report it: its own
    imports by partner (``flow = 'import'``, reporter the importer) and its partners' exports
    to it (``flow = 'export'``, partner the importer; "mirror" figures, all this node may hold
    for a country whose own statistics are not ingested). Columns: source_id, reporter,
    partner, flow, by_code (rows of the item's code, not its family's total), period,
    value_usd; oldest period first."""
    return store.query(
        "SELECT source_id, reporter, partner, flow, hs IS NOT NULL AS by_code, period, "
        "sum(value_usd) AS value_usd "
        "FROM trade_observations WHERE freq = 'M' AND value_usd IS NOT NULL "
        "AND ((reporter = ? AND flow = 'import' AND partner <> ?) "
        "OR (partner = ? AND flow = 'export')) "
        "AND ((hs IS NOT NULL AND (starts_with(hs, ?) OR starts_with(?, hs))) "
        "OR item_group = ?) GROUP BY ALL ORDER BY period",
        [importer, WORLD, importer, item.hs, item.hs, item.group],
    )


def run_sources(store: Store, run_id: str) -> list[str]:
    """Ids of the sources whose files an indicator run read (its recorded inputs), sorted."""
    inputs = store.scalar("SELECT inputs FROM indicator_runs WHERE run_id = ?", [run_id])
    if not inputs:
        return []
    return sorted({str(i["source_id"]) for i in json.loads(str(inputs)) if "source_id" in i})


# -- anomalies ---------------------------------------------------------------------------------
def run_anomalies(
    store: Store,
    run_id: str,
    *,
    series_keys: Sequence[str] | None = None,
    prefix: str | None = None,
) -> Rows:
    """Anomalies of one run, oldest period first, optionally only on ``series_keys`` or on
    series whose key starts with ``prefix``: series_key, period, value, score, kind, method."""
    where, params = ["run_id = ?"], list[Any]([run_id])
    if series_keys is not None:
        where.append("list_contains(?, series_key)")
        params.append(list(series_keys))
    if prefix is not None:
        where.append("starts_with(series_key, ?)")
        params.append(prefix)
    return store.query(
        "SELECT series_key, period, value, score, kind, method FROM anomalies "
        f"WHERE {' AND '.join(where)} ORDER BY period",
        params,
    )


def anomaly_page(
    store: Store,
    *,
    kind: str | None = None,
    series: str | None = None,
    since: dt.date | None = None,
    limit: int,
    offset: int = 0,
) -> tuple[int, Rows]:
    """Anomalies of the newest trade and price runs, newest period first, optionally of one
    kind, on series whose key starts with ``series``, in periods from ``since``."""
    runs = [r for k in ("trade", "prices") if (r := latest_run(store, k)) is not None]
    where, params = ["list_contains(?, run_id)"], list[Any]([runs])
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    if series is not None:
        where.append("starts_with(series_key, ?)")
        params.append(series)
    if since is not None:
        where.append("period >= ?")
        params.append(since)
    cond = " AND ".join(where)
    total = int(store.scalar(f"SELECT count(*) FROM anomalies WHERE {cond}", params))
    rows = store.query(
        f"SELECT * FROM anomalies WHERE {cond} "
        "ORDER BY period DESC, series_key, method LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return total, rows


# -- dependence --------------------------------------------------------------------------------
def dependence_page(
    store: Store,
    run_id: str,
    *,
    importer: str | None = None,
    item: str | None = None,
    dependent_only: bool = False,
    limit: int,
    offset: int = 0,
) -> tuple[int, Rows]:
    """Rows of a dependence run, highest top share first, optionally of one importer, of
    products whose key starts with ``item``, and only those meeting a dependence rule."""
    where, params = ["run_id = ?"], list[Any]([run_id])
    if importer is not None:
        where.append("importer = ?")
        params.append(importer)
    if item is not None:
        where.append("starts_with(product_key, ?)")
        params.append(item)
    if dependent_only:
        where.append("(dependent OR korea_rule)")
    cond = " AND ".join(where)
    total = int(store.scalar(f"SELECT count(*) FROM dependence_results WHERE {cond}", params))
    rows = store.query(
        f"SELECT * FROM dependence_results WHERE {cond} "
        "ORDER BY top_share DESC, importer, product_key, year LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return total, rows


def newest_dependence(store: Store, run_id: str) -> Rows:
    """Each importer's and product's newest year in a dependence run: importer, product_key,
    year, top_supplier, top_share."""
    return store.query(
        "SELECT importer, product_key, year, top_supplier, top_share FROM dependence_results "
        "WHERE run_id = ? QUALIFY row_number() OVER "
        "(PARTITION BY importer, product_key ORDER BY year DESC) = 1",
        [run_id],
    )


def dependent_products(store: Store, run_id: str, importer: str) -> Rows:
    """The products an importer depends on (by either rule) in a dependence run, each at its
    newest year, highest top share first: product_key, year, top_supplier, top_share, hhi,
    dependent, korea_rule."""
    return store.query(
        "SELECT product_key, year, top_supplier, top_share, hhi, dependent, korea_rule "
        "FROM dependence_results WHERE run_id = ? AND importer = ? "
        "AND (dependent OR korea_rule) QUALIFY row_number() OVER "
        "(PARTITION BY product_key ORDER BY year DESC) = 1 ORDER BY top_share DESC",
        [run_id, importer],
    )
