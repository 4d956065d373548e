"""The map of suppliers and chokepoints (/map): the geometry the node serves, the page's spec
and table, the watching-country filter, and the chokepoints' coordinates.

The API tests' store holds no open alert (the bundled sample, assessed to today, has closed
every episode), so these tests use a store of their own with a few alerts written directly.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from ews.access.keys import create_key
from ews.alerts.records import Alert, Evidence, alert_id_for
from ews.alerts.repository import alert_row
from ews.catalog import load_catalog
from ews.context import Context
from ews.report import maps
from ews.risk.config import load_chokepoints, load_config
from ews.risk.inputs import event_signals
from ews.settings import Settings
from ews.text.events_file import ingest_events_file
from tests.api.conftest import Api
from tests.web.test_pages import _signed_in, _specs

NODE = "local"
SENT = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _alert(
    hs: str,
    supplier: str | None,
    level: str,
    *,
    importer: str | None = None,
    msg_type: str = "Alert",
    tlp: str = "AMBER",
    refs: tuple[str, ...] = (),
) -> Alert:
    onset = SENT.date()
    return Alert.model_validate(
        {
            "alert_id": alert_id_for(hs, supplier, importer, onset, node=NODE),
            "version": 1,
            "msg_type": msg_type,
            "hs": hs,
            "item_name": f"item {hs}",
            "supplier": supplier,
            "importer": importer,
            "level": level,
            "score": 1.0,
            "headline": f"{hs} from {supplier}",
            "summary": "test alert",
            "evidence": [
                {"kind": "event", "ref": ref, "summary": "disruption", "date": onset}
                for ref in refs
            ],
            "tlp": tlp,
            "origin_node": NODE,
            "onset": onset,
            "sent": SENT,
        }
    )


# China: two open global alerts, the highest at serious. Qatar: Korea's view of LNG, on a
# disruption told at Hormuz. Australia: the US's view only. Germany: closed. Russia: RED.
# One alert on world supply names no supplier.
ALERTS = [
    _alert("280530", "CN", "serious"),
    _alert("811292", "CN", "caution"),
    _alert(
        "271111",
        "QA",
        "alert",
        importer="KR",
        refs=("c7:natural_gas:reuters.com:hormuz:QA", "c8:natural_gas:yna.co.kr"),
    ),
    _alert("283691", "AU", "attention", importer="US"),
    _alert("280461", "DE", "serious", msg_type="Cancel"),
    _alert("760110", "RU", "alert", tlp="RED"),
    _alert("310210", None, "caution"),
]


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    path = str(tmp_path_factory.mktemp("map") / "ews.duckdb")
    settings = Settings(store=path, env="test")
    with Context.open(settings, store=path) as ctx:
        with ctx.store.transaction():
            ctx.store.upsert(
                "alerts",
                pa.Table.from_pylist([alert_row(a) for a in ALERTS]),
                key=("alert_id", "version"),
                compare=(),
            )
        tokens, ids = {}, {}
        for role, scopes in (("read", ["read"]), ("admin", ["admin"])):
            ids[role], tokens[role] = create_key(ctx.store, role, scopes, 10_000)
    yield Api(settings=settings, tokens=tokens, key_ids=ids)


def _suppliers(html: str) -> dict[str, tuple[str, int]]:
    """The page's table: supplier -> (highest level, open alerts)."""
    rows = re.findall(
        r'<tr class="supplier-row" data-country="(\w+)" data-level="(\w+)" data-alerts="(\d+)">',
        html,
    )
    return {code: (level, int(n)) for code, level, n in rows}


def _chokepoints(html: str) -> dict[str, int]:
    rows = re.findall(
        r'<tr class="chokepoint-row" data-chokepoint="(\w+)"[^>]*data-alerts="(\d+)"', html
    )
    return {key: int(n) for key, n in rows}


def test_world_geometry_is_served_as_topojson(mapped: Api) -> None:
    c = mapped.client()
    r = c.get(maps.WORLD_URL)  # no key needed, like the other static files
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert "max-age" in r.headers["cache-control"]
    topo = r.json()
    assert topo["type"] == "Topology"
    countries = topo["objects"][maps.WORLD_OBJECT]["geometries"]
    assert 170 <= len(countries) <= 180
    assert all(g["type"] in ("Polygon", "MultiPolygon") for g in countries)
    # Its ids are ISO numeric codes the catalogue knows (three disputed shapes have none).
    catalog = load_catalog()
    coded = [g["id"] for g in countries if "id" in g]
    assert len(coded) >= len(countries) - 3
    assert all(catalog.country_code(code) is not None for code in coded)
    assert catalog.country_code("410") == "KR"
    assert c.get(maps.WORLD_URL, headers={"if-none-match": r.headers["etag"]}).status_code == 304


def test_world_geometry_is_shipped_with_its_notice() -> None:
    static = Path(maps.__file__).parents[1] / "web" / "static"
    note = (static / "README.md").read_text("utf-8")
    assert "world-110m.json" in note and "Natural Earth" in note and "public domain" in note


def test_map_page_names_the_geometry_by_url(mapped: Api) -> None:
    c = _signed_in(mapped)
    r = c.get("/map")
    assert r.status_code == 200
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    spec = _specs(r.text)["map-chart"]
    text = json.dumps(spec)
    assert '"url": "/static/world-110m.json"' in text
    # Referenced, never inlined: the page stays small.
    assert '"arcs"' not in text and len(r.text) < 60_000
    layers = spec["layer"]
    assert layers[0]["mark"]["type"] == "geoshape"  # type: ignore[index]
    assert spec["projection"]["type"] == "equalEarth" or all(  # type: ignore[index]
        layer.get("projection", {}).get("type") == "equalEarth"
        for layer in layers  # type: ignore[union-attr]
    )
    assert 'href="/map" class="active"' in r.text


def test_map_table_lists_open_alerts_by_supplier(mapped: Api) -> None:
    html = _signed_in(mapped).get("/map").text
    suppliers = _suppliers(html)
    # The highest level of each country's open alerts; closed (DE) and RED (RU) ones stay off.
    assert suppliers == {
        "CN": ("serious", 2),
        "QA": ("alert", 1),
        "AU": ("attention", 1),
    }
    assert list(suppliers) == ["CN", "QA", "AU"]  # highest level first
    assert '<a href="/countries/CN">China</a>' in html
    assert 'id="map-worldwide">1 open alert concerns world supply' in html
    # The spec carries the same figures, keyed by the geometry's numeric ids.
    spec = _specs(html)["map-chart"]
    rows = [r for rows in spec["datasets"].values() for r in rows]  # type: ignore[union-attr]
    china = next(r for r in rows if r.get("iso2") == "CN")
    assert china["id"] == "156" and china["level"] == "serious" and china["n"] == 2
    # Hormuz stands behind Qatar's alert; the others are drawn, not red.
    assert _chokepoints(html) == {key: int(key == "hormuz") for key in load_chokepoints()}
    admin = _suppliers(_signed_in(mapped, "admin").get("/map").text)
    assert admin["RU"] == ("alert", 1)


def test_map_for_a_watching_country(mapped: Api) -> None:
    c = _signed_in(mapped)
    korea = c.get("/map", params={"country": "KR"}).text
    # Korea's own view (QA) and the global alerts (CN); the US's view of Australia is not.
    assert set(_suppliers(korea)) == {"CN", "QA"}
    assert '<option value="KR" selected>' in korea
    us = c.get("/map", params={"country": "United States"}).text
    assert set(_suppliers(us)) == {"CN", "AU"}
    assert _chokepoints(us)["hormuz"] == 0
    bad = c.get("/map", params={"country": "XX"})
    assert bad.status_code == 422
    assert "unknown country" in bad.text and "<html" in bad.text


def test_map_needs_a_key(mapped: Api) -> None:
    r = mapped.client().get("/map", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_every_chokepoint_has_coordinates() -> None:
    points = load_chokepoints()
    assert points
    for key, p in points.items():
        assert -90 <= p.lat <= 90 and -180 <= p.lon <= 180, key
        # Each lies in its sea lane's part of the world (a swapped lat/lon would not).
        assert -10 <= p.lat <= 35, key
    assert abs(points["hormuz"].lat - 26.6) < 0.5 and abs(points["hormuz"].lon - 56.3) < 0.5
    assert points["panama"].lon < -70  # west


def test_a_chokepoint_signal_is_read_back_from_an_alerts_evidence(tmp_path: Path) -> None:
    """The ref format the risk stage writes for a disruption at a chokepoint is the one the
    map reads: a Hormuz story, through event_signals, names Hormuz and no other."""
    events = tmp_path / "events.jsonl"
    row = {
        "event_id": "ev-hormuz-1",
        "doc_id": "doc-hormuz-1",
        "lang": "en",
        "event_type": "logistics_disruption",
        "items": ["2709"],
        "country": "IR",
        "date": "2026-03-01",
        "confidence": 0.9,
        "evidence": "Iran closes the Strait of Hormuz to tanker traffic.",
        "published": "2026-03-01T06:00:00+00:00",
        "link": "https://news.example/hormuz",
        "source_id": "en-news",
    }
    events.write_text(json.dumps(row) + "\n", "utf-8")
    path = str(tmp_path / "ews.duckdb")
    with Context.open(Settings(store=path, env="test"), store=path) as ctx:
        ingest_events_file(ctx.store, ctx.catalog, events)
        signals = event_signals(ctx.store, ctx.catalog, load_config())
    routed = [s for s in signals if s.supplier == "QA"]
    assert routed
    evidence = tuple(
        Evidence(kind="event", ref=s.ref, summary=s.summary, date=s.observed) for s in routed
    )
    alert = _alert("271111", "QA", "alert").model_copy(update={"evidence": evidence})
    assert maps.chokepoints_behind(alert, load_chokepoints()) == {"hormuz"}
    # Iran's own signal is a story about Iran, not a route through a chokepoint.
    own = [s for s in signals if s.supplier == "IR" and ":hormuz:" not in s.ref]
    if own:
        told = _alert("2709", "IR", "alert").model_copy(
            update={"evidence": (Evidence(kind="event", ref=own[0].ref, summary="x"),)}
        )
        assert maps.chokepoints_behind(told, load_chokepoints()) == set()


def test_map_spec_without_alerts_still_draws_the_world() -> None:
    supply = maps.supply_map([], load_catalog())
    assert supply.suppliers == [] and supply.worldwide == 0
    assert all(not c.named for c in supply.chokepoints)
    spec = maps.map_chart(supply)
    assert json.dumps(spec).count(maps.WORLD_URL) == 1
