"""Indicators on the real shared data: the 2023 export controls and the 2021-22 price spikes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from ews.catalog import Catalog, load_catalog
from ews.catalog.sync import sync_catalog
from ews.indicators.anomalies import monthly_trade, trade_series
from ews.indicators.detectors import PriceSpike, TradeFlowDrop, UnitValueJump
from ews.indicators.engine import duckdb_backend
from ews.indicators.run import IndicatorRun, run_dependence, run_prices, run_trade
from ews.sources.ingest import ingest_file
from ews.store import Store
from tests.conftest import shared_file

TRADE_FILES = (
    "trade/china-exports-deep_dive_hs6_monthly.csv",
    "trade/china-exports-overview_monthly.csv",
    "trade/china-exports-country_monthly_stats.csv",
)


@pytest.fixture(scope="module")
def real_catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def trade_store(tmp_path_factory: pytest.TempPathFactory, real_catalog: Catalog) -> Iterator[Store]:
    paths = [shared_file(f) for f in TRADE_FILES]
    st = Store(str(tmp_path_factory.mktemp("real") / "trade.duckdb"))
    sync_catalog(st, real_catalog)
    for p in paths:
        ingest_file(st, real_catalog, p, kind="trade")
    yield st
    st.close()


@pytest.fixture(scope="module")
def trade_run(trade_store: Store) -> IndicatorRun:
    return run_trade(trade_store)


@pytest.fixture(scope="module")
def price_run(tmp_path_factory: pytest.TempPathFactory, real_catalog: Catalog) -> IndicatorRun:
    path: Path = shared_file("prices/CMO-Historical-Data-Monthly.xlsx")
    with Store(str(tmp_path_factory.mktemp("prices") / "p.duckdb")) as st:
        sync_catalog(st, real_catalog)
        ingest_file(st, real_catalog, path, kind="prices")
        return run_prices(st)


def flagged(run: IndicatorRun, key_part: str, first: dt.date, last: dt.date) -> list[str]:
    assert run.report is not None
    return sorted(
        f"{a.series_key} {a.period:%Y-%m} {a.kind} {a.score:+.1f}"
        for d in run.report.detections
        for a in d.anomalies
        if key_part in a.series_key and first <= a.period <= last
    )


# -- trade-flow anomalies: China's export controls --------------------------------------------
def test_graphite_controls_flag_dec_2023_to_feb_2024(trade_run: IndicatorRun) -> None:
    window = (dt.date(2023, 12, 1), dt.date(2024, 2, 1))
    for key in (
        "trade:CN>*:export:250410",  # all partners, summed from the HS6 table
        "trade:CN>*:export:380110",
        "trade:CN>WLD:export:group:graphite",  # the overview table's family total
    ):
        hits = flagged(trade_run, key, *window)
        assert any("trade_drop" in h and h.split()[1] == "2023-12" for h in hits), (key, hits)
    # and partner by partner: Korea, Japan, the US all show the fall
    for partner in ("KR", "JP", "US"):
        assert flagged(trade_run, f"trade:CN>{partner}:export:250410", *window), partner


def test_gallium_germanium_controls_flag_aug_to_oct_2023(trade_run: IndicatorRun) -> None:
    window = (dt.date(2023, 8, 1), dt.date(2023, 10, 1))
    # The family by partner: exports to Japan fall in each of the three months.
    japan = flagged(trade_run, "trade:CN>JP:export:group:gallium", *window)
    assert [h.split()[1] for h in japan] == ["2023-08", "2023-09", "2023-10"], japan
    # HS 811292 (a basket with hafnium, indium, niobium...) shows nothing in these months. The
    # unit-value break in exports to Taiwan (Sep 2023) flagged before baselines were made
    # past-only came from the whole-series value floor: with the floor known in Sep 2023, too
    # few of the 12 months before it pass for a level to be scored. Pinned, not hidden.
    assert not flagged(trade_run, ":811292", *window)


def test_gallium_germanium_world_total_dips_but_stays_below_threshold(
    trade_run: IndicatorRun,
) -> None:
    # Documented weakness: the family total over all partners falls ~30% in Oct 2023, which
    # is within its own (volatile) history; it is not flagged. The test pins that fact.
    assert not flagged(
        trade_run, "trade:CN>WLD:export:group:gallium", dt.date(2023, 8, 1), dt.date(2023, 10, 1)
    )


def test_no_look_ahead_on_the_real_graphite_series(trade_store: Store) -> None:
    # The Dec 2023 flag and its figures are what the detectors gave with the data of Dec 2023.
    obs = duckdb_backend(trade_store).table("trade_observations")
    (total,) = [s for s in trade_series(monthly_trade(obs, item="250410")) if "CN>*:" in s.key]
    t = total.periods.index(dt.date(2023, 12, 1))
    then = dataclasses.replace(
        total,
        periods=total.periods[: t + 1],
        values=total.values[: t + 1],
        quantities=None if total.quantities is None else total.quantities[: t + 1],
        gaps=tuple(g for g in total.gaps if g <= total.periods[t]),
    )
    for detector in (TradeFlowDrop(), UnitValueJump()):
        now = [a for a in detector.detect(total).anomalies if a.period <= total.periods[t]]
        assert list(detector.detect(then).anomalies) == now
    assert any(a.period == total.periods[t] for a in TradeFlowDrop().detect(then).anomalies)


def test_trade_flags_are_few(trade_run: IndicatorRun) -> None:
    summary = trade_run.summary()
    assert summary["periods_scored"] > 5000
    # Not everything: about 2% of scored months are flagged.
    assert summary["flagged"] <= 0.03 * summary["periods_scored"]
    assert summary["gaps"] > 0  # sporadic partners: absent months are reported as gaps


def test_real_dependence_is_mirror_and_names_its_basis(trade_store: Store) -> None:
    run = run_dependence(trade_store, country="KR", item="250410")
    assert run.dependence, "Korea imports natural graphite from China"
    assert {r["basis"] for r in run.dependence} == {"mirror"}
    kr_2023 = next(r for r in run.dependence if r["year"] == 2023)
    assert kr_2023["top_supplier"] == "CN" and kr_2023["months"] == 12
    assert kr_2023["import_value"] > 1e6


# -- price anomalies: Pink Sheet ----------------------------------------------------------------
def test_urea_flagged_oct_2021_and_mar_apr_2022(price_run: IndicatorRun) -> None:
    hits = flagged(price_run, "price:pinksheet:urea", dt.date(2021, 9, 1), dt.date(2022, 5, 1))
    months = {h.split()[1] for h in hits}
    assert {"2021-10", "2022-03", "2022-04"} <= months, hits


def test_nickel_flagged_mar_2022(price_run: IndicatorRun) -> None:
    hits = flagged(price_run, "price:pinksheet:nickel", dt.date(2022, 1, 1), dt.date(2022, 6, 1))
    assert "2022-03" in {h.split()[1] for h in hits}, hits


def test_one_period_spike_test_flags_urea_and_nickel(price_run: IndicatorRun) -> None:
    urea = flagged(price_run, "price:pinksheet:urea", dt.date(2021, 10, 1), dt.date(2021, 10, 1))
    nickel = flagged(price_run, "price:pinksheet:nickel", dt.date(2022, 3, 1), dt.date(2022, 3, 1))
    for hits in (urea, nickel):
        assert any("price_jump" in h for h in hits), hits
    # the spike test only flags rises, and fewer than 3% of the months it scores
    assert price_run.report is not None
    spikes = [d for d in price_run.report.detections if d.method == PriceSpike.method]
    assert {a.kind for d in spikes for a in d.anomalies} == {"price_jump"}
    assert sum(len(d.anomalies) for d in spikes) <= 0.03 * sum(d.evaluated for d in spikes)


def test_price_flags_are_a_minority(price_run: IndicatorRun) -> None:
    summary = price_run.summary()
    assert summary["series"] >= 70
    assert summary["flagged"] <= 0.08 * summary["periods_scored"]
    assert price_run.inputs[0]["source_id"] == "pinksheet"
