"""Security: audit tampering detected, XML and gzip bombs refused, secrets never shown or
logged, API keys compared in constant time, TLP:RED never leaves the node."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from typer.testing import CliRunner

from ews.access import keys as keys_module
from ews.access.keys import create_key
from ews.alerts.records import TLPS, Alert
from ews.alerts.repository import save_alert
from ews.alerts.signing import generate_key, make_envelope, seal
from ews.alerts.tlp import Agreement, PartnerPolicy, share_decision
from ews.catalog import Catalog
from ews.cli import app
from ews.errors import EwsError, InputError
from ews.settings import get_settings, project_root
from ews.sources.files import open_input
from ews.sources.ingest import ingest_file
from ews.sources.news import parse_feed, read_jsonl
from ews.sources.registry import ReadContext, get_spec
from ews.sources.sample import sample_files
from ews.store import Store
from ews.text.events_file import read_events
from tests.alerts.strategies import alerts
from tests.api.conftest import RED_ID, Api
from tests.federation.helpers import alert
from tests.reliability.conftest import cli_env, run_ews
from tests.reliability.test_crash import _free_port

runner = CliRunner()
MB = 1 << 20


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store and node key of its own for the CLI (through CliRunner)."""
    monkeypatch.setenv("EWS_STORE", str(tmp_path / "node.duckdb"))
    monkeypatch.setenv("EWS_NODE_ID", "KR")
    monkeypatch.setenv("EWS_NODE_KEY", str(tmp_path / "keys" / "kr.pem"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path / "node.duckdb"
    get_settings.cache_clear()


# -- the audit log -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """A store whose audit log holds real records: ingests and key management."""
    path = tmp_path_factory.mktemp("audit") / "audited.duckdb"
    with Store(str(path)) as store:
        for kind, file in sample_files():
            if kind in ("prices", "trade"):
                ingest_file(store, catalog, file, kind=kind)
        key_id, _ = create_key(store, "analyst", ["read"])
        keys_module.revoke_key(store, key_id)
        for i in range(3):
            store.audit("test", "note", f"n{i}", {"i": i, "text": "données, 데이터"})
    return path


def _audited_store(path: Path, audited: Path) -> None:
    shutil.copyfile(audited, path)


def _swap(con: Any, a: int, b: int) -> None:
    con.execute("UPDATE audit_log SET seq = -1 WHERE seq = ?", [a])
    con.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", [a, b])
    con.execute("UPDATE audit_log SET seq = ? WHERE seq = -1", [b])


def _rehash_one(con: Any) -> None:
    # A careful forger: changes a record and recomputes that record's own hash.
    from ews.store.db import audit_hash

    seq, ts, actor, action, subject, _, prev = con.execute(
        "SELECT seq, ts, actor, action, subject, detail, prev_hash FROM audit_log WHERE seq = 2"
    ).fetchone()
    forged = json.dumps({"rows": 0})
    digest = audit_hash(
        prev=prev, seq=seq, ts=ts, actor=actor, action=action, subject=subject, detail=forged
    )
    con.execute("UPDATE audit_log SET detail = ?, hash = ? WHERE seq = 2", [forged, digest])


TAMPERING: list[tuple[str, Callable[[Any], None], str]] = [
    (
        "modified detail",
        lambda con: con.execute("UPDATE audit_log SET detail = '{\"rows\": 0}' WHERE seq = 2"),
        "record 2: content",
    ),
    (
        "modified actor",
        lambda con: con.execute("UPDATE audit_log SET actor = 'someone' WHERE seq = 4"),
        "record 4: content",
    ),
    (
        "modified time",
        lambda con: con.execute("UPDATE audit_log SET ts = ts + INTERVAL 1 HOUR WHERE seq = 3"),
        "record 3: content",
    ),
    ("recomputed hash", _rehash_one, "record 3: previous hash"),
    ("deleted row", lambda con: con.execute("DELETE FROM audit_log WHERE seq = 3"), "gap"),
    ("deleted first row", lambda con: con.execute("DELETE FROM audit_log WHERE seq = 1"), "gap"),
    ("reordered rows", lambda con: _swap(con, 2, 5), "record 2: previous hash"),
]


@pytest.mark.parametrize(("name", "tamper", "problem"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_audit_verify_detects_tampering(
    env: Path, audited: Path, name: str, tamper: Callable[[Any], None], problem: str
) -> None:
    _audited_store(env, audited)
    intact = runner.invoke(app, ["audit", "verify", "--store", str(env)])
    assert intact.exit_code == 0, intact.output
    assert "audit log intact: 8 records; head 8:" in intact.stdout
    with Store(str(env)) as store:
        tamper(store.con)
    result = runner.invoke(app, ["audit", "verify", "--store", str(env)])
    assert result.exit_code == 1, f"{name} not detected: {result.output}"
    assert "audit log altered" in result.stderr and problem in result.stderr


def test_records_cut_off_the_end_are_caught_by_an_anchor(env: Path, audited: Path) -> None:
    _audited_store(env, audited)
    head = runner.invoke(app, ["audit", "verify", "--store", str(env)]).stdout.split("head ")[1]
    anchor = head.strip()
    assert runner.invoke(app, ["audit", "verify", "--anchor", anchor]).exit_code == 0
    with Store(str(env)) as store:
        store.con.execute("DELETE FROM audit_log WHERE seq >= 6")
    # What a hash chain cannot see by itself: a log cut short is still a valid chain...
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    # ...but not one that holds the record noted earlier.
    result = runner.invoke(app, ["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 1
    assert "record 8: missing" in result.stderr
    bad = runner.invoke(app, ["audit", "verify", "--anchor", "8:abc"])
    assert bad.exit_code == 2 and "SEQ:HASH" in bad.stderr


def test_anchor_detects_a_rewritten_chain(env: Path, audited: Path) -> None:
    _audited_store(env, audited)
    anchor = (
        runner.invoke(app, ["audit", "verify", "--store", str(env)])
        .stdout.split("head ")[1]
        .strip()
    )
    from ews.store.db import GENESIS_HASH, audit_hash

    with Store(str(env)) as store:  # every record rewritten, every hash recomputed
        prev = GENESIS_HASH
        for r in store.query("SELECT * FROM audit_log ORDER BY seq"):
            detail = json.dumps({"rewritten": r["seq"]})
            digest = audit_hash(
                prev=prev,
                seq=r["seq"],
                ts=r["ts"],
                actor=r["actor"],
                action=r["action"],
                subject=r["subject"],
                detail=detail,
            )
            store.con.execute(
                "UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                [detail, prev, digest, r["seq"]],
            )
            prev = digest
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 1 and "record 8: not the anchor" in result.stderr


# -- XML: external entities and bombs ------------------------------------------------------------
SECRET_TEXT = "TOP-SECRET-0b7e1c"


def _feed(doctype: str, title: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n{doctype}\n<rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><description>Trung Quốc cấm xuất khẩu gali</description>"
        "<link>https://a.example.invalid/1</link></item></channel></rss>"
    ).encode()


def test_feed_external_entities_are_not_read(tmp_path: Path, env: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_TEXT)
    feed = tmp_path / "xxe.xml"
    feed.write_bytes(
        _feed(f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>', "news &xxe; here")
    )
    docs = parse_feed(
        feed.read_bytes(),
        source_id="news-feed",
        file_name="xxe.xml",
        file_sha256="0" * 64,
        skipped={},
    )
    assert all(SECRET_TEXT not in d.title + d.text for d in docs)
    result = runner.invoke(app, ["ingest", "news", str(feed)])
    assert SECRET_TEXT not in result.output
    with Store(str(env)) as store:
        stored = store.query("SELECT title, body FROM documents")
    assert all(SECRET_TEXT not in r["title"] + r["body"] for r in stored)


BOMB_DTD = (
    '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]>"
)  # &i; would be 50 * 10**8 bytes (5 GB) if expanded


def test_feed_entity_bomb_is_not_expanded() -> None:
    tracemalloc.start()
    try:
        try:
            docs = parse_feed(
                _feed(BOMB_DTD, "&i;"),
                source_id="news-feed",
                file_name="bomb.xml",
                file_sha256="0" * 64,
                skipped={},
            )
        except InputError:
            docs = []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(len(d.title) + len(d.text) < 10_000 for d in docs)
    assert peak < 100 * MB, f"parsing the bomb took {peak / MB:.0f} MB"


# -- gzip bombs --------------------------------------------------------------------------------
def _gzip_bomb(
    path: Path, *, lines_before: list[bytes], endless: int, lines_after: list[bytes]
) -> None:
    with gzip.open(path, "wb", compresslevel=9) as out:
        for line in lines_before:
            out.write(line + b"\n")
        chunk = b"a" * MB
        for _ in range(endless // MB):
            out.write(chunk)  # one line of `endless` bytes, no newline inside
        out.write(b"\n")
        for line in lines_after:
            out.write(line + b"\n")


def _line(doc_id: str) -> bytes:
    return json.dumps(
        {"id": doc_id, "title": "Trung Quốc cấm xuất khẩu gali", "published": "2025-10-09"}
    ).encode()


def test_news_gzip_with_an_endless_line_is_read_in_bounded_memory(
    tmp_path: Path, catalog: Catalog
) -> None:
    path = tmp_path / "bomb.jsonl.gz"
    # 120 MB of one line in ~120 kB of gzip; documents before and after it must still be read.
    _gzip_bomb(path, lines_before=[_line("a")], endless=120 * MB, lines_after=[_line("b")])
    assert path.stat().st_size < 2 * MB
    ctx = ReadContext(
        spec=get_spec("news-jsonl"), catalog=catalog, file=open_input(path, max_bytes=10 * MB)
    )
    tracemalloc.start()
    try:
        ids = [d.doc_id for d in read_jsonl(ctx)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ids == ["a", "b"]
    assert ctx.skipped == {"document over the size limit": 1}
    assert peak < 40 * MB, f"reading took {peak / MB:.0f} MB"


def test_events_gzip_bomb_is_refused_in_bounded_memory(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "events.jsonl.gz"
    _gzip_bomb(path, lines_before=[], endless=100 * MB, lines_after=[])
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="gzip bomb"):
            read_events(path, catalog, max_bytes=20 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 60 * MB, f"refusing took {peak / MB:.0f} MB"


def test_events_gzip_members_and_truncation(tmp_path: Path, catalog: Catalog) -> None:
    line = (
        b'{"event_id": "e1", "doc_id": "d1", "lang": "vi", "event_type": "export_restriction", '
        b'"items": ["280530"], "country": "CN", "date": "2025-10-09", "evidence": "x", '
        b'"confidence": 0.9}\n'
    )
    two = tmp_path / "two.jsonl.gz"
    two.write_bytes(gzip.compress(line) + gzip.compress(line.replace(b"e1", b"e2")))
    assert [e.event_id for e, _ in read_events(two, catalog, max_bytes=MB)] == ["e1", "e2"]
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(line * 50)[:-12])
    with pytest.raises(InputError, match="broken gzip"):
        read_events(cut, catalog, max_bytes=MB)
    junk = tmp_path / "junk.jsonl.gz"
    junk.write_bytes(b"\x1f\x8b" + zlib.compress(b"not a gzip"))
    with pytest.raises(InputError, match="broken gzip"):
        read_events(junk, catalog, max_bytes=MB)


# -- API keys ----------------------------------------------------------------------------------
def test_keys_are_compared_in_constant_time(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _, token = create_key(store, "analyst", ["read"])
    calls: list[tuple[str, str]] = []
    real = keys_module.hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return bool(real(a, b))

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert keys_module.authenticate(store, forged) is None
    assert keys_module.authenticate(store, token) is not None
    # Both answers came from the constant-time comparison of hashes, never from `==`.
    stored = keys_module.hash_token(token)
    assert calls == [(stored, keys_module.hash_token(forged)), (stored, stored)]


def test_tokens_are_never_stored_listed_or_logged(
    env: Path, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    created = runner.invoke(app, ["keys", "create", "analyst", "--scope", "read"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("ews_") and created.stdout.count(token) == 1
    listed = runner.invoke(app, ["keys", "list"])
    assert token not in listed.output and token.split("_")[1] in listed.output
    # Not in the file either, in any form but its hash (the store is closed: all on disk).
    raw = env.read_bytes() + b"".join(p.read_bytes() for p in env.parent.glob("*.wal"))
    assert token.encode() not in raw
    # The secret is what follows the key id (it may itself contain "_").
    assert token.split("_", 2)[2].encode() not in raw

    # An API server's logs at DEBUG, for a good, a forged and a malformed token.
    caplog.set_level(logging.DEBUG)
    client = api.client()
    good = api.tokens["read"]
    forged = good[:-6] + "ZZZZZZ"
    for tok in (good, forged, "ews_nonsense"):
        for headers in ({"Authorization": f"Bearer {tok}"}, {"X-API-Key": tok}):
            answer = client.get("/api/v1/alerts", headers=headers)
            assert answer.status_code in (200, 401)
            assert tok not in answer.text
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for tok in (good, forged):
        assert tok not in text and tok.split("_", 2)[2] not in text


def test_serve_logs_no_token(tmp_path: Path, api: Api) -> None:
    port = _free_port()
    env = cli_env(api.settings.store)  # a file, or a server URL (kept as text)
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ews.cli", "serve", "--port", str(port)],
            env=env,
            cwd=project_root(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):  # bounded wait for the server (at most 30 s)
                try:
                    httpx.get(f"{base}/openapi.json", timeout=1)
                    break
                except httpx.HTTPError:
                    if proc.poll() is not None:
                        pytest.fail(log.read_text())
                    import time

                    time.sleep(0.1)
            good = api.tokens["read"]
            codes = [
                httpx.get(f"{base}/api/v1/alerts", headers=h, timeout=10).status_code
                for h in (
                    {"Authorization": f"Bearer {good}"},
                    {"X-API-Key": good[:-3] + "xyz"},
                )
            ]
            assert codes == [200, 401]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    text = log.read_text()
    assert "GET /api/v1/alerts" in text  # the access log is on, and shows no token
    assert good not in text and good[:-3] not in text


PASSPHRASE = "correct horse battery staple 7c1f"


def test_passphrase_never_shown(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "node.pem"
    env = cli_env(
        tmp_path / "node.duckdb",
        EWS_NODE_ID="KR",
        EWS_NODE_KEY=str(key),
        EWS_NODE_KEY_PASSPHRASE=PASSPHRASE,
    )
    outputs = [run_ews(["keys", "init"], env), run_ews(["keys", "show"], env)]
    assert all(r.returncode == 0 for r in outputs), outputs
    assert PASSPHRASE.encode() not in key.read_bytes()
    assert b"ENCRYPTED" in key.read_bytes()
    wrong = dict(env, EWS_NODE_KEY_PASSPHRASE=PASSPHRASE[::-1])
    outputs += [
        run_ews(["keys", "show"], wrong),
        run_ews(["node", "serve", "--port", "9"], wrong),
        run_ews(["federation", "status"], env),
        run_ews(["info"], env),
    ]
    assert [r.returncode for r in outputs[2:4]] == [2, 2]  # refused with one line, no traceback
    for result in outputs:
        shown = result.stdout + result.stderr
        assert PASSPHRASE not in shown and PASSPHRASE[::-1] not in shown
        assert "Traceback" not in shown
    from ews.settings import Settings

    settings = Settings(node_key_passphrase=PASSPHRASE)  # type: ignore[arg-type]
    assert PASSPHRASE not in repr(settings) and PASSPHRASE not in str(settings.model_dump())


# -- TLP:RED stays home ------------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(alerts(tlp="RED"))
def test_red_is_never_addressed_to_anyone(red: Alert) -> None:
    everything = PartnerPolicy(
        name=red.recipients[0] if red.recipients else "US",
        tlp_max="RED",
        agreements=(Agreement(hs_prefix="", tlp_max="RED"),),
    )
    assert share_decision(red, everything) == (False, "TLP:RED never leaves this node")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(EwsError, match="TLP:RED"):
        make_envelope(red, sender="KR", recipient="US", now=now, ttl=dt.timedelta(minutes=5))
    with pytest.raises(EwsError, match="TLP:RED"):
        seal(red, generate_key(), sender="KR", recipient="US", now=now)


@pytest.mark.parametrize(
    "how",
    [
        ["--format", "cap"],
        ["--format", "json"],
        ["--format", "stix"],
        ["--sign-for", "US"],
        ["--format", "json", "--out", "OUT"],
    ],
)
def test_red_cannot_be_exported(env: Path, how: list[str]) -> None:
    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    red = alert("KR", 3, "RED", ("US",))
    with Store(str(env)) as store:
        save_alert(store, red)
    us = generate_key()
    from ews.alerts.signing import public_key_text

    added = runner.invoke(
        app,
        ["partners", "add", "US", "https://ews.us.example", public_key_text(us.public_key())],
    )
    assert added.exit_code == 0, added.output
    out = env.parent / "exported.json"
    how = [str(out) if arg == "OUT" else arg for arg in how]
    result = runner.invoke(app, ["export", red.alert_id, *how])
    assert result.exit_code == 2
    assert "TLP:RED" in result.stderr and red.headline not in result.stdout
    assert not out.exists()
    other = alert("KR", 4, "AMBER", ("US",))
    with Store(str(env)) as store:
        save_alert(store, other)
    assert runner.invoke(app, ["export", other.alert_id, *how]).exit_code == 0


@pytest.mark.parametrize("role", ["read", "partner"])
def test_red_is_invisible_through_the_api_except_to_admins(
    client: TestClient, api: Api, role: str
) -> None:
    headers = api.auth(role) if role == "read" else {"X-API-Key": api.tokens[role]}
    board = client.get("/api/v1/alerts?limit=500&include_cancelled=true", headers=headers)
    if role == "partner":  # a partner key has no read scope at all
        assert board.status_code == 403
        return
    assert board.status_code == 200
    assert RED_ID not in board.text and "RED" not in {i["tlp"] for i in board.json()["items"]}
    assert client.get(f"/api/v1/alerts/{RED_ID}", headers=headers).status_code == 404
    admin = client.get(f"/api/v1/alerts/{RED_ID}", headers=api.auth("admin"))
    assert admin.status_code == 200 and admin.json()["alert"]["tlp"] == "RED"
    assert set(TLPS) >= {i["tlp"] for i in board.json()["items"]}


def test_digest_helper_is_sha256() -> None:
    # The store keeps exactly SHA-256 of the whole token (docs/reliability.md says so).
    assert keys_module.hash_token("ews_x_y") == hashlib.sha256(b"ews_x_y").hexdigest()
