"""Readable charts (#19) on real data: years on time axes and labels that do not overlap,
money in $M with the unit in the title, whole-number counts, plain words for scores, a
source line on every chart, dates in tooltips; and no "+00:00" in pages or the brief.

The specs are built from the real data folder's files (World Bank Pink Sheet, China's
exports from UN Comtrade) and from the assessed sample store of the API tests; some are
rendered to SVG with vl-convert, as the brief does, to read the labels a reader would see.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ews.alerts.repository import load_alerts
from ews.catalog import Catalog
from ews.catalog.sync import sync_catalog
from ews.report import charts, views
from ews.report.formats import source_name, when
from ews.report.weekly import build_weekly, render_html
from ews.sources.ingest import ingest_file
from ews.store import Store
from ews.text.gloss import Glossary
from tests.api.conftest import Api
from tests.conftest import shared_file

UREA, GALLIUM, RARE_EARTH = "310210", "811292", "280530"
SVG = "{http://www.w3.org/2000/svg}"
YEAR = re.compile(r"\b(19|20)\d\d\b")


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Iterator[Store]:
    """A store holding the real data folder's Pink Sheet and China's HS6 exports."""
    pinksheet = shared_file("prices/CMO-Historical-Data-Monthly.xlsx")
    exports = shared_file("trade/china-exports-deep_dive_hs6_monthly.csv")
    store = Store(str(tmp_path_factory.mktemp("charts") / "ews.duckdb"))
    sync_catalog(store, catalog)
    ingest_file(store, catalog, pinksheet, kind="prices")
    ingest_file(store, catalog, exports, kind="trade")
    yield store
    store.close()


def _real_specs(store: Store, catalog: Catalog) -> dict[str, charts.Spec]:
    """Every chart the real files feed, as the item and country pages and the brief draw them."""
    out: dict[str, charts.Spec | None] = {}
    urea = catalog.item(UREA)
    gallium = catalog.item_for_code(GALLIUM)
    assert urea is not None and gallium is not None
    prices = views.prices(store, urea)
    out["price"] = charts.price_chart(prices, views.price_anomalies(store, prices))
    trade = views.trade_rows(store, gallium)
    out["destinations"] = charts.destinations_chart(views.destinations(trade, catalog))
    # The brief's window: its last three years.
    recent = trade[trade["period"] >= dt.date(2022, 1, 1)]
    out["destinations, 3 years"] = charts.destinations_chart(views.destinations(recent, catalog))
    shares, hhi, basis = views.supplier_shares(trade, catalog, None)
    out["shares world"] = charts.shares_chart(shares, hhi, basis)
    # Korea's own import statistics are not in the shared data: its suppliers' shares are
    # unknown and said to be, never drawn from China's exports alone as "100 % China".
    kr, kr_hhi, kr_basis = views.supplier_shares(trade, catalog, "KR")
    assert kr.empty and kr_hhi.empty and charts.shares_chart(kr, kr_hhi, kr_basis) is None
    assert "South Korea's own import statistics are not in the store" in kr_basis
    assert "only China's exports to it are held" in kr_basis
    out["country KR"] = charts.country_chart(
        views.country_trade(store, catalog, "KR"), "South Korea"
    )
    assert all(spec is not None for spec in out.values()), [k for k, v in out.items() if not v]
    # Korea's trade as China reports it: the title says whose figures they are.
    assert "South Korea received, as its partners report their exports" in json.dumps(
        out["country KR"]
    )
    return {k: v for k, v in out.items() if v is not None}


def _sample_specs(api: Api, catalog: Catalog) -> dict[str, charts.Spec]:
    """The charts of alerts, events, anomalies and concentration on the assessed sample."""
    out: dict[str, charts.Spec | None] = {}
    with Store(api.settings.store, read_only=True) as store:
        alerts = load_alerts(store)
        longest = collections.Counter(a.alert_id for a in alerts).most_common(1)[0][0]
        out["level"] = charts.level_chart(views.level_history(views.alert_versions(store, longest)))
        out["board"] = charts.board_chart(views.alerts_by_month(alerts))
        gallium = catalog.item_for_code(GALLIUM)
        rare = catalog.item(RARE_EARTH)
        assert gallium is not None and rare is not None
        out["trade anomalies"] = charts.anomalies_chart(
            views.trade_anomalies(store, gallium, catalog), "Trade anomalies"
        )
        events = views.events(store, catalog, Glossary(catalog), item=rare)
        out["events"] = charts.events_chart(views.events_frame(events))
        out["concentration"] = charts.concentration_chart(views.concentration(store, catalog))
    assert all(spec is not None for spec in out.values()), [k for k, v in out.items() if not v]
    return {k: v for k, v in out.items() if v is not None}


def _encodings(spec: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(channel, definition) of every encoding anywhere in a spec (layers, concats, facets)."""
    if isinstance(spec, dict):
        for channel, definition in (spec.get("encoding") or {}).items():
            if isinstance(definition, dict):
                yield channel, definition
            elif isinstance(definition, list):  # tooltips
                yield from ((channel, d) for d in definition if isinstance(d, dict))
        for key in ("layer", "vconcat", "hconcat", "concat"):
            for part in spec.get(key, []):
                yield from _encodings(part)
        if "spec" in spec:
            yield from _encodings(spec["spec"])


def _axes(spec: charts.Spec, channel: str) -> list[dict[str, Any]]:
    return [d for c, d in _encodings(spec) if c == channel and "axis" in d and d["axis"]]


def _titles(spec: Any) -> Iterator[str]:
    """Every chart and axis title in a spec (not the tooltips')."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "tooltip":
                continue
            if key == "title":
                texts = value.get("text", "") if isinstance(value, dict) else value
                yield from [texts] if isinstance(texts, str) else (texts or [])
            else:
                yield from _titles(value)
    elif isinstance(spec, list):
        for part in spec:
            yield from _titles(part)


def _labels(svg: str, axis: str) -> list[tuple[float, float, str]]:
    """The labels a reader sees on a rendered axis ("X" or "Y"): (from, to, text), where
    from and to bound the label along the axis (for Y, its position only)."""
    root = ET.fromstring(svg)
    out = []
    for group in root.iter(f"{SVG}g"):
        if not group.get("aria-label", "").startswith(f"{axis}-axis"):
            continue
        for holder in group.iter(f"{SVG}g"):
            if "role-axis-label" not in holder.get("class", ""):
                continue
            for text in holder.iter(f"{SVG}text"):
                if text.get("opacity", "1") == "0":  # dropped by labelOverlap
                    continue
                moved = re.search(r"translate\(([-\d.]+),([-\d.]+)\)", text.get("transform", ""))
                assert moved is not None
                label = text.text or ""
                if axis == "Y":
                    out.append((float(moved[2]), float(moved[2]), label))
                    continue
                # At 10px, a sans-serif label is at least 5px a character wide on average.
                x, width = float(moved[1]), 5.0 * len(label)
                left = {"start": x, "end": x - width}.get(
                    text.get("text-anchor", ""), x - width / 2
                )
                out.append((left, left + width, label))
    return sorted(out)


def test_time_axes_carry_years_and_space_their_labels(
    real: Store, api: Api, catalog: Catalog
) -> None:
    specs = {**_real_specs(real, catalog), **_sample_specs(api, catalog)}
    temporal = 0
    for name, spec in specs.items():
        for d in _axes(spec, "x"):
            if d.get("type") != "temporal":
                continue
            temporal += 1
            axis = d["axis"]
            assert "%Y" in axis["format"], (name, axis)
            assert axis["labelOverlap"] is True, name
            assert set(axis["tickCount"]) == {"interval", "step"}, name
        # Dates in tooltips are written as dates, with their year.
        for channel, d in _encodings(spec):
            if channel == "tooltip" and d.get("type") == "temporal":
                assert "%Y" in d["format"], (name, d)
    assert temporal >= 7  # every chart but the yearly ones and concentration has a time axis


def test_rendered_time_labels_have_years_and_do_not_overlap(
    real: Store, api: Api, catalog: Catalog
) -> None:
    specs = _real_specs(real, catalog)
    sample = _sample_specs(api, catalog)
    # The two the analyst read: the brief's export chart and an alert's level chart.
    for name, spec in [
        ("destinations, 3 years", specs["destinations, 3 years"]),
        ("price", specs["price"]),
        ("level", sample["level"]),
        ("events", sample["events"]),
    ]:
        labels = _labels(charts.to_svg(spec), "X")
        assert len(labels) >= 3, (name, labels)
        texts = [t for _, _, t in labels]
        assert all(YEAR.search(t) for t in texts), (name, texts)
        assert len(set(texts)) == len(texts), (name, texts)
        for (_, end, first), (start, _, second) in itertools.pairwise(labels):
            assert start >= end, (name, first, second)
    destinations = charts.to_svg(specs["destinations, 3 years"])
    three_years = [t for _, _, t in _labels(destinations, "X")]
    assert {"2022", "2023", "2024"} <= {YEAR.search(t)[0] for t in three_years}  # type: ignore[index]


def test_money_is_in_millions_with_its_unit(real: Store, catalog: Catalog) -> None:
    specs = _real_specs(real, catalog)
    for name in ("destinations", "destinations, 3 years", "country KR"):
        (y,) = _axes(specs[name], "y")
        assert y["field"] == "musd", name  # value_usd / 1e6
        assert y["axis"]["format"].startswith("$") and "'M'" in y["axis"]["labelExpr"], name
        assert re.search(r"\$M per (month|year)", y["axis"]["title"]), name
        labels = [t for _, _, t in _labels(charts.to_svg(specs[name]), "Y")]
        assert labels and all(re.fullmatch(r"\$[\d,.]+M", t) for t in labels), (name, labels)
        assert max(float(t[1:-1].replace(",", "")) for t in labels) < 10_000, labels
    assert "$M per month" in _axes(specs["destinations"], "y")[0]["axis"]["title"]
    # The money in tooltips is in $M too, and the shares say whose flows they share out.
    for name in ("shares world",):
        tips = {d.get("title"): d for c, d in _encodings(specs[name]) if c == "tooltip"}
        assert any(t and "$M" in t and tips[t]["field"] == "musd" for t in tips), name
    share_titles = {name: _axes(specs[name], "y")[0]["title"] for name in specs if "shares" in name}
    assert share_titles == {"shares world": "share of exports, %"}
    # A price axis names its unit.
    price_titles = [d.get("title") for c, d in _encodings(specs["price"]) if c == "y"]
    assert "price, $/mt (monthly average)" in price_titles


def test_every_chart_names_its_source(real: Store, api: Api, catalog: Catalog) -> None:
    specs = {**_real_specs(real, catalog), **_sample_specs(api, catalog)}
    expected = {
        "price": "World Bank Pink Sheet",
        "destinations": "UN Comtrade (China's reported exports), monthly",
        "destinations, 3 years": "UN Comtrade (China's reported exports), monthly",
        "shares world": "UN Comtrade",
        "country KR": "UN Comtrade",
        "trade anomalies": "UN Comtrade, scored by this node's indicators",
        "events": "Vietnamese news",
        "level": "alert versions issued by node",
        "board": "alerts issued by node",
        "concentration": "USGS, Mineral Commodity Summaries",
    }
    assert set(specs) == set(expected)
    for name, spec in specs.items():
        subtitle = spec["title"]["subtitle"]
        assert subtitle[0].startswith(("Source: ", "Sources: ")), (name, subtitle)
        assert expected[name] in subtitle[0], (name, subtitle)
    # The source line is drawn, not only declared.
    svg = charts.to_svg(specs["destinations, 3 years"])
    assert "Source: UN Comtrade (China's reported exports), monthly" in svg


def test_counts_have_whole_ticks_and_scores_plain_words(api: Api, catalog: Catalog) -> None:
    specs = _sample_specs(api, catalog)
    (y,) = _axes(specs["board"], "y")
    assert y["aggregate"] == "count"
    assert y["axis"]["tickMinStep"] == 1 and y["axis"]["format"] == "d"
    labels = [t for _, _, t in _labels(charts.to_svg(specs["board"]), "Y")]
    assert len(labels) >= 2 and all(t.isdigit() for t in labels), labels
    for name, spec in specs.items():
        assert not any("robust z" in t for t in _titles(spec)), name
    anomalies = specs["trade anomalies"]
    (y,) = [d for c, d in _encodings(anomalies) if c == "y"]
    assert y["title"][0] == "How unusual"
    # The statistic keeps its name where an analyst looks for it: the tooltip.
    tips = [d.get("title") for c, d in _encodings(anomalies) if c == "tooltip"]
    assert "robust z-score" in tips


def test_sources_and_moments_for_people() -> None:
    assert source_name("pinksheet") == "World Bank Pink Sheet"
    assert source_name("china_exports") == "UN Comtrade"
    assert source_name("no-such-source") == "no-such-source"
    assert when(dt.datetime(2026, 3, 18, tzinfo=dt.UTC)) == "2026-03-18"
    seoul = dt.timezone(dt.timedelta(hours=9))
    assert when(dt.datetime(2026, 3, 18, 23, 5, 30, tzinfo=seoul)) == "2026-03-18 14:05 UTC"
    assert when(dt.date(2026, 3, 18)) == "2026-03-18"
    assert when(None) == "—"


def test_no_page_prints_a_utc_offset(api: Api) -> None:
    from tests.web.test_pages import _signed_in

    c = _signed_in(api)
    board = c.get("/").text
    alert_id = re.search(r'<a href="/alerts/([^"]+)"', board)
    assert alert_id is not None
    alert = c.get(f"/alerts/{alert_id[1]}").text
    pages = {"/": board, "alert": alert}
    for path in ("/items/310210", "/items/811292", "/countries/KR", "/concentration", "/sources"):
        pages[path] = c.get(path).text
    for path, html in pages.items():
        assert "+00:00" not in html, path
        assert not re.search(r"\d\d:\d\d:\d\d[+-]\d\d:\d\d", html), path
    sent = re.findall(r"<tr><td>\d+</td><td>([^<]+)</td>", alert)
    assert sent and all(re.fullmatch(r"\d{4}-\d\d-\d\d( \d\d:\d\d UTC)?", s) for s in sent), sent


def test_brief_prints_no_utc_offset(api: Api, catalog: Catalog, tmp_path: Path) -> None:
    with Store(api.settings.store, read_only=True) as store:
        brief = build_weekly(store, catalog, "2025-W41", node_id="kr-test")
    html = render_html(brief, catalog)
    assert "+00:00" not in html
    assert re.search(r"generated \d{4}-\d\d-\d\d( \d\d:\d\d UTC)? *<", html)
    # The brief's charts are the readable ones: sources named, years on the axes.
    assert "Source: alert versions issued by node" in html
    assert re.search(r">(\d\d? )?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d<", html)
