"""The analyst's view: /now and GET /api/v1/now, and the alert card (page and API)."""

from __future__ import annotations

import datetime as dt
import re

from ews.alerts.records import LEVELS
from tests.api.conftest import Api
from tests.web.test_pages import _signed_in


def _now(api: Api, **params: str) -> dict[str, object]:
    r = api.client().get("/api/v1/now", params=params, headers=api.auth())
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def _sample_day(api: Api) -> str:
    """The newest data day of the bundled sample: its news end in Aug 2026, so on later days
    every alert has lapsed (which the view says, see below); on this day some are open."""
    return str(_now(api, country="KR")["newest_data"])


def test_now_ranks_open_alerts_by_level_then_score(api: Api) -> None:
    body = _now(api, country="KR", as_of=_sample_day(api))
    assert body["country"] == "KR"
    alerts = body["alerts"]
    assert isinstance(alerts, list) and alerts, body.get("empty")
    keys = [(-LEVELS.index(a["level"]), -a["score"]) for a in alerts]
    assert keys == sorted(keys)
    for a in alerts:
        # Korea's own view, world supply, or a supplier Korea is known to buy from; never
        # another watcher's view.
        assert a["importer"] in (None, "KR")
        assert a["scope"] in ("own watchlist", "world supply", "supplier of South Korea")
        assert a["this_week"] and a["headline"]
        assert set(a["exposure"]) >= {"dependence", "received", "alternatives", "unknown"}
        # Exposure is a figure with its source, or unknown said in words: never blank.
        stake = a["exposure"]
        assert stake["dependence"] or stake["received"] or stake["unknown"]
        if stake["dependence"]:
            assert stake["dependence"]["source"]


def test_now_says_how_fresh_each_source_is(api: Api) -> None:
    body = _now(api, country="JP")
    rows = {f["source"]: f for f in body["freshness"]}  # type: ignore[union-attr]
    # The bundled sample: Pink Sheet prices and China's exports, both long past their
    # publication schedule by now, so they are stale and say so.
    assert rows["pinksheet"]["kind"] == "prices" and rows["pinksheet"]["stale"]
    assert "should be public by now" in rows["pinksheet"]["note"]
    assert rows["china_exports"]["newest"] == "2024-12-31"
    # Looking from a day inside the sample's own time, the prices are fresh.
    newest = dt.date.fromisoformat(rows["pinksheet"]["newest"])
    early = _now(api, country="JP", as_of=(newest + dt.timedelta(days=10)).isoformat())
    fresh = {f["source"]: f for f in early["freshness"]}  # type: ignore[union-attr]
    assert not fresh["pinksheet"]["stale"]


def test_now_refuses_bad_parameters(api: Api) -> None:
    c = api.client()
    assert (
        c.get("/api/v1/now", params={"country": "Atlantis"}, headers=api.auth()).status_code == 422
    )
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    r = c.get("/api/v1/now", params={"as_of": future}, headers=api.auth())
    assert r.status_code == 422 and "future" in r.text
    assert c.get("/api/v1/now").status_code == 401


def test_now_before_any_alert_says_so(api: Api) -> None:
    body = _now(api, country="KR", as_of="2000-01-03")
    assert body["alerts"] == []
    assert "No alerts have been raised on this node yet" in str(body["empty"])
    # Today, with the sample's news months old: nothing open, and the view says why.
    today = _now(api, country="KR")
    if not today["alerts"]:
        assert "newest data held are from" in str(today["empty"])


def test_alert_card_api(api: Api) -> None:
    day = _sample_day(api)
    body = _now(api, country="KR", as_of=day)
    first = body["alerts"][0]  # type: ignore[index]
    r = api.client().get(
        f"/api/v1/alerts/{first['id']}/card", params={"as_of": day}, headers=api.auth()
    )
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["reason"] and all(isinstance(line, str) and line for line in card["reason"])
    assert card["actions"]  # an open alert at attention or above has steps to take
    assert card["history"][0]["text"].startswith("raised at ")
    assert card["evidence"] and all("words" in e for e in card["evidence"])
    assert "Score" in card["score_formula"]  # the formula stays, for specialists
    missing = api.client().get("/api/v1/alerts/nope@x/card", headers=api.auth())
    assert missing.status_code == 404


def test_now_page_and_alert_card_page(api: Api) -> None:
    c = _signed_in(api)
    page = c.get(f"/now?country=KR&as_of={_sample_day(api)}")
    assert page.status_code == 200
    html = page.text
    assert "What is at risk for South Korea now" in html
    assert 'id="freshness-table"' in html and 'id="now-stale"' in html
    levels = re.findall(r'<li class="card level-border-(\w+)"', html)
    assert levels and [LEVELS.index(x) for x in levels] == sorted(
        (LEVELS.index(x) for x in levels), reverse=True
    )
    link = re.search(r'href="(/alerts/[^"?]+)\?watcher=KR"', html)
    assert link is not None
    card = c.get(link[1] + "?watcher=KR").text
    for section in ("card-reason", "card-exposure", "card-actions", "card-history"):
        assert f'id="{section}"' in card
    assert "How the score was computed" in card
    assert "+00:00" not in card  # timestamps read as dates, not ISO strings
    # The default country is the node's first watching country.
    assert "South Korea" in c.get("/now").text
    assert c.get("/now?country=Atlantis").status_code == 422


HANGUL = re.compile(r"[\uac00-\ud7a3]")
KANA = re.compile(r"[\u3040-\u30ff]")


def test_now_and_card_api_in_korean_and_japanese(api: Api) -> None:
    """?lang=ko|ja: the sentences in the language, the keys and level codes as in English."""
    day = _sample_day(api)
    english = _now(api, country="KR", as_of=day)
    ko = _now(api, country="KR", as_of=day, lang="ko")
    assert set(ko) == set(english) and len(ko["alerts"]) == len(english["alerts"])  # type: ignore[arg-type]
    for a in ko["alerts"]:  # type: ignore[attr-defined]
        assert a["scope"] in ("자국 감시 목록", "세계 공급", "한국의 공급국")
        assert HANGUL.search(a["this_week"]) and a["level"] in LEVELS
        stake = a["exposure"]
        said = (stake["dependence"] or stake["received"] or {}).get("text") or stake["unknown"][0]
        assert HANGUL.search(said)
    assert all(HANGUL.search(f["note"]) for f in ko["freshness"])  # type: ignore[attr-defined]
    first = english["alerts"][0]  # type: ignore[index]
    r = api.client().get(
        f"/api/v1/alerts/{first['id']}/card",
        params={"as_of": day, "lang": "ja"},
        headers=api.auth(),
    )
    assert r.status_code == 200, r.text
    card = r.json()
    assert re.match(r"^(注意|警戒|厳重警戒|深刻)で発令", card["history"][0]["text"])
    assert card["history"][0]["level"] in LEVELS
    assert card["actions"] and all(KANA.search(step) for step in card["actions"])
    assert any(KANA.search(line) for line in card["reason"]) and KANA.search(card["this_week"])
    assert "Score" in card["score_formula"]  # the formula is for specialists: as computed


def test_api_refuses_an_unknown_language(api: Api) -> None:
    c = api.client()
    r = c.get("/api/v1/now", params={"lang": "xx"}, headers=api.auth())
    assert r.status_code == 422 and "lang" in r.text
    first = _now(api, country="KR", as_of=_sample_day(api))["alerts"][0]  # type: ignore[index]
    card = c.get(f"/api/v1/alerts/{first['id']}/card", params={"lang": "fr"}, headers=api.auth())
    assert card.status_code == 422


def test_now_and_card_pages_speak_the_page_language(api: Api) -> None:
    c = _signed_in(api)
    day = _sample_day(api)
    ko = c.get(f"/now?country=KR&as_of={day}&lang=ko").text
    assert re.search(r'<p class="note">(자국 감시 목록|세계 공급|한국의 공급국) · ', ko)
    link = re.search(r'href="(/alerts/[^"?]+)\?watcher=KR"', ko)
    assert link is not None
    ja = c.get(f"{link[1]}?watcher=KR&lang=ja").text
    history = re.search(r'<ol id="card-history">(.*?)</ol>', ja, re.DOTALL)
    assert history is not None and "で発令" in history[1]
    actions = re.search(r'<ol class="actions">(.*?)</ol>', ja, re.DOTALL)
    assert actions is not None and KANA.search(actions[1])
