"""``ews extract`` and ``ews ingest news``: output, idempotence, resuming, bad files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ews.catalog import Catalog
from ews.cli import app
from ews.store import Store
from ews.text import ingest as ingest_module
from ews.text.extract import Extractor
from ews.text.ingest import ingest_news_file, recluster

runner = CliRunner()

LINES = [
    {
        "id": "n1",
        "title": "Trung Quốc cấm xuất khẩu gali",
        "summary": "Câu tự soạn.",
        "published": "2025-10-09T09:00:00+07:00",
        "link": "https://a.example.invalid/1",
    },
    {
        "id": "n2",
        "title": "中国宣布对镓实施出口管制",
        "text": "自拟句子。",
        "published": "2025-10-09",
    },
    {
        "id": "n3",
        "title": "A composed headline about football",
        "text": "Nothing here.",
        "published": "2025-10-09",
    },
    {"id": "n4", "title": "중국, 갈륨 수출 통제 강화", "text": "", "published": "2025-10-10"},
]


@pytest.fixture
def news(tmp_path: Path) -> Path:
    path = tmp_path / "composed.jsonl"
    path.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in LINES) + "\n{broken\n", "utf-8"
    )
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    store = tmp_path / "cli.duckdb"
    monkeypatch.setenv("EWS_STORE", str(store))
    from ews.settings import get_settings

    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()


def test_extract_prints_json_events(env: Path, news: Path) -> None:
    result = runner.invoke(app, ["extract", str(news), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    events = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert {(e["doc_id"], e["event_type"], e["country"]) for e in events} >= {
        ("n1", "export_restriction", "CN"),
        ("n2", "export_restriction", "CN"),
        ("n4", "export_restriction", "CN"),
    }
    first = events[0]
    assert set(first) == {
        "event_id",
        "doc_id",
        "lang",
        "event_type",
        "items",
        "country",
        "date",
        "evidence",
        "confidence",
        "matched",
    }
    assert first["date"] == "2025-10-09"
    assert "1 broken JSON line" in result.stderr


def test_extract_refuses_unreadable_files(env: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["extract", str(empty)])
    assert result.exit_code == 2
    assert "file is empty" in result.stderr


def test_extract_goes_on_after_a_bad_file(env: Path, tmp_path: Path, news: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path / "missing.jsonl"), str(news)])
    assert result.exit_code == 0
    assert "no such file" in result.stderr
    assert '"n1"' in result.stdout


def test_ingest_news_is_idempotent(env: Path, news: Path) -> None:
    first = runner.invoke(app, ["ingest", "news", str(news)])
    assert first.exit_code == 0, first.output
    assert "4 documents" in first.stdout and "4 new" in first.stdout
    second = runner.invoke(app, ["ingest", "news", str(news)])
    assert "already ingested" in second.stdout
    with Store(str(env)) as store:
        assert store.scalar("SELECT count(*) FROM documents") == 4
        events = store.scalar("SELECT count(*) FROM events")
        assert events >= 3
        assert store.scalar("SELECT count(*) FROM events WHERE cluster_id IS NULL") == 0
        assert store.scalar("SELECT count(DISTINCT cluster_id) FROM events") < events
        assert store.scalar("SELECT count(*) FROM event_items") >= 3
        assert store.scalar("SELECT count(*) FROM ingested_files") == 1


def test_kill_mid_file_loses_one_batch_and_resumes(
    store: Store, catalog: Catalog, news: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extractor = Extractor(catalog)
    real = ingest_module._store_batch
    calls = {"n": 0}

    def dying(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # a kill between batches
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_module, "_store_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        ingest_news_file(store, extractor, news, batch_size=2)
    assert store.scalar("SELECT count(*) FROM documents") == 2
    assert store.scalar("SELECT count(*) FROM ingested_files") == 0
    monkeypatch.setattr(ingest_module, "_store_batch", real)
    report = ingest_news_file(store, extractor, news, batch_size=2)
    assert report.stored_before == 2 and report.documents_new == 2
    assert store.scalar("SELECT count(*) FROM documents") == 4
    assert recluster(store, catalog) >= 1


def test_ingest_reports_a_bad_file_and_goes_on(env: Path, tmp_path: Path, news: Path) -> None:
    binary = tmp_path / "blob.xml"
    binary.write_bytes(b"\x00\x01\x02 not a feed")
    result = runner.invoke(app, ["ingest", "news", str(binary), str(news)])
    # The good file is stored all the same; the command fails so a script notices.
    assert result.exit_code == 2
    assert "not an RSS or Atom feed" in result.stderr and "4 documents" in result.stdout
    only_bad = runner.invoke(app, ["ingest", "news", str(binary)])
    assert only_bad.exit_code == 2


def test_an_unreadable_news_file_fails_and_is_not_remembered(env: Path, tmp_path: Path) -> None:
    """A binary or broken file is an error (exit 2), never recorded as ingested: run again,
    it is read again; a repaired file under the same name is then stored."""
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\x00\x01\x02binary\xff\xfe")
    for _ in range(2):
        result = runner.invoke(app, ["ingest", "news", str(bad)])
        assert result.exit_code == 2, result.output
        assert "nothing readable" in result.stderr and "already ingested" not in result.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "title": \n', encoding="utf-8")
    assert runner.invoke(app, ["ingest", "news", str(broken)]).exit_code == 2
    broken.write_text(
        json.dumps({"id": "a", "title": "China bans gallium exports", "text": "t"}) + "\n",
        encoding="utf-8",
    )
    fixed = runner.invoke(app, ["ingest", "news", str(broken)])
    assert fixed.exit_code == 0, fixed.output
    assert "1 documents" in fixed.stdout and "1 new" in fixed.stdout


def test_one_bad_file_among_good_ones_fails_the_command(
    env: Path, tmp_path: Path, news: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\xff\xfe\x00")
    result = runner.invoke(app, ["ingest", "news", str(news), str(bad)])
    assert result.exit_code == 2
    assert "4 documents" in result.stdout  # the good file is stored all the same
    assert "1 of 2 files not ingested" in result.stderr
