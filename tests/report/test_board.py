from __future__ import annotations

import csv
import datetime as dt

import pytest

from ews.catalog import Catalog
from ews.report.board import build_board
from ews.sources.ingest import ingest_file
from ews.store import Store
from tests.sources.helpers import sample


@pytest.fixture
def loaded(store: Store, catalog: Catalog) -> Store:
    ingest_file(store, catalog, sample("pinksheet-2000.xlsx"), kind="prices")
    ingest_file(store, catalog, sample("china-exports-hs6.csv"), kind="trade")
    return store


def test_trade_figures_match_the_file(loaded: Store, catalog: Catalog) -> None:
    with sample("china-exports-hs6.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["hs6"] == "250410"]
    last12 = [r for r in rows if r["period_dt"] >= "2024-01-01"]
    prev12 = [r for r in rows if "2023-01-01" <= r["period_dt"] < "2024-01-01"]
    total = sum(float(r["val"]) for r in last12)
    to_kr = sum(float(r["val"]) for r in last12 if r["partner_name"] == "South Korea")
    before = sum(float(r["val"]) for r in prev12)
    board = {r.hs: r for r in build_board(loaded, catalog)}
    trade = board["250410"].trade
    assert trade is not None
    assert trade.period_to == dt.date(2024, 12, 1) and trade.period_from == dt.date(2024, 1, 1)
    assert trade.value_12m == pytest.approx(total)
    assert trade.shares["KR"] == pytest.approx(to_kr / total)
    assert trade.change_12m == pytest.approx((total / before - 1) * 100)


def test_price_moves_are_month_and_year_changes(loaded: Store, catalog: Catalog) -> None:
    board = {r.hs: r for r in build_board(loaded, catalog)}
    urea = board["310210"].price
    assert urea is not None and urea.series == "urea"
    values = {
        r["period"]: r["value"]
        for r in loaded.query(
            "SELECT period, value FROM price_observations WHERE series_id = 'urea'"
        )
    }
    last = max(values)
    prev = (
        dt.date(last.year, last.month - 1, 1) if last.month > 1 else dt.date(last.year - 1, 12, 1)
    )
    assert urea.period == last and urea.value == values[last]
    assert urea.change_1m == pytest.approx((values[last] / values[prev] - 1) * 100)
    year_ago = dt.date(last.year - 1, last.month, 1)
    assert urea.change_12m == pytest.approx((values[last] / values[year_ago] - 1) * 100)


def test_items_without_data_are_left_out(loaded: Store, catalog: Catalog) -> None:
    board = build_board(loaded, catalog)
    assert all(r.price is not None or r.trade is not None for r in board)
    assert len(build_board(loaded, catalog, only_with_data=False)) == len(catalog.items)


def test_empty_store_gives_empty_board(store: Store, catalog: Catalog) -> None:
    assert build_board(store, catalog) == []
