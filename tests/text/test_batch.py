"""Extraction over Arrow batches: the documents layout, and the process pool (no Spark here)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ews.catalog import Catalog
from ews.cli import app
from ews.errors import InputError
from ews.records import Document, Event, Provenance
from ews.text.batch import (
    DOCUMENT_SCHEMA,
    arrow_to_documents,
    arrow_to_events,
    document_batches,
    documents_to_arrow,
    extract_batches,
    read_parquet_batches,
    sort_events,
)
from ews.text.extract import Extractor
from ews.text.ingest import event_json

PROV = Provenance(source_id="t", file_name="t.jsonl", file_sha256="a" * 64, row=3)
HANOI = dt.timezone(dt.timedelta(hours=7))


def doc(doc_id: str, title: str, published: dt.datetime | None) -> Document:
    return Document(
        doc_id=doc_id, source_id="t", title=title, published=published, lang="vi", provenance=PROV
    )


def reference(extractor: Extractor, docs: list[Document]) -> list[Event]:
    return [e for d in docs for e in extractor.extract(d)]


def test_documents_keep_the_publishers_offset_through_arrow() -> None:
    # 01:30 in Hanoi is still the previous day in UTC: the date must stay the publisher's.
    early = dt.datetime(2025, 10, 9, 1, 30, tzinfo=HANOI)
    docs = [doc("a", "x", early), doc("b", "y", None), doc("c", "z", dt.datetime(2025, 1, 2, 3))]
    back = arrow_to_documents(documents_to_arrow(docs))
    assert back[0].published == early and back[0].published.date() == dt.date(2025, 10, 9)
    assert back[0].published.utcoffset() == dt.timedelta(hours=7)
    assert back[1].published is None
    # A naive time is UTC (the store's convention).
    assert back[2].published == dt.datetime(2025, 1, 2, 3, tzinfo=dt.UTC)
    assert [(d.doc_id, d.title, d.lang, d.provenance.row) for d in back] == [
        ("a", "x", "vi", 3),
        ("b", "y", "vi", 3),
        ("c", "z", "vi", 3),
    ]


def test_store_layout_reads_naive_utc_and_detects_unknown_languages() -> None:
    # The documents table as DuckDB exports it: naive UTC timestamps, no offset column.
    table = pa.table(
        {
            "doc_id": ["d1"],
            "lang": ["xx"],
            "title": [None],
            "body": ["Trung Quốc cấm xuất khẩu đất hiếm"],
            "published": pa.array([dt.datetime(2025, 10, 8, 20, 0)], pa.timestamp("us")),
        }
    )
    (d,) = arrow_to_documents(table.to_batches()[0])
    assert d.published == dt.datetime(2025, 10, 8, 20, 0, tzinfo=dt.UTC)
    assert d.lang is None and d.title == "" and d.source_id == "parquet"


def test_a_documents_file_without_the_needed_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"doc_id": ["a"], "text": ["x"]}), path)
    with pytest.raises(InputError, match="title and/or body"):
        list(read_parquet_batches(path))


def test_events_from_batches_equal_direct_extraction_on_real_news(
    vi_sample: list[Document], catalog: Catalog, tmp_path: Path
) -> None:
    """One process and two give exactly the events of Extractor.extract, in the same order."""
    expected = reference(Extractor(catalog), vi_sample)
    assert len(expected) >= 20, "the sample should hold a few dozen events"
    path = tmp_path / "docs.parquet"
    pq.write_table(
        pa.Table.from_batches(list(document_batches(vi_sample, 50))), path, row_group_size=50
    )
    for workers in (1, 2):
        got = pa.Table.from_batches(
            list(extract_batches(read_parquet_batches(path, 64), workers=workers)),
            schema=None,
        )
        events = arrow_to_events(sort_events(got))
        assert [e.model_dump() for e in events] == [e.model_dump() for e in expected], workers
        assert got.column("doc_row").to_pylist() == sorted(got.column("doc_row").to_pylist())


def test_cli_documents_then_extract_with_workers(
    vi_sample: list[Document], catalog: Catalog, tmp_path: Path
) -> None:
    """`ews documents` + `ews extract docs.parquet --workers 2` print what the original
    file gives: the same JSON lines, byte for byte."""
    src = tmp_path / "sample.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for d in vi_sample:
            fh.write(
                json.dumps(
                    {
                        "id": d.doc_id,
                        "title": d.title,
                        "summary": d.text,
                        "published": d.published.isoformat() if d.published else None,
                        "lang": d.lang,
                        "link": d.link,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    runner = CliRunner()
    direct = runner.invoke(app, ["extract", str(src)])
    assert direct.exit_code == 0, direct.output
    lines = [ln for ln in direct.stdout.splitlines() if ln.startswith("{")]
    assert lines == [event_json(e) for e in reference(Extractor(catalog), vi_sample)]
    docs = tmp_path / "docs.parquet"
    made = runner.invoke(app, ["documents", str(src), "--output", str(docs), "--row-group", "100"])
    assert made.exit_code == 0, made.output
    assert pq.read_schema(docs).names == DOCUMENT_SCHEMA.names
    assert pq.ParquetFile(docs).metadata.num_rows == len(vi_sample)
    pooled = runner.invoke(app, ["extract", str(docs), "--workers", "2"])
    assert pooled.exit_code == 0, pooled.output
    assert [ln for ln in pooled.stdout.splitlines() if ln.startswith("{")] == lines
    again = runner.invoke(app, ["documents", str(src), "--output", str(docs)])
    assert again.exit_code == 2 and "exists" in again.output
    out = tmp_path / "events.parquet"
    written = runner.invoke(app, ["extract", str(docs), "--output", str(out)])
    assert written.exit_code == 0, written.output
    assert pq.read_table(out).column("event_id").to_pylist() == [
        json.loads(ln)["event_id"] for ln in lines
    ]


def test_spark_needs_parquet_and_workers_need_the_embedded_engine(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text('{"id": "1", "title": "x"}\n', encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["extract", str(src), "--engine", "spark"])
    assert res.exit_code == 2 and "ews documents" in res.output
    res = runner.invoke(app, ["extract", str(src), "--workers", "2", "--engine", "spark"])
    assert res.exit_code == 2 and "--workers" in res.output
    res = runner.invoke(app, ["extract", str(src), "--master", "local[1]"])
    assert res.exit_code == 2 and "--engine spark" in res.output
