"""What the PostgreSQL store adds: translation of the DuckDB dialect, locks for several
writers, secrets kept out of sight, and the same results as the embedded store."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ews.catalog import Catalog
from ews.errors import StoreError
from ews.store import Store, redact_location
from ews.store.db import _migrations
from ews.store.postgres import to_postgres
from tests.pg_server import PostgresServer

TRANSLATIONS = [
    # ? placeholders become $n in text order; a literal % stays as it is
    (
        "SELECT a FROM t WHERE b LIKE ? || '%' AND c = ?",
        "SELECT a FROM t WHERE b LIKE $1 || '%' AND c = $2",
    ),
    ("SELECT '?', ? FROM t", "SELECT '?', $1 FROM t"),
    # GROUP BY ALL: the positions of the non-aggregate items; list() is array_agg
    (
        "SELECT a, list(b ORDER BY b), b + 1 FROM t GROUP BY ALL",
        "SELECT a, ARRAY_AGG(b ORDER BY b), b + 1 FROM t GROUP BY 1, 3",
    ),
    ("SELECT list_position(?, level) FROM t", "SELECT ARRAY_POSITION($1, level) FROM t"),
    ("SELECT year(d) FROM t", "SELECT CAST(EXTRACT(YEAR FROM d) AS INT) FROM t"),
    # PostgreSQL 15 wants an alias on a subquery in FROM
    ("SELECT count(*) FROM (SELECT 1)", "SELECT COUNT(*) FROM (SELECT 1) AS _q1"),
    # DuckDB divides integers exactly
    ("SELECT a / b FROM t", "SELECT CAST(a AS DOUBLE PRECISION) / NULLIF(b, 0) FROM t"),
    # QUALIFY: a filtered subquery, with ORDER BY and LIMIT kept outside it
    (
        "SELECT k, v FROM t QUALIFY row_number() OVER (PARTITION BY k ORDER BY v) = 1 "
        "ORDER BY v DESC LIMIT 3",
        "SELECT * FROM (SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k "
        "ORDER BY v) AS _w FROM t) AS _t WHERE _w = 1) AS _qualified "
        "ORDER BY v DESC NULLS LAST LIMIT 3",
    ),
]


@pytest.mark.parametrize(("duckdb_sql", "postgres_sql"), TRANSLATIONS)
def test_translation(duckdb_sql: str, postgres_sql: str) -> None:
    assert to_postgres(duckdb_sql) == postgres_sql


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("postgresql://ews:s3cret@db.example:5432/ews", "postgresql://ews:***@db.example:5432/ews"),
        (
            "postgres://ews:s3cret@db/ews?sslmode=require",
            "postgres://ews:***@db/ews?sslmode=require",
        ),
        ("postgresql://ews@db/ews", "postgresql://ews@db/ews"),
        ("data/ews.duckdb", "data/ews.duckdb"),
    ],
)
def test_redacted_location(location: str, shown: str) -> None:
    assert redact_location(location) == shown


def _password(url: str) -> str:
    return urlsplit(url).password or ""


def test_password_is_never_shown(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = postgres_server.new_location()
    secret = _password(location)
    assert len(secret) >= 16
    with Store(location) as st:
        assert secret not in st.location and ":***@" in st.location
    parts = urlsplit(location)
    wrong = urlunsplit(parts._replace(netloc=parts.netloc.replace(secret, "Wr0ngPassw0rd")))
    with pytest.raises(StoreError, match="cannot open store") as caught:
        Store(wrong)
    assert "Wr0ngPassw0rd" not in str(caught.value)
    assert "password authentication failed" in str(caught.value)

    from ews.cli import app
    from ews.settings import Settings, get_settings

    monkeypatch.setenv("EWS_STORE", location)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["info"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "price_observations" in result.output and "schema v" in result.output
    assert secret not in result.output
    assert secret not in repr(Settings(store=location))


def test_two_nodes_starting_at_once_migrate_once(postgres_server: PostgresServer) -> None:
    location = postgres_server.new_location()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            Store(location).close()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(location) as st:
        rows = st.query("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [v for v, _, _ in _migrations()]


def test_concurrent_audit_writers_keep_one_chain(postgres_server: PostgresServer) -> None:
    location = postgres_server.new_location()
    Store(location).close()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        with Store(location) as st:
            start.wait()
            try:
                for i in range(20):
                    st.audit(f"w{worker}", "test", str(i), {"i": i})
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(location) as st:
        assert st.verify_audit() == (True, 80, "")
        per_writer = st.query("SELECT actor, count(*) AS n FROM audit_log GROUP BY actor")
        assert sorted((r["actor"], r["n"]) for r in per_writer) == [(f"w{w}", 20) for w in range(4)]


def test_values_come_back_as_in_duckdb(postgres_server: PostgresServer) -> None:
    with Store(postgres_server.new_location()) as st:
        st.set_meta("k", "v")
        st.set_meta("k", "w")
        assert st.get_meta("k") == "w"
        total = st.scalar("SELECT sum(x) FROM (SELECT 2 AS x UNION ALL SELECT 3)")
        assert total == 5 and isinstance(total, int)  # not Decimal
        assert st.scalar("SELECT avg(x) FROM (SELECT 2 AS x UNION ALL SELECT 3)") == 2.5
        table = st.fetch_arrow("SELECT key, value FROM meta WHERE key = ?", ["k"])
        assert table.to_pylist() == [{"key": "k", "value": "w"}]
        empty = st.fetch_arrow("SELECT version, applied_at FROM schema_migrations WHERE FALSE")
        assert empty.num_rows == 0 and str(empty.schema.field("applied_at").type) == "timestamp[us]"


def test_read_only_store_refuses_writes(postgres_server: PostgresServer) -> None:
    location = postgres_server.new_location()
    Store(location).close()
    with Store(location, read_only=True) as st, pytest.raises(Exception, match="read-only"):
        st.set_meta("k", "v")


def _pipeline(location: str, catalog: Catalog) -> dict[str, list[dict[str, object]]]:
    """Ingest the bundled sample, assess, and read back what partners and analysts see."""
    from ews.context import Context
    from ews.risk.run import assess
    from ews.settings import Settings
    from ews.sources.ingest import ingest_file
    from ews.sources.sample import sample_files
    from ews.text.events_file import ingest_events_file

    settings = Settings(store=location, env="test")
    with Context.open(settings, store=location) as ctx:
        for kind, file in sample_files():
            if kind in ("prices", "trade"):
                ingest_file(ctx.store, ctx.catalog, file, kind=kind)
            elif kind == "events":
                ingest_events_file(ctx.store, ctx.catalog, file)
        assess(ctx)
        st = ctx.store
        assert st.verify_audit()[0]
        return {
            "counts": st.query(
                "SELECT (SELECT count(*) FROM price_observations) AS prices, "
                "(SELECT count(*) FROM trade_observations) AS trade, "
                "(SELECT count(*) FROM events) AS events, "
                "(SELECT count(*) FROM assessments) AS assessments"
            ),
            "anomalies": st.query(
                "SELECT run_id, series_key, period, method, score FROM anomalies "
                "ORDER BY run_id, series_key, period, method"
            ),
            "alerts": st.query(
                "SELECT alert_id, version, level, msg_type, tlp, summary FROM alerts "
                "ORDER BY alert_id, version"
            ),
        }


def test_same_pipeline_same_alerts_on_both_backends(
    postgres_server: PostgresServer, tmp_path: Path, catalog: Catalog
) -> None:
    location = postgres_server.new_location()
    on_duckdb = _pipeline(str(tmp_path / "ews.duckdb"), catalog)
    on_postgres = _pipeline(location, catalog)
    assert on_duckdb["counts"][0]["trade"] > 0 and len(on_duckdb["alerts"]) > 0
    assert len(on_duckdb["anomalies"]) > 0
    assert on_postgres == on_duckdb

    # ... and the API serves the PostgreSQL store's alerts.
    from ews.access.keys import create_key
    from ews.api.app import create_app
    from ews.settings import Settings

    with Store(location) as st:
        _, token = create_key(st, "reader", ["read"], 1000)
    client = TestClient(create_app(Settings(store=location, env="test")))
    page = client.get(
        "/api/v1/alerts?include_cancelled=true&limit=200",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert page.status_code == 200, page.text
    served = {a["id"] for a in page.json()["items"]}
    assert served == {str(a["alert_id"]) for a in on_postgres["alerts"]}
