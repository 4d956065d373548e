"""News through NATS JetStream and Kafka: every document and event stored exactly once,
however often it is published or delivered, with the same result as a direct file ingest."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ews.catalog import Catalog
from ews.catalog.sync import sync_catalog
from ews.store import Store
from ews.stream.news import ConsumeReport, consume_news, news_subject, publish_news_file
from ews.stream.transport import REASON_HEADER, dead_letter_subject
from ews.text.extract import Extractor
from ews.text.ingest import ingest_news_file
from tests.stream.conftest import CrashError, TransportFactory, peek


@pytest.fixture(scope="module")
def extractor(catalog: Catalog) -> Extractor:
    return Extractor(catalog)


def _store(path: Path, catalog: Catalog) -> Iterator[Store]:
    st = Store(str(path))
    sync_catalog(st, catalog)
    yield st
    st.close()


@pytest.fixture
def direct(
    tmp_path: Path, catalog: Catalog, extractor: Extractor, vi_news: Path
) -> Iterator[Store]:
    """The baseline: the same file ingested directly."""
    for st in _store(tmp_path / "direct.duckdb", catalog):
        report = ingest_news_file(st, extractor, vi_news)
        assert report.error is None and report.documents > 250
        yield st


@pytest.fixture
def streamed(tmp_path: Path, catalog: Catalog) -> Iterator[Store]:
    yield from _store(tmp_path / "stream.duckdb", catalog)


def documents(st: Store) -> set[tuple[Any, ...]]:
    return set(st.con.execute("SELECT doc_id, content_sha256, source_id FROM documents").fetchall())


def events(st: Store) -> set[tuple[Any, ...]]:
    return set(
        st.con.execute(
            "SELECT event_id, doc_id, event_type, country, event_date, evidence, confidence "
            "FROM events"
        ).fetchall()
    )


def test_news_stored_exactly_once_across_a_crash_and_a_republished_file(
    kind: str,
    connect: TransportFactory,
    prefix: str,
    vi_news: Path,
    catalog: Catalog,
    extractor: Extractor,
    direct: Store,
    streamed: Store,
) -> None:
    publisher = connect()
    first = publish_news_file(publisher, catalog, vi_news, prefix=prefix)
    again = publish_news_file(publisher, catalog, vi_news, prefix=prefix)  # a publisher re-run
    total = len(documents(direct))
    assert first.error is None and first.documents == again.documents == total
    published = 2 * total
    if kind == "nats":  # JetStream drops the re-run by Nats-Msg-Id; Kafka keeps both copies
        assert getattr(publisher, "duplicates", None) == total
        published = total
    publisher.publish(news_subject(prefix), "garbage", b"{not a document")
    publisher.flush()
    published += 1

    at_crash: dict[str, int] = {}

    def crash_in_third_batch(report: ConsumeReport) -> None:
        if report.batches == 2:
            at_crash["acked"] = report.messages  # batches 1-2, acknowledged after this call
        if report.batches == 3:
            raise CrashError

    crashed = connect()
    with pytest.raises(CrashError):
        consume_news(
            crashed,
            streamed,
            extractor,
            prefix=prefix,
            durable="news",
            batch=50,
            after_store=crash_in_third_batch,
        )
    crashed.close()
    stored_at_crash = len(documents(streamed))
    assert 0 < stored_at_crash < total

    restarted = connect()
    report = consume_news(restarted, streamed, extractor, prefix=prefix, durable="news", batch=50)
    # Batches 1-2 were acknowledged; batch 3 was stored but not, so it comes again.
    assert report.messages == published - at_crash["acked"]
    if kind == "nats":  # Kafka does not tell a consumer that a message is a redelivery
        assert report.redelivered >= 1
    assert report.store.stored_before >= 1  # what the crashed batch stored is not stored again

    # Exactly the documents and events of a direct ingest: nothing lost, nothing twice.
    assert documents(streamed) == documents(direct)
    assert events(streamed) == events(direct)
    assert len(events(streamed)) >= 10
    pairs = "SELECT event_id, hs FROM event_items ORDER BY ALL"
    assert streamed.query(pairs) == direct.query(pairs)
    assert streamed.scalar("SELECT count(*) FROM events WHERE cluster_id IS NULL") == 0

    # The malformed message went to the dead-letter subject with its reason; the stream went on.
    dead = peek(connect(), dead_letter_subject(prefix, news_subject(prefix)))
    assert dead and {m.key for m in dead} == {"garbage"}
    assert all(m.headers[REASON_HEADER].startswith("bad_document") for m in dead)
    assert streamed.scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'stream.reject' AND subject = 'garbage'"
    ) == len(dead)

    # A third start finds nothing left to read and changes nothing.
    before = streamed.scalar("SELECT count(*) FROM audit_log")
    idle = consume_news(connect(), streamed, extractor, prefix=prefix, durable="news", batch=50)
    assert idle.messages == 0
    assert streamed.scalar("SELECT count(*) FROM audit_log") == before


@pytest.mark.parametrize("kind", ["nats"])
def test_cli_publishes_and_consumes_news(
    kind: str,
    nats_url: str,
    prefix: str,
    vi_news: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ews.cli import app
    from ews.settings import get_settings

    store = tmp_path / "cli.duckdb"
    monkeypatch.setenv("EWS_STORE", str(store))
    monkeypatch.setenv("EWS_STREAM_PREFIX", prefix)
    monkeypatch.setenv("EWS_STREAM_URL", nats_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        pub = runner.invoke(app, ["stream", "publish", "news", str(vi_news), "--transport", kind])
        assert pub.exit_code == 0, pub.output
        assert "documents published from vi-news" in pub.output
        con = runner.invoke(app, ["stream", "consume", "news"])
        assert con.exit_code == 0, con.output
        assert "0 already stored" in con.output
        again = runner.invoke(app, ["stream", "consume", "news"])
        assert again.exit_code == 0 and ": 0 messages" in again.output
        missing = runner.invoke(app, ["stream", "publish", "news", str(tmp_path / "nope.jsonl")])
        assert missing.exit_code == 2
    finally:
        get_settings.cache_clear()
    with Store(str(store)) as st:
        assert st.scalar("SELECT count(*) FROM documents") > 250
        assert st.scalar("SELECT count(*) FROM events") >= 10


FILE_IS_FREE = "import sys, duckdb; duckdb.connect(sys.argv[1]).close()"


@pytest.mark.parametrize("kind", ["nats"])
def test_a_consumer_given_an_opener_frees_the_file_between_batches(
    kind: str,
    connect: TransportFactory,
    prefix: str,
    vi_news: Path,
    catalog: Catalog,
    extractor: Extractor,
    direct: Store,
    tmp_path: Path,
) -> None:
    """What ``ews stream consume news --follow`` does with a DuckDB file: another process
    (the API server's copy, ``ews assess``) can open the file between batches."""
    from ews.federation.node import open_store

    path = tmp_path / "follow.duckdb"
    for _ in _store(path, catalog):
        pass  # migrated and catalogued, then closed
    publish_news_file(connect(), catalog, vi_news, prefix=prefix)
    free_between: list[bool] = []

    def other_process_opens(report: ConsumeReport) -> None:
        if report.batches == 1:
            done = subprocess.run([sys.executable, "-c", FILE_IS_FREE, str(path)], check=False)
            free_between.append(done.returncode == 0)

    report = consume_news(
        connect(),
        lambda: open_store(str(path)),
        extractor,
        prefix=prefix,
        durable="news",
        batch=50,
        after_store=other_process_opens,
    )
    assert free_between == [True]
    assert report.batches > 1
    with Store(str(path)) as st:
        assert documents(st) == documents(direct)
        assert events(st) == events(direct)
        assert st.scalar("SELECT count(*) FROM events WHERE cluster_id IS NULL") == 0
