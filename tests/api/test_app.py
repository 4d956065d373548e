"""The HTTP API over an assessed sample store: auth, limits, filters, paging, OpenAPI."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from ews.access.keys import revoke_key
from ews.alerts.records import LEVELS
from ews.api.middleware import BodyLimit
from ews.store import Store
from tests.api.conftest import RED_ID, Api

V1 = "/api/v1"


def _get(client: TestClient, api: Api, path: str, role: str = "read", **params: Any) -> Any:
    r = client.get(f"{V1}{path}", headers=api.auth(role), params=params)
    assert r.status_code == 200, r.text
    return r.json()


# -- authentication ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer ews_nope_nope"}, 401),
        ({"X-API-Key": "not-a-token"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ],
)
def test_refuses_missing_or_unknown_keys(
    client: TestClient, headers: dict[str, str], status: int
) -> None:
    r = client.get(f"{V1}/items", headers=headers)
    assert r.status_code == status
    assert r.headers["www-authenticate"] == "Bearer"


def test_wrong_scope_is_403(client: TestClient, api: Api) -> None:
    assert client.get(f"{V1}/items", headers=api.auth("partner")).status_code == 403


def test_x_api_key_header_works(client: TestClient, api: Api) -> None:
    r = client.get(f"{V1}/items", headers={"X-API-Key": api.tokens["read"]})
    assert r.status_code == 200


def test_revoked_key_is_401(client: TestClient, api: Api, tmp_path: Any) -> None:
    from ews.access.keys import create_key

    with Store(api.settings.store) as store:
        key_id, token = create_key(store, "gone", ["read"])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{V1}/items", headers=headers).status_code == 200
    with Store(api.settings.store) as store:
        revoke_key(store, key_id)
    assert client.get(f"{V1}/items", headers=headers).status_code == 401


def test_rate_limit_is_429(api: Api) -> None:
    client = api.client()  # a fresh limiter
    codes = [client.get(f"{V1}/countries", headers=api.auth("slow")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    last = client.get(f"{V1}/countries", headers=api.auth("slow"))
    assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1


def test_large_body_is_413(api: Api) -> None:
    client = api.client(max_body_bytes=100)
    r = client.post(f"{V1}/items", headers=api.auth(), content=b"x" * 101)
    assert r.status_code == 413
    assert client.get(f"{V1}/countries", headers=api.auth(), params={"q": "KR"}).status_code == 200


def test_streamed_body_is_counted() -> None:
    """A chunked body with no declared length is counted as the app reads it."""
    inner = FastAPI()

    @inner.post("/echo")
    async def echo(request: Request) -> int:
        return len(await request.body())

    client = TestClient(BodyLimit(inner, limit=100))
    assert client.post("/echo", content=iter([b"x" * 60, b"x" * 30])).json() == 90
    assert client.post("/echo", content=iter([b"x" * 60, b"x" * 60])).status_code == 413


# -- catalogue --------------------------------------------------------------------------------
def test_items_search_and_paging(client: TestClient, api: Api) -> None:
    every = _get(client, api, "/items", limit=500)
    assert every["total"] == len(every["items"]) > 10
    page = _get(client, api, "/items", limit=3, offset=2)
    assert [i["hs"] for i in page["items"]] == [i["hs"] for i in every["items"][2:5]]
    assert page["total"] == every["total"]
    ko = _get(client, api, "/items", q="요소")  # urea, in Korean
    assert "310210" in {i["hs"] for i in ko["items"]}
    sector = every["items"][0]["sector"]
    assert {i["sector"] for i in _get(client, api, "/items", sector=sector)["items"]} == {sector}
    assert client.get(f"{V1}/items", headers=api.auth(), params={"limit": 0}).status_code == 422


def test_item_by_code(client: TestClient, api: Api) -> None:
    assert _get(client, api, "/items/310210")["names"]["en"]
    assert client.get(f"{V1}/items/000000", headers=api.auth()).status_code == 404


def test_countries_any_language(client: TestClient, api: Api) -> None:
    assert [c["iso2"] for c in _get(client, api, "/countries", q="Hàn Quốc")] == ["KR"]
    assert len(_get(client, api, "/countries")) > 100


# -- alerts -----------------------------------------------------------------------------------
def test_alert_board(client: TestClient, api: Api) -> None:
    board = _get(client, api, "/alerts", include_cancelled=True, limit=500)
    rows = board["items"]
    assert rows and board["total"] == len(rows)
    assert [r["updated"] for r in rows] == sorted((r["updated"] for r in rows), reverse=True)
    assert set(rows[0]) >= {
        "id",
        "item",
        "item_name",
        "country",
        "importer",
        "level",
        "peak_level",
        "updated",
        "version",
        "msg_type",
        "headline",
        "tlp",
    }
    open_only = _get(client, api, "/alerts", limit=500)["items"]
    assert all(r["msg_type"] != "Cancel" for r in open_only)
    two = _get(client, api, "/alerts", include_cancelled=True, limit=2, offset=1)["items"]
    assert [r["id"] for r in two] == [r["id"] for r in rows[1:3]]


def test_alert_filters(client: TestClient, api: Api) -> None:
    rows = _get(client, api, "/alerts", include_cancelled=True, limit=500)["items"]
    top = max(LEVELS.index(r["peak_level"]) for r in rows)
    high = _get(client, api, "/alerts", include_cancelled=True, level=LEVELS[top], limit=500)
    assert high["items"] and all(r["peak_level"] == LEVELS[top] for r in high["items"])
    one = rows[0]
    by_item = _get(client, api, "/alerts", include_cancelled=True, item=one["item"][:4])["items"]
    assert one["id"] in {r["id"] for r in by_item}
    assert all(r["item"].startswith(one["item"][:4]) for r in by_item)
    if one["country"]:
        by_c = _get(client, api, "/alerts", include_cancelled=True, country=one["country"])
        assert all(r["country"] == one["country"] for r in by_c["items"])
    day = dt.date.fromisoformat(one["updated"][:10])
    window = _get(client, api, "/alerts", include_cancelled=True, since=str(day), until=str(day))
    assert one["id"] in {r["id"] for r in window["items"]}
    later = _get(client, api, "/alerts", include_cancelled=True, since=str(day + dt.timedelta(1)))
    assert one["id"] not in {r["id"] for r in later["items"]}
    bad = client.get(f"{V1}/alerts", headers=api.auth(), params={"level": "dire"})
    assert bad.status_code == 422
    bad = client.get(f"{V1}/alerts", headers=api.auth(), params={"country": "Atlantis"})
    assert bad.status_code == 422


def test_red_alerts_only_for_admin(client: TestClient, api: Api) -> None:
    params = {"include_cancelled": True, "limit": 500, "level": "normal"}
    as_read = {r["id"] for r in _get(client, api, "/alerts", **params)["items"]}
    as_admin = {r["id"] for r in _get(client, api, "/alerts", "admin", **params)["items"]}
    assert RED_ID in as_admin and RED_ID not in as_read
    assert as_admin - as_read == {RED_ID}
    assert client.get(f"{V1}/alerts/{RED_ID}", headers=api.auth()).status_code == 404
    assert _get(client, api, f"/alerts/{RED_ID}", "admin")["alert"]["tlp"] == "RED"


def test_alert_explain(client: TestClient, api: Api) -> None:
    rows = _get(client, api, "/alerts", include_cancelled=True, limit=500)["items"]
    pick = max(rows, key=lambda r: r["version"])
    detail = _get(client, api, f"/alerts/{pick['id']}")
    assert [v["version"] for v in detail["versions"]] == list(range(1, pick["version"] + 1))
    assert detail["alert"]["id"] == pick["id"]
    assert detail["evidence"] and all(e["summary"] for e in detail["evidence"])
    # Each text event's evidence is rendered in English; figures are not.
    for e in detail["evidence"]:
        assert (e["rendering"] is not None) == (e["kind"] == "event")
        assert e["documents"] >= 1 and (e["same_as"] is None or e["same_as"] < 10)
    assert client.get(f"{V1}/alerts/ews-nope", headers=api.auth()).status_code == 404


# -- events and assessments -------------------------------------------------------------------
def test_events(client: TestClient, api: Api) -> None:
    every = _get(client, api, "/events", limit=500)
    rows = every["items"]
    assert rows and every["total"] >= len(rows)
    assert [r["date"] for r in rows] == sorted((r["date"] for r in rows), reverse=True)
    first = rows[0]
    assert all(r["lang"] and isinstance(r["matched"], list) for r in rows)
    # the bundled sample carries no article text, so evidence sentences are empty strings here
    assert all(isinstance(r["evidence"], str) for r in rows)
    assert any(r["matched"] for r in rows) and any(r["link"] for r in rows)
    hs = next(r["items"][0] for r in rows if r["items"])
    by_item = _get(client, api, "/events", item=hs[:4], limit=500)["items"]
    assert by_item and all(any(h.startswith(hs[:4]) for h in r["items"]) for r in by_item)
    kind = first["event_type"]
    by_type = _get(client, api, "/events", event_type=kind, limit=500)
    assert by_type["total"] == sum(1 for r in rows if r["event_type"] == kind) or every[
        "total"
    ] > len(rows)
    assert all(r["event_type"] == kind for r in by_type["items"])
    day = first["date"]
    window = _get(client, api, "/events", since=day, until=day, limit=500)["items"]
    assert window and all(r["date"] == day for r in window)
    page = _get(client, api, "/events", limit=2, offset=1)["items"]
    assert [r["event_id"] for r in page] == [r["event_id"] for r in rows[1:3]]
    if first["country"]:
        by_c = _get(client, api, "/events", country=first["country"], limit=500)["items"]
        assert all(r["country"] == first["country"] for r in by_c)
    # Every event carries its English rendering beside the original fields (one row per event).
    assert len({r["event_id"] for r in rows}) == len(rows)
    for r in rows:
        english = r["rendering"]
        assert set(english) == {
            "actor", "measure", "goods", "target", "effective", "date_stated", "summary"
        }  # fmt: skip
        assert english["effective"] == r["date"]
        assert english["measure"].startswith(r["event_type"].replace("_", " "))
        assert english["summary"].startswith(english["actor"].replace("unknown", "Unknown actor"))
    rare = [r for r in rows if r["country"] == "CN" and set(r["items"]) >= {"280530", "284610"}]
    assert rare and all(r["rendering"]["actor"] == "China" for r in rare)
    assert any(r["rendering"]["goods"] == "rare earths" for r in rare)


def test_assessments_latest_per_unit(client: TestClient, api: Api) -> None:
    page = _get(client, api, "/assessments", limit=500)
    rows = page["items"]
    assert rows and page["total"] == len(rows)
    units = [(r["group"], r["supplier"], r["importer"]) for r in rows]
    assert len(units) == len(set(units))
    assert isinstance(rows[0]["explanation"], list) and rows[0]["explanation"][0]["kind"]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    high = _get(client, api, "/assessments", level="caution", limit=500)["items"]
    assert all(LEVELS.index(r["level"]) >= LEVELS.index("caution") for r in high)
    assert len(high) == sum(1 for r in rows if LEVELS.index(r["level"]) >= 2)


# -- OpenAPI ----------------------------------------------------------------------------------
def test_openapi_document(client: TestClient) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    doc = client.get("/openapi.json").json()
    validator.validate(doc)
    assert set(doc["paths"]) == {
        f"{V1}/now",
        f"{V1}/alerts/{{alert_id}}/card",
        f"{V1}/items",
        f"{V1}/items/{{hs}}",
        f"{V1}/countries",
        f"{V1}/alerts",
        f"{V1}/alerts.csv",
        f"{V1}/alerts/{{alert_id}}",
        f"{V1}/events",
        f"{V1}/assessments",
        f"{V1}/indicators/dependence",
        f"{V1}/indicators/anomalies",
        f"{V1}/backtest",
        f"{V1}/sources",
        f"{V1}/feed",
        f"{V1}/status",
    }
    # The dashboard's pages are for people, not part of the API's contract.
    assert not any(p.startswith(("/items", "/alerts", "/login", "/static")) for p in doc["paths"])
    # every plain field of the wire models shows an example (nested models have their own)
    schemas = doc["components"]["schemas"]
    for name in (
        "ItemOut",
        "CountryOut",
        "AlertOut",
        "AlertVersionOut",
        "EvidenceOut",
        "EventOut",
        "AssessmentOut",
        "StatusOut",
        "FreshnessOut",
        "FigureOut",
        "AlternativeOut",
    ):
        for field, spec in schemas[name]["properties"].items():
            assert "examples" in spec, (name, field)


def test_status_says_how_current_the_answers_are(client: TestClient, api: Api) -> None:
    status = _get(client, api, "/status")
    if api.settings.store.startswith("postgresql"):
        assert status["backend"] == "postgresql" and status["data_as_of"] is None
        return
    assert status["backend"] == "duckdb" and status["copies"] >= 1
    as_of = dt.datetime.fromisoformat(status["data_as_of"])
    assert abs((dt.datetime.now(dt.UTC) - as_of).total_seconds()) < 3600
    assert status["behind"] is False


def test_board_pages_are_kept_but_never_stale(client: TestClient, api: Api) -> None:
    """The serialised board is reused until the store changes, then rebuilt."""
    first = _get(client, api, "/alerts", include_cancelled="true", limit=3)
    assert _get(client, api, "/alerts", include_cancelled="true", limit=3) == first
    newest, tlp = first["items"][0]["id"], first["items"][0]["tlp"]
    changed = "CLEAR" if tlp != "CLEAR" else "GREEN"
    with Store(api.settings.store) as store:
        before = store.query("SELECT version, payload FROM alerts WHERE alert_id = ?", [newest])
        for row in before:
            payload = {**json.loads(row["payload"]), "tlp": changed}
            store.execute(
                "UPDATE alerts SET payload = ? WHERE alert_id = ? AND version = ?",
                [json.dumps(payload), newest, row["version"]],
            )
    try:
        again = _get(client, api, "/alerts", include_cancelled="true", limit=3)
        assert again["items"][0]["tlp"] == changed
    finally:
        with Store(api.settings.store) as store:
            for row in before:
                store.execute(
                    "UPDATE alerts SET payload = ? WHERE alert_id = ? AND version = ?",
                    [row["payload"], newest, row["version"]],
                )


@pytest.mark.parametrize(
    "path", ["/api/v1/assessments?item=%00", "/api/v1/items/28%0005", "/api/v1/events?country=a%00"]
)
def test_nul_characters_are_refused_not_a_500(client: TestClient, api: Api, path: str) -> None:
    answer = client.get(path, headers=api.auth())
    assert answer.status_code == 422
    assert answer.json() == {"detail": "NUL characters are not accepted"}
    assert answer.headers["cache-control"] == "no-store"


def test_every_bad_query_parameter_is_listed(client: TestClient, api: Api) -> None:
    # Typed parameters (dates, limits) and looked-up ones (countries, levels) in one answer.
    bad = client.get(
        f"{V1}/alerts",
        headers=api.auth(),
        params={
            "level": "dire",
            "country": "Atlantis",
            "importer": "Nowhere",
            "since": "2020-13-01",
            "limit": 0,
        },
    )
    assert bad.status_code == 422
    named = {tuple(e["loc"]) for e in bad.json()["detail"]}
    assert named == {("query", name) for name in ("level", "country", "importer", "since", "limit")}
    backwards = client.get(
        f"{V1}/alerts", headers=api.auth(), params={"since": "2025-12-31", "until": "2025-01-01"}
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["query", "since"]
    assessments = client.get(
        f"{V1}/assessments", headers=api.auth(), params={"level": "x", "importer": "Atlantis"}
    )
    assert {e["loc"][1] for e in assessments.json()["detail"]} == {"level", "importer"}


def test_alerts_as_csv(client: TestClient, api: Api) -> None:
    import csv
    import io

    params = {"include_cancelled": True, "importer": "KR"}
    page = _get(client, api, "/alerts", limit=500, **params)
    r = client.get(f"{V1}/alerts.csv", headers=api.auth(), params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == [a["id"] for a in page["items"]]
    first = rows[0]
    assert first["watching_country"] == "KR" and first["item_hs"] == page["items"][0]["item"]
    assert first["status"] in ("open", "closed") and first["tlp"] == page["items"][0]["tlp"]
    every = {"include_cancelled": True, "level": "normal"}
    as_read = client.get(f"{V1}/alerts.csv", headers=api.auth(), params=every).text
    as_admin = client.get(f"{V1}/alerts.csv", headers=api.auth("admin"), params=every).text
    assert RED_ID not in as_read and RED_ID in as_admin
    doc = client.get("/openapi.json").json()
    assert "text/csv" in doc["paths"][f"{V1}/alerts.csv"]["get"]["responses"]["200"]["content"]
