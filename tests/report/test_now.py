"""The now view's parts on their own: level history in words, what changed this week,
exposure and alternatives from the dated structural figures (no look-ahead), freshness."""

from __future__ import annotations

import datetime as dt

import pytest

from ews.alerts.records import Alert, Evidence
from ews.catalog import Catalog
from ews.report.now import actions, evidence_words, exposure, history, this_week
from ews.sources.freshness import data_freshness
from ews.sources.ingest import ingest_file
from ews.store import Store


def _alert(version: int, level: str, day: dt.date, *, msg: str = "Update", **kw: object) -> Alert:
    fields: dict[str, object] = {
        "alert_id": "ews-280530-CN-KR-20250404-00000000@test",
        "version": version,
        "msg_type": "Alert" if version == 1 else msg,
        "hs": "280530",
        "item_name": "Rare earths",
        "supplier": "CN",
        "importer": "KR",
        "level": level,
        "score": 1.0,
        "headline": "Rare earths from China",
        "summary": "formula",
        "origin_node": "test",
        "onset": dt.date(2025, 4, 4),
        "sent": dt.datetime.combine(day, dt.time(), dt.UTC),
    }
    fields.update(kw)
    return Alert.model_validate(fields)


VERSIONS = [
    _alert(1, "attention", dt.date(2025, 4, 4)),
    _alert(2, "caution", dt.date(2025, 4, 10)),
    _alert(3, "caution", dt.date(2025, 4, 20)),  # same level: folded into its step
    _alert(4, "alert", dt.date(2025, 5, 1)),
    _alert(5, "normal", dt.date(2025, 6, 30), msg="Cancel"),
]


def test_history_reads_as_steps_with_how_long_each_level_held() -> None:
    steps = history(VERSIONS, dt.date(2025, 7, 1))
    assert [s.level for s in steps] == ["attention", "caution", "alert", "normal"]
    assert steps[0].text == "raised at attention; held 6 days"
    assert steps[1].text == "raised to caution (from attention); held 3 weeks"
    assert steps[2].text == "raised to alert (from caution); held 8 weeks"
    assert steps[3].text == "closed, back to normal"
    # An open alert's last step is still running.
    assert history(VERSIONS[:4], dt.date(2025, 5, 3))[-1].text.endswith("held 2 days so far")


def test_this_week_says_what_changed() -> None:
    open_ = VERSIONS[:4]
    assert this_week(open_, dt.date(2025, 5, 3)) == "raised from caution to alert on 01 May"
    assert (
        this_week(open_[:1], dt.date(2025, 4, 6)) == "new this week: raised at attention on 04 Apr"
    )
    assert this_week(open_, dt.date(2025, 6, 1)) == "no change since 01 May 2025"
    lowered = [*open_, _alert(5, "caution", dt.date(2025, 6, 1))]
    assert this_week(lowered, dt.date(2025, 6, 2)) == "lowered from alert to caution on 01 Jun"


def test_exposure_uses_only_figures_public_on_the_day(store: Store, catalog: Catalog) -> None:
    alert = VERSIONS[3]
    # Korea's 2024 rare-earth dependence (79.8 %) was published on 10 Dec 2025.
    late = exposure(store, catalog, alert, "KR", dt.date(2026, 1, 5))
    assert late.dependence is not None and late.dependence.value == pytest.approx(0.798)
    assert late.dependence.known == dt.date(2025, 12, 10)
    assert "80%" in late.dependence.text and late.dependence.source
    # In 2020 only the 2018 figure (42 %, published June 2019) was public.
    early = exposure(store, catalog, alert, "KR", dt.date(2020, 1, 1))
    assert early.dependence is not None and early.dependence.value == pytest.approx(0.42)
    # Before any figure: unknown, said plainly, never a default dressed as a figure.
    none = exposure(store, catalog, alert, "KR", dt.date(2009, 1, 1))
    assert none.dependence is None
    assert any("unknown" in u and "China" in u for u in none.unknown)
    # No trade rows in an empty store: the value is unknown too.
    assert late.received is None and any("no trade rows" in u for u in late.unknown)


def test_alternatives_come_with_figures_and_sources(store: Store, catalog: Catalog) -> None:
    lithium = _alert(1, "caution", dt.date(2024, 3, 1), hs="282520", item_name="Lithium hydroxide")
    stake = exposure(store, catalog, lithium, "KR", dt.date(2024, 3, 1))
    by_country = {a.country: a for a in stake.alternatives}
    # Chile's share of Korea's lithium hydroxide imports in 2023 (KITA, Feb 2024), and the
    # world's producers from USGS (Australia) as further alternatives.
    assert by_country["CL"].share == pytest.approx(0.175)
    assert "KITA" in by_country["CL"].source and "South Korea" in by_country["CL"].what
    assert "AU" in by_country and "world" in by_country["AU"].what
    assert "CN" not in by_country  # the supplier in trouble is not its own alternative
    steps = actions(lithium, catalog, stake)
    assert any(
        "Chile (" in s and "Australia (" in s for s in steps
    )  # caution: check the alternatives, named


def test_exposure_counts_what_the_watcher_receives(
    store: Store, catalog: Catalog, china_hs6: object
) -> None:
    ingest_file(store, catalog, china_hs6, kind="trade")  # type: ignore[arg-type]
    gallium = _alert(1, "caution", dt.date(2023, 8, 1), hs="811292", item_name="Gallium")
    stake = exposure(store, catalog, gallium, "KR", dt.date(2025, 1, 1))
    assert stake.received is not None
    assert stake.received.value > 0
    assert stake.received.known == dt.date(2024, 12, 1)  # the newest month held
    assert "China's reported exports" in stake.received.text


def test_evidence_in_plain_words(catalog: Catalog) -> None:
    trade = Evidence(
        kind="trade_anomaly",
        ref="trade:CN>*:export:811292@2020-09:unit_value_jump",
        summary="CN exports of 811292 to all partners: unit value jump in 2020-09 "
        "(z=+5.0, value 381 vs expected 104)",
    )
    words = evidence_words(trade, catalog)
    assert words.startswith("China's exports of ")
    assert "to all partners unit value jumped in Sep 2020 (381 against 104 expected)" in words
    assert "z=" not in words
    price = Evidence(
        kind="price_anomaly",
        ref="price:pinksheet:urea_ee_bulk@2021-10:price_jump",
        summary="urea price jump",
        figure=745.0,
    )
    assert evidence_words(price, catalog) == "The urea ee bulk price jumped to 745.00 in Oct 2021"


def test_freshness_says_which_sources_are_behind(
    store: Store, catalog: Catalog, pinksheet: object
) -> None:
    ingest_file(store, catalog, pinksheet, kind="prices")  # type: ignore[arg-type]
    (row,) = data_freshness(store, dt.date(2026, 6, 20), stale_after=3)
    assert row.source == "pinksheet" and row.kind == "prices"
    assert row.newest == dt.date(2026, 5, 31)  # May's average describes May to its end
    assert not row.stale and row.age_days == 20  # May's figure is out in early June
    (late,) = data_freshness(store, dt.date(2026, 12, 6), stale_after=3)
    assert late.stale and "should be public by now" in late.note
    assert late.lag_days == 5 and "second business day" in late.lag_basis
