"""Files EWS writes are its owner's alone: 0600 files, 0700 folders, whatever the umask.

Stores, their write-ahead logs and scratch stores hold AMBER and RED alerts and the audit
log; briefs and exports hold alerts; documents files hold news. Every test runs with the
common umask 022, under which a plain ``open`` or DuckDB makes 0644 files in 0755 folders.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from ews.alerts.repository import save_alert
from ews.cli import app
from ews.settings import get_settings
from ews.store import Store
from ews.store.db import scratch_path
from ews.store.files import create_private, private_dir, private_umask, write_private
from tests.federation.helpers import alert

runner = CliRunner()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A node of its own for the CLI (through CliRunner), its store in a folder EWS makes."""
    store = tmp_path / "ews" / "data" / "node.duckdb"
    monkeypatch.setenv("EWS_STORE", str(store))
    monkeypatch.setenv("EWS_NODE_ID", "KR")
    monkeypatch.setenv("EWS_NODE_KEY", str(tmp_path / "keys" / "kr.pem"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()


def test_store_file_wal_and_folders_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "node.duckdb"
    before = mode(tmp_path)
    with Store(str(path)) as store:
        store.audit("test", "test.write", "x", {"tlp": "AMBER"})
        store.execute("CHECKPOINT")
        store.audit("test", "test.write", "y", {"tlp": "RED"})  # a new write-ahead log
        wal = Path(f"{path}.wal")
        assert wal.exists()
        assert mode(wal) == 0o600
        assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert mode(tmp_path) == before  # a folder EWS did not make keeps its mode
    assert os.umask(0o022) == 0o022  # the umask is back once no store is open


@pytest.mark.slow
def test_spill_files_are_private(tmp_path: Path) -> None:
    # DuckDB spills to '<store>.tmp/' beside the file when a query outgrows memory.
    path = tmp_path / "spill.duckdb"
    seen: list[tuple[str, int]] = []
    with Store(str(path)) as store:
        store.execute("SET memory_limit = '32MB'")
        store.execute("SET threads = 1")
        store.execute("SET preserve_insertion_order = false")
        spill = Path(f"{path}.tmp")
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                for f in [spill, *(spill.glob("*") if spill.is_dir() else [])]:
                    with contextlib.suppress(FileNotFoundError):  # gone meanwhile
                        seen.append((f.name, mode(f)))
                time.sleep(0.001)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            store.execute(
                "CREATE TABLE big AS SELECT i, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS m "
                "FROM range(1000000) r(i) ORDER BY m"
            )
        finally:
            done.set()
            watcher.join()
    if not seen:
        pytest.skip("DuckDB did not spill on this machine")
    assert {m for name, m in seen if name == spill.name} <= {0o700}
    assert {m for name, m in seen if name != spill.name} <= {0o600}


def test_existing_store_is_not_tightened(tmp_path: Path) -> None:
    # A store the person made (or an older EWS made) keeps its mode; docs/reliability.md.
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o755)
    path = folder / "theirs.duckdb"
    duckdb.connect(str(path)).close()
    path.chmod(0o640)
    with Store(str(path)):
        pass
    assert mode(path) == 0o640 and mode(folder) == 0o755


def test_scratch_store_is_private(tmp_path: Path) -> None:
    # The backtest and the demo write their own store beside the node's.
    scratch = scratch_path(str(tmp_path / "store" / "node.duckdb"), "backtest.duckdb")
    with Store(str(scratch)):
        pass
    assert mode(scratch) == 0o600 and mode(scratch.parent) == 0o700


def test_overlapping_stores_restore_the_umask(tmp_path: Path) -> None:
    a = Store(str(tmp_path / "a.duckdb"))
    b = Store(str(tmp_path / "b.duckdb"))
    a.close()
    c = Store(str(tmp_path / "c.duckdb"))
    b.close()
    c.close()
    assert {mode(tmp_path / f"{n}.duckdb") for n in "abc"} == {0o600}
    assert os.umask(0o022) == 0o022
    with pytest.raises(Exception, match="cannot open store"):
        Store(str(tmp_path / "a.duckdb" / "not-a-folder.duckdb"))
    assert os.umask(0o022) == 0o022  # a failed open releases it too


def test_helpers(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "brief.html"
    write_private(out, "AMBER")
    assert out.read_text() == "AMBER" and mode(out) == 0o600
    assert mode(tmp_path / "a") == 0o700 and mode(tmp_path / "a" / "b") == 0o700
    out.chmod(0o644)
    write_private(out, b"again")  # replaced by a new file of its own
    assert out.read_bytes() == b"again" and mode(out) == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["brief.html"]  # no temporary left
    existing = tmp_path / "mine"
    existing.mkdir(mode=0o755)
    private_dir(existing / "sub")
    assert mode(existing) == 0o755 and mode(existing / "sub") == 0o700
    made = create_private(existing / "docs.parquet")
    assert mode(made) == 0o600
    with pytest.raises(FileExistsError):
        create_private(made)
    with private_umask(), private_umask():
        assert os.umask(0o077) == 0o077
    assert os.umask(0o022) == 0o022


def test_brief_is_private(env: Path, tmp_path: Path) -> None:
    with Store(str(env)) as store:
        save_alert(store, alert("KR", 1, "AMBER", ("US",)))
    target = tmp_path / "briefs" / "w01.html"
    result = runner.invoke(app, ["report", "--week", "2026-W01", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert "TLP:AMBER" in target.read_text(encoding="utf-8")
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
    assert mode(env) == 0o600 and mode(env.parent) == 0o700
    assert mode(env.parent.parent) == 0o700


def test_export_is_private(env: Path, tmp_path: Path) -> None:
    amber = alert("KR", 2, "AMBER", ("US",))
    with Store(str(env)) as store:
        save_alert(store, amber)
    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    assert mode(tmp_path / "keys" / "kr.pem") == 0o600 and mode(tmp_path / "keys") == 0o700
    for fmt in ("cap", "json", "stix"):
        target = tmp_path / "out" / f"alert.{fmt}"
        result = runner.invoke(
            app, ["export", amber.alert_id, "--format", fmt, "--out", str(target)]
        )
        assert result.exit_code == 0, result.output
        assert mode(target) == 0o600, fmt
    assert mode(tmp_path / "out") == 0o700


def test_documents_file_is_private(tmp_path: Path) -> None:
    news = tmp_path / "news.jsonl"
    news.write_text(
        '{"id": "1", "title": "Rare earth export controls", "summary": "China restricts '
        'exports of rare earths.", "published": "2026-01-01", "lang": "en", '
        '"link": "https://example.org/1"}\n',
        encoding="utf-8",
    )
    target = tmp_path / "parquet" / "docs.parquet"
    result = runner.invoke(app, ["documents", str(news), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
