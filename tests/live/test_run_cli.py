"""The interface other tools use: `ews sources add` then `ews run --once` stores the feed's new
items, extracts events and assesses; a second run fetches nothing new; status and alerts as
JSON show what happened. The feed is real Vietnamese news of 9-10 Oct 2025 (China's rare-earth
export controls), served on loopback and dated today, as a feed publishing them now would."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ews.cli import app
from tests.live.feeds import rss, vi_items
from tests.live.loopback import Answer, loopback

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    store = tmp_path / "run.duckdb"
    monkeypatch.setenv("EWS_STORE", str(store))
    monkeypatch.setenv("EWS_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("EWS_FETCH_HOST_INTERVAL", "0")
    monkeypatch.setenv("EWS_FETCH_BACKOFF", "0")
    monkeypatch.setenv("EWS_NODE_KEY", str(tmp_path / "no-key.pem"))
    monkeypatch.setenv("COLUMNS", "200")
    from ews.settings import get_settings

    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()


def _json(text: str) -> object:
    return json.loads(text[text.index("[") :])


def test_add_run_again_status_and_alerts(env: Path, tmp_path: Path) -> None:
    items = vi_items(("đất hiếm",), since="2025-10-09", until="2025-10-12", limit=12)
    assert len(items) >= 5, "the real data holds the Oct 2025 rare-earth news"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    with loopback() as server:
        feed = server.route(
            "/rss/kinh-doanh.rss",
            Answer(
                rss(items, published=now),
                headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"},
            ),
        )
        added = runner.invoke(
            app,
            ["sources", "add", "vi-test", feed, "--kind", "rss", "--lang", "vi", "--every", "15m"],
        )
        assert added.exit_code == 0, added.output
        first = runner.invoke(app, ["run", "--once"])
        assert first.exit_code == 0, first.output
        assert f"{len(items)} new documents" in first.output
        assert "assessed" in first.output
        second = runner.invoke(app, ["run", "--once"])  # not due for 15 minutes
        assert second.exit_code == 0, second.output
        assert "polled 0 sources" in second.output
        forced = runner.invoke(app, ["run", "--once", "--force"])  # due or not: a 304
        assert forced.exit_code == 0, forced.output
        assert "1 unchanged" in forced.output and "0 new documents" in forced.output
        feeds = server.requests("/rss/kinh-doanh.rss")
        assert len(feeds) == 2
        assert feeds[1].headers.get("If-None-Match") == '"v1"'
        assert feeds[0].headers["User-Agent"].startswith("EWS-supply-chain-early-warning/")
        assert server.requests("/robots.txt"), "robots.txt is read before the first page"

    status = runner.invoke(app, ["sources", "status", "--format", "json"])
    assert status.exit_code == 0, status.output
    (row,) = _json(status.output)  # type: ignore[misc]
    assert row["id"] == "vi-test" and row["state"] == "ok" and not row["stale"]
    assert row["items_total"] == len(items) and row["last_error"] is None
    assert 7000 <= row["lag_seconds"] <= 7300  # published two hours before the fetch
    assert row["next_poll"] > row["last_success"]

    alerts = runner.invoke(app, ["alerts", "--include-cancelled", "--format", "json"])
    assert alerts.exit_code == 0, alerts.output
    raised = _json(alerts.output)
    assert isinstance(raised, list) and raised, "the rare-earth controls raise an alert"
    rare_earths = [
        a
        for a in raised
        if (a["country"] == "CN" and a["item"].startswith("2805"))
        or (a["country"] == "CN" and "rare" in a["item_name"].lower())
    ]
    assert rare_earths, [(a["item_name"], a["country"], a["level"]) for a in raised]


def test_sources_add_list_remove_and_refusals(env: Path) -> None:
    ok = runner.invoke(
        app,
        [
            "sources",
            "add",
            "bis",
            "https://www.federalregister.gov/api/v1/documents.json",
            "--kind",
            "federal-register",
            "--every",
            "1h",
            "--official",
            "--country",
            "us",
        ],
    )
    assert ok.exit_code == 0, ok.output
    same = runner.invoke(
        app,
        [
            "sources",
            "add",
            "bis",
            "https://www.federalregister.gov/api/v1/documents.json",
            "--kind",
            "federal-register",
            "--every",
            "1h",
            "--official",
            "--country",
            "us",
        ],
    )
    assert same.exit_code == 0 and "unchanged" in same.output
    other = runner.invoke(app, ["sources", "add", "bis", "https://example.org/x", "--kind", "rss"])
    assert other.exit_code == 2 and "--replace" in other.output
    for bad, why in (
        (["sources", "add", "x", "ftp://example.org/feed", "--kind", "rss"], "http"),
        (["sources", "add", "x", "https://example.org/f", "--kind", "telex"], "unknown kind"),
        (
            ["sources", "add", "x", "https://example.org/f", "--kind", "rss", "--every", "5s"],
            "at most every 15 seconds",
        ),
        (["sources", "add", "X Y", "https://example.org/f", "--kind", "rss"], "source id"),
        (
            ["sources", "add", "x", "https://example.org/f", "--kind", "rss", "--lang", "fr"],
            "language",
        ),
        (
            [
                "sources",
                "add",
                "x",
                "https://e.org/",
                "--kind",
                "html-list",
                "--param",
                "link_pattern=(",
            ],
            "regular",
        ),
    ):
        result = runner.invoke(app, bad)
        assert result.exit_code == 2 and why in result.output, (bad, result.output)
    listed = runner.invoke(app, ["sources", "list", "--format", "json"])
    rows = _json(listed.output)
    assert [r["id"] for r in rows] == ["bis"] and rows[0]["country"] == "US"  # type: ignore[index]
    plain = runner.invoke(app, ["sources"])
    assert "pinksheet" in plain.output and "bis" in plain.output
    removed = runner.invoke(app, ["sources", "remove", "bis"])
    assert removed.exit_code == 0
    assert runner.invoke(app, ["sources", "remove", "bis"]).exit_code == 2
    empty = runner.invoke(app, ["sources", "list"])
    assert "ews sources add --defaults" in empty.output


def test_shipped_defaults_are_real_and_complete(env: Path) -> None:
    from ews.sources.live.registry import KINDS, default_sources

    shipped = default_sources()
    langs = {s.lang for s in shipped}
    assert {"en", "ko", "ja", "zh", "vi"} <= langs
    assert all(s.why and s.lag for s in shipped), "each default says why and its lag"
    assert {s.kind for s in shipped} >= set(KINDS) - {"atom"} - {"rss"} | {"rss"}
    official = {s.country for s in shipped if s.official}
    assert {"CN", "JP", "KR", "US"} <= official
    added = runner.invoke(app, ["sources", "add", "--defaults", "--lang", "ko", "--disabled"])
    assert added.exit_code == 0, added.output
    count = sum(1 for s in shipped if s.lang == "ko")
    assert f"{count} of {count} default sources added" in added.output


def test_api_and_dashboard_show_source_health(env: Path, tmp_path: Path) -> None:
    """The same status as `ews sources status`, and a warning on every dashboard page while a
    source is stale."""
    from fastapi.testclient import TestClient

    from ews.access.keys import create_key
    from ews.api.app import create_app
    from ews.settings import get_settings
    from ews.sources.live.registry import LiveSource, SourceState, add_source, save_state
    from ews.store.db import open_waiting
    from tests.web.test_pages import post_login

    store = open_waiting(str(env), timeout=5)
    try:
        add_source(
            store,
            LiveSource(
                id="mofcom",
                kind="html-list",
                url="https://example.org/gg",
                every_seconds=3600,
                official=True,
            ),
            actor="test",
        )
        long_ago = dt.datetime(2026, 1, 1, 9)
        with store.transaction():
            save_state(store, SourceState("mofcom", last_success=long_ago, last_attempt=long_ago))
        _, token = create_key(store, "analyst", scopes=("read",))
    finally:
        store.close()
    with TestClient(create_app(get_settings())) as client:
        answer = client.get("/api/v1/sources", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["stale"] == 1 and body["items"][0]["id"] == "mofcom"
        assert body["items"][0]["state"] == "stale" and body["items"][0]["stale"] is True
        assert client.get("/api/v1/sources").status_code == 401
        login = post_login(client, token)
        assert login.status_code in (302, 303), login.text
        board = client.get("/")
        assert "Stale sources:" in board.text and "mofcom" in board.text
        page = client.get("/sources")
        assert page.status_code == 200 and "1 stale source" in page.text
