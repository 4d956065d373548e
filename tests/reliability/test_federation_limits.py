"""Bounded federation: what a hostile partner or a stranger can make a node read, store and audit.

Every server here listens on loopback only: hostile partners are small ``http.server`` threads
that serve one crafted feed page (and count the bytes they managed to send), the honest partner
and the receiving node are the real node app under uvicorn, in this process so the test can
count how often the store is opened.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from ews.alerts.repository import load_alerts, save_alert
from ews.alerts.signing import generate_key, public_key_text, seal
from ews.api.node import create_app
from ews.federation.exchange import INBOX_PATH, sync_once
from ews.federation.guard import InboxLimits
from ews.federation.partners import add_partner
from ews.store import Store
from tests.federation.helpers import NodeUnderTest, alert, link, make_node
from tests.reliability.conftest import cli_env, run_ews

CAP = 1_000_000  # EWS_FEDERATION_MAX_BYTES, the default the test nodes keep
HUGE = 50_000_000  # the hostile page: 50 times the cap


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- servers ------------------------------------------------------------------------------------
class HostilePartner:
    """Serves every GET with the same crafted body, streamed in 64 kB writes; counts the bytes
    the client took before it hung up, and the requests."""

    def __init__(self, body: Callable[[], Iterable[bytes]]) -> None:
        self.sent = 0
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's naming
                owner.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()  # no length: the page ends when the connection closes
                try:
                    for part in body():
                        self.wfile.write(part)
                        owner.sent += len(part)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the reader stopped: what we want

            def log_message(self, *_: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def serving(app: Any, port: int) -> Iterator[uvicorn.Server]:
    """``app`` under uvicorn on loopback ``port`` (lifespan on, so shutdown hooks run)."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(300):  # bounded wait for the socket (at most 30 s)
        if server.started:
            break
        time.sleep(0.1)
    assert server.started, "server did not start"
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "server did not stop"


def _page(items: bytes) -> list[bytes]:
    return [b'{"node": "EVIL", "items": [', items, b'], "next_cursor": "1", "more": false}']


def _huge_page() -> Iterator[bytes]:
    """One message padded to 50 MB: a page 50 times the cap."""
    yield b'{"node": "EVIL", "items": [{"alg": "Ed25519", "pad": "'
    chunk = b"x" * 65536
    for _ in range(HUGE // len(chunk)):
        yield chunk
    yield b'"}], "next_cursor": "1", "more": false}'


def _rejects(store: Store) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT subject, detail FROM audit_log WHERE action = 'federation.reject' ORDER BY seq"
    )
    return [{"subject": r["subject"], **json.loads(r["detail"])} for r in rows]


# -- finding 2: pulling a partner's feed ---------------------------------------------------------
def test_a_hostile_partner_fails_alone_in_bounded_memory(tmp_path: Path) -> None:
    """Four hostile partners (a 50 MB page, a page nested 100,000 deep, a page of 1,000
    messages when 100 were asked for, a page of 100 garbage messages) are each refused with
    one line and one audit record, the 50 MB page is abandoned near the cap, memory stays
    bounded, and the honest partner after them is still pulled."""
    us = make_node(tmp_path, "US")
    good = make_node(tmp_path, "ZZ", f"http://127.0.0.1:{_free_port()}")  # pulled last: by name
    link(us, good)
    honest = alert("ZZ", 1, "GREEN")
    with good.node.store() as store:
        save_alert(store, honest)
    deep = b"[" * 100_000 + b"]" * 100_000
    hostile = {
        "AA_HUGE": HostilePartner(_huge_page),
        "AB_DEEP": HostilePartner(lambda: _page(deep)),
        "AC_MANY": HostilePartner(lambda: _page(b",".join([b"{}"] * 1000))),
        "AD_JUNK": HostilePartner(lambda: _page(b",".join([b'{"alg": "Ed25519"}'] * 100))),
    }
    try:
        with us.node.store() as store:
            for name, partner in hostile.items():
                add_partner(store, name, partner.url, public_key_text(generate_key()))
            before = len(_rejects(store))
        with serving(create_app(good.node), int(good.url.rsplit(":", 1)[1])):
            tracemalloc.start()
            try:
                report = sync_once(us.node, push=False)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    finally:
        for partner in hostile.values():
            partner.close()

    with us.node.store() as store:
        assert honest in load_alerts(store), report.errors  # the honest partner was pulled
        refusals = _rejects(store)[before:]
    assert report.stored == 1
    # One line per hostile partner, in the order they were pulled.
    assert [e.split(":")[0] for e in report.errors] == [f"pull {n}" for n in hostile], report.errors
    assert "more than 1,000,000 bytes" in report.errors[0]
    assert "nested deeper than 32" in report.errors[1]
    assert "1,000 messages, 100 asked for" in report.errors[2]
    # One audit record per refused page, not one per message in it.
    assert [(r["subject"], r["via"]) for r in refusals] == [(n, f"pull:{n}") for n in hostile]
    assert refusals[3]["count"] == 100 and refusals[3]["reasons"] == {"unsigned": 100}
    # The 50 MB page was abandoned near the cap: asked for with 100, 25, 6 and 1 messages,
    # each read stopped past 1 MB. What the server got rid of also counts the loopback socket
    # buffers (a few MB), so the bound is loose; reading it all would be 200 MB.
    huge = hostile["AA_HUGE"]
    assert huge.requests == 4
    assert huge.sent < huge.requests * (CAP + 16_000_000), huge.sent
    # Memory: a 1 MB page buffer and its parse, not the 50 MB page (and not 345 MB).
    print(f"huge page: {huge.sent:,} bytes sent in {huge.requests} requests; peak {peak:,}")
    assert peak < 12_000_000, f"peak {peak:,} bytes traced"


# -- finding 3: the inbox ------------------------------------------------------------------------
@pytest.fixture
def inbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[NodeUnderTest, NodeUnderTest, list[int]]]:
    """US's node app on loopback (burst 20, 1 request/s, one refusal record per 5 min); the
    list counts how often its store was opened."""
    kr = make_node(tmp_path, "KR")
    us = make_node(tmp_path, "US", f"http://127.0.0.1:{_free_port()}")
    link(kr, us)
    opened = [0]
    real = us.node.store

    def counting() -> AbstractContextManager[Store]:
        opened[0] += 1
        return real()

    app = create_app(us.node, limits=InboxLimits(rate=1.0, burst=20, refusal_window=300))
    monkeypatch.setattr(us.node, "store", counting)
    with serving(app, int(us.url.rsplit(":", 1)[1])):
        yield kr, us, opened
    monkeypatch.setattr(us.node, "store", real)


def _garbage(i: int, kr_key: Any) -> tuple[bytes, str]:
    """Twelve kinds of refusable body, by turns."""
    now = dt.datetime.now(dt.UTC)
    forged = seal(alert("KR", 1, "GREEN"), generate_key(), sender="KR", recipient="US", now=now)
    stranger = seal(alert("XX", 1, "GREEN"), kr_key, sender="XX", recipient="US", now=now)
    kinds: list[tuple[bytes, str]] = [
        (bytes(range(256)) * 4, "application/json"),
        (b"not json at all", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"alg": "Ed25519"}', "application/json"),
        (json.dumps(forged).encode(), "application/json"),
        (json.dumps(stranger).encode(), "application/json"),
        (b"[" * 5000, "application/json"),
        (b"a=1&b=2", "application/x-www-form-urlencoded"),
        (b'{"alg": "Ed25519", "envelope": {"v": 1}, "signature": "AA"}', "application/json"),
        (b'{"envelope": {}}', "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b"", "application/json"),
    ]
    return kinds[i % len(kinds)]


def test_an_inbox_flood_is_refused_before_the_store_and_audited_in_bounded_records(
    inbox: tuple[NodeUnderTest, NodeUnderTest, list[int]],
) -> None:
    kr, us, opened = inbox
    url = us.url + INBOX_PATH
    with httpx.Client(timeout=10) as client:
        # A partner catching up (more messages than the burst) is never slowed: accepted
        # messages give their token back.
        now = dt.datetime.now(dt.UTC)
        for n in range(1, 26):
            msg = seal(
                alert("KR", n % 9 + 1, "GREEN"), kr.node.key, sender="KR", recipient="US", now=now
            )
            r = client.post(url, json=msg)
            assert r.status_code == 200, r.text
        opened_before = opened[0]
        start = time.monotonic()
        answers = [
            client.post(url, content=b, headers={"Content-Type": t})
            for b, t in (_garbage(i, kr.node.key) for i in range(500))
        ]
        elapsed = time.monotonic() - start
    statuses = [a.status_code for a in answers]
    assert all(400 <= s < 500 for s in statuses), sorted(set(statuses))
    # The burst, then 429 for all but the tokens that one request per second brings back.
    assert 429 not in statuses[:20]
    limited = [a for a in answers if a.status_code == 429]
    assert len(limited) >= 480 - int(elapsed) - 1, (len(limited), elapsed)
    assert all(int(a.headers["Retry-After"]) >= 1 for a in limited)
    assert {a.json()["error"] for a in limited} == {"rate_limited"}
    flood_opened = opened[0] - opened_before
    with us.node.store() as store:
        records = [r for r in _rejects(store) if r["via"] == "push"]
    # One record per (source, reason) in the window, whatever the number of requests: the
    # five reasons of the twelve kinds of garbage (all sent within the burst), and the 429s.
    reasons = sorted(r["reason"] for r in records)
    expected = ["malformed", "unsigned", "bad_signature", "unknown_sender", "content_type"]
    assert reasons == sorted([*expected, "rate_limited"]), records
    assert {r["source"] for r in records} == {"127.0.0.1"}
    # The store was opened to write those records, never to look at a message.
    assert flood_opened == len(records), (flood_opened, len(records))


def test_counted_refusals_add_up_when_the_server_stops(tmp_path: Path) -> None:
    kr = make_node(tmp_path, "KR")
    us = make_node(tmp_path, "US", f"http://127.0.0.1:{_free_port()}")
    link(kr, us)
    app = create_app(us.node, limits=InboxLimits(rate=1.0, burst=20, refusal_window=300))
    with serving(app, int(us.url.rsplit(":", 1)[1])), httpx.Client(timeout=10) as client:
        for i in range(200):
            body, content_type = _garbage(i, kr.node.key)
            client.post(us.url + INBOX_PATH, content=body, headers={"Content-Type": content_type})
    with us.node.store() as store:
        records = [r for r in _rejects(store) if r["via"] == "push"]
        assert store.verify_audit()[0]
    # Every refusal is in a record's count; at most two records per (source, reason): the
    # first of the window and the count written at shutdown.
    assert sum(r["count"] for r in records) == 200
    per_kind: dict[tuple[str, str], int] = {}
    for r in records:
        per_kind[(r["source"], r["reason"])] = per_kind.get((r["source"], r["reason"]), 0) + 1
    assert max(per_kind.values()) <= 2, per_kind


def test_deeply_nested_json_gets_a_4xx_and_one_audit_record(
    inbox: tuple[NodeUnderTest, NodeUnderTest, list[int]],
) -> None:
    _, us, opened = inbox
    before = opened[0]
    with httpx.Client(timeout=30) as client:
        answers = [
            client.post(
                us.url + INBOX_PATH,
                content=b"[" * 100_000,
                headers={"Content-Type": "application/json"},
            )
            for _ in range(3)
        ]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [(422, "malformed")] * 3
    assert "nested deeper than 32" in answers[0].json()["detail"]
    assert opened[0] - before == 1  # to write the one record; never to look at the message
    with us.node.store() as store:
        records = [r for r in _rejects(store) if r["via"] == "push"]
    assert len(records) == 1
    assert records[0]["reason"] == "malformed" and records[0]["source"] == "127.0.0.1"


# -- finding 3: ews import -----------------------------------------------------------------------
def test_import_of_hostile_files_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    node = make_node(tmp_path, "US")
    env = cli_env(
        Path(node.node.config.store),
        EWS_NODE_ID="US",
        EWS_NODE_KEY=str(node.node.config.key_path),
    )
    envelope = {"alg": "Ed25519", "envelope": {"payload": {}}, "signature": "x"}
    deep_payload = json.dumps(envelope).replace("{}", '{"a": ' * 5000 + "1" + "}" * 5000)
    files = {
        "nested.json": b"[" * 100_000,
        "deep-envelope.json": deep_payload.encode(),
        "binary.bin": bytes(range(256)) * 64,
        "huge.json": b"[" * 2_000_000,
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = run_ews(["import", str(path)], env)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (name, result.stderr[-2000:])
        assert len(lines) == 1 and "Traceback" not in result.stderr, (name, result.stderr[-2000:])
        assert name in lines[0] and result.stdout == ""
