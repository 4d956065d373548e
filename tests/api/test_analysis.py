"""Indicators, backtest results and the partner feed through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import etree

from ews.alerts.cap import cap_schema
from ews.backtest.replay import evaluate, load_episodes
from ews.backtest.results import save_backtest
from ews.context import Context
from ews.risk.run import assess
from tests.api.conftest import RED_ID, Api


def test_anomalies_filters_and_paging(client: TestClient, api: Api) -> None:
    every = client.get("/api/v1/indicators/anomalies", headers=api.auth(), params={"limit": 500})
    assert every.status_code == 200
    body = every.json()
    assert body["total"] > 50  # the sample's price and trade runs flag many months
    kinds = {a["kind"] for a in body["items"]}
    assert "price_spike" in kinds
    periods = [a["period"] for a in body["items"]]
    assert periods == sorted(periods, reverse=True)
    trade = client.get(
        "/api/v1/indicators/anomalies",
        headers=api.auth(),
        params={"series": "trade:CN>", "since": "2023-01-01"},
    ).json()
    assert trade["total"] > 0
    assert all(a["series_key"].startswith("trade:CN>") for a in trade["items"])
    assert all(a["period"] >= "2023-01-01" for a in trade["items"])
    spikes = client.get(
        "/api/v1/indicators/anomalies", headers=api.auth(), params={"kind": "price_spike"}
    ).json()
    assert {a["kind"] for a in spikes["items"]} == {"price_spike"}
    assert spikes["total"] < body["total"]


def test_dependence_needs_importer_statistics(client: TestClient, api: Api) -> None:
    # The bundled sample holds only China's export statistics: no importer's dependence can be
    # computed from it, and the API says so with an empty page rather than invented shares.
    r = client.get("/api/v1/indicators/dependence", headers=api.auth(), params={"importer": "KR"})
    assert r.status_code == 200
    assert r.json()["total"] == 0 and r.json()["items"] == []
    bad = client.get(
        "/api/v1/indicators/dependence", headers=api.auth(), params={"importer": "Atlantis"}
    )
    assert bad.status_code == 422


def test_backtest_results(api: Api) -> None:
    client = api.client()
    # Before any backtest: a clear 404, not an empty success.
    assert client.get("/api/v1/backtest", headers=api.auth()).status_code == 404
    with Context.open(api.settings, store=api.settings.store) as ctx:
        result, _ = assess(ctx, persist=False)
        episodes, alarms = evaluate(result, load_episodes(), ctx.catalog)
        save_backtest(ctx.store, episodes, len(alarms), since="2017-01-01", until=None)
    r = client.get("/api/v1/backtest", headers=api.auth())
    assert r.status_code == 200
    body = r.json()
    assert body["false_alarms"] == len(alarms)
    names = {e["episode"] for e in body["episodes"]}
    assert names == {e.as_json()["episode"] for e in episodes}
    assert client.get("/api/v1/backtest").status_code == 401


def test_partner_feed_is_cap_and_never_amber_or_red(client: TestClient, api: Api) -> None:
    assert client.get("/api/v1/feed", headers=api.auth("read")).status_code == 403
    r = client.get("/api/v1/feed", headers=api.auth("partner"), params={"limit": 500})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] > 0
    schema = cap_schema()
    for entry in body["items"]:
        assert entry["tlp"] in ("CLEAR", "GREEN")
        assert entry["alert_id"] != RED_ID
        doc = etree.fromstring(entry["cap"].encode())
        assert schema.validate(doc), schema.error_log
    since = client.get(
        "/api/v1/feed", headers=api.auth("partner"), params={"since": "2026-01-01T00:00:00Z"}
    ).json()
    assert all(e["sent"] >= "2026-01-01" for e in since["items"])
    assert since["total"] < body["total"]
