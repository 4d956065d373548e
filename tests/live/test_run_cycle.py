"""The node's cycle: safe to kill between any two writes, observations stored, metrics and
health served, and an alert raised from a loopback feed reaching a partner node (a separate
process) signed, the same day."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from ews.run.cycle import CycleReport, RunOptions, run_cycle, run_forever
from ews.run.metrics import RunMetrics, serve_metrics
from ews.settings import Settings
from ews.sources.live.registry import LiveSource, add_source, load_states
from ews.store.db import open_waiting
from tests.live.feeds import rss, vi_items
from tests.live.loopback import Answer, loopback

FIXTURES = Path(__file__).parent.parent / "fixtures" / "live"


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        store=str(tmp_path / "node.duckdb"),
        raw_dir=tmp_path / "raw",
        fetch_host_interval=0,
        fetch_backoff=0,
        fetch_retries=0,
        node_key=tmp_path / "absent.pem",
    )


def _add(settings: Settings, *sources: LiveSource) -> None:
    store = open_waiting(settings.store, timeout=5)
    try:
        for s in sources:
            add_source(store, s, actor="test")
    finally:
        store.close()


def _count(settings: Settings, sql: str) -> int:
    store = open_waiting(settings.store, timeout=5)
    try:
        return int(store.execute(sql).fetchone()[0])  # type: ignore[index]
    finally:
        store.close()


def test_a_kill_between_documents_and_state_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    items = vi_items(("đất hiếm",), since="2025-10-09", until="2025-10-12", limit=8)
    now = dt.datetime(2025, 10, 10, 12, tzinfo=dt.UTC)
    body = (FIXTURES / "portwatch-chokepoints.json").read_bytes()
    with loopback() as server:
        feed = server.route("/feed.rss", Answer(rss(items), headers={"ETag": '"f1"'}))
        ports = server.route("/chokepoints/query", Answer(body))
        _add(
            settings,
            LiveSource(id="feed", kind="rss", url=feed, lang="vi", every_seconds=900),
            LiveSource(id="ports", kind="portwatch", url=ports, every_seconds=86400),
        )
        from ews.run import cycle

        real = cycle.record_poll

        def killed(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt  # the node is killed after the documents were written

        monkeypatch.setattr(cycle, "record_poll", killed)
        with pytest.raises(KeyboardInterrupt):
            run_cycle(settings, RunOptions(assess=False), clock=lambda: now)
        docs = _count(settings, "SELECT count(*) FROM documents")
        events = _count(settings, "SELECT count(*) FROM events")
        assert docs == len(items) and events > 0
        assert _count(settings, "SELECT count(*) FROM source_state") == 0

        monkeypatch.setattr(cycle, "record_poll", real)
        report = run_cycle(settings, RunOptions(), clock=lambda: now)
        # Fetched again (the validators were never saved), stored once.
        assert report.polled == 2 and report.failed == 0
        assert report.documents_new == 0 and report.documents_seen == len(items)
        assert _count(settings, "SELECT count(*) FROM documents") == docs
        assert _count(settings, "SELECT count(*) FROM events") == events
        assert _count(settings, "SELECT count(*) FROM transit_observations") == 31
        assert len(server.requests("/feed.rss")) == 2
        store = open_waiting(settings.store, timeout=5)
        try:
            states = load_states(store)
            assert states["feed"].etag == '"f1"' and states["feed"].failures == 0
            fetched = store.query("SELECT outcome, sha256 FROM fetch_log WHERE source_id = 'feed'")
            # Only the finished poll is logged; its bytes name the documents' provenance.
            assert [r["outcome"] for r in fetched] == ["ok"]
            cited = store.query("SELECT DISTINCT file_sha256 FROM documents")
            assert [r["file_sha256"] for r in cited] == [fetched[0]["sha256"]]
        finally:
            store.close()
        again = run_cycle(settings, RunOptions(force=True), clock=lambda: now)
        assert again.not_modified == 1 and again.documents_new == 0


def test_a_failing_source_backs_off_and_does_not_stop_the_others(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    items = vi_items(("đất hiếm",), since="2025-10-09", until="2025-10-12", limit=3)
    now = dt.datetime(2025, 10, 10, 12, tzinfo=dt.UTC)
    with loopback() as server:
        good = server.route("/good.rss", Answer(rss(items)))
        bad = server.route("/bad.rss", Answer(b"", status=500))
        _add(
            settings,
            LiveSource(id="good", kind="rss", url=good, every_seconds=600),
            LiveSource(id="bad", kind="rss", url=bad, every_seconds=600),
        )
        report = run_cycle(settings, RunOptions(assess=False), clock=lambda: now)
        assert (report.polled, report.failed, report.documents_new) == (2, 1, 3)
        assert any(e.startswith("bad: HTTP 500") for e in report.errors)
        later = now + dt.timedelta(minutes=11)
        second = run_cycle(settings, RunOptions(assess=False), clock=lambda: later)
        assert second.polled == 2
        store = open_waiting(settings.store, timeout=5)
        try:
            state = load_states(store)["bad"]
        finally:
            store.close()
        # Two failures: the next try waits two intervals, not one.
        assert state.failures == 2
        assert state.next_due == (later + dt.timedelta(seconds=1200)).replace(tzinfo=None)


def test_daemon_serves_metrics_and_health_and_stops_on_request(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    items = vi_items(("đất hiếm",), since="2025-10-09", until="2025-10-12", limit=4)
    with loopback() as server:
        feed = server.route("/feed.rss", Answer(rss(items)))
        _add(settings, LiveSource(id="feed", kind="rss", url=feed, every_seconds=900))
        metrics = RunMetrics()
        http = serve_metrics(metrics, "127.0.0.1", 0)
        base = f"http://127.0.0.1:{http.server_address[1]}"
        try:
            assert httpx.get(f"{base}/healthz").status_code == 503  # no cycle yet
            stop = threading.Event()
            reports: list[CycleReport] = []

            def done(report: CycleReport) -> None:
                reports.append(report)
                stop.set()

            thread = threading.Thread(
                target=run_forever,
                args=(settings, RunOptions(assess=False)),
                kwargs={"every": 0.2, "metrics": metrics, "stop": stop, "on_cycle": done},
            )
            thread.start()
            thread.join(timeout=60)
            assert not thread.is_alive() and reports[0].documents_new == len(items)
            text = httpx.get(f"{base}/metrics").text
            assert f'ews_documents_total{{source="feed"}} {float(len(items))}' in text
            assert 'ews_fetch_seconds_count{source="feed"} 1.0' in text
            assert "ews_source_lag_seconds" in text and "ews_cycles_total" in text
            health = httpx.get(f"{base}/healthz")
            assert health.status_code == 200 and health.json()["status"] == "ok"
        finally:
            http.shutdown()


def test_status_flags_a_stale_source(tmp_path: Path) -> None:
    from ews.sources.live.registry import SourceState
    from ews.sources.live.status import status_of

    source = LiveSource(id="s", kind="rss", url="https://example.org/f", every_seconds=3600)
    now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    fresh = SourceState("s", last_success=(now - dt.timedelta(hours=2)).replace(tzinfo=None))
    old = replace(fresh, last_success=(now - dt.timedelta(hours=5)).replace(tzinfo=None))
    assert status_of(source, fresh, now=now, stale_after=3).state == "ok"
    stale = status_of(source, old, now=now, stale_after=3)
    assert stale.stale and stale.state == "stale" and "no success for 5 h" in stale.note
    never = status_of(source, None, now=now, stale_after=3)
    assert never.state == "never" and not never.stale
