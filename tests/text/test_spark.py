"""`ews extract --engine spark`: the same events as the embedded path, on real news, local mode."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ews.catalog import Catalog
from ews.cli import app
from ews.records import Document
from ews.text.batch import (
    EVENT_SCHEMA,
    arrow_to_events,
    document_batches,
    extract_batches,
    read_parquet_batches,
    sort_events,
)
from ews.text.extract import Extractor
from ews.text.ingest import event_json
from ews.text.spark import collect_events, extract_job, write_events

pytestmark = pytest.mark.slow


def test_spark_events_equal_the_embedded_ones(
    spark: Any, vi_sample: list[Document], catalog: Catalog, tmp_path: Path
) -> None:
    """Same ids, types, countries, items, dates, evidence, confidence and matched terms, in
    the same order, from a Parquet file split into several partitions."""
    expected = [e for d in vi_sample for e in Extractor(catalog).extract(d)]
    assert len(expected) >= 20
    assert any(e.event_type == "export_restriction" and e.country == "CN" for e in expected)
    path = tmp_path / "docs.parquet"
    pq.write_table(
        pa.Table.from_batches(list(document_batches(vi_sample, 40))), path, row_group_size=40
    )
    # Small splits, so this small file is read by several tasks as a big one would be.
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(path.stat().st_size // 4))
    spark.conf.set("spark.sql.files.openCostInBytes", "1")
    try:
        events = extract_job(spark, [str(path)])
        assert events.rdd.getNumPartitions() >= 2
        got = collect_events(events)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.unset("spark.sql.files.openCostInBytes")
    assert got.schema.equals(EVENT_SCHEMA)
    assert [event_json(e) for e in arrow_to_events(got)] == [event_json(e) for e in expected]

    # Written by the executors as part files: the same rows.
    out = tmp_path / "events"
    write_events(events, str(out))
    written = sort_events(pq.read_table(out))
    assert written.column("event_id").to_pylist() == [e.event_id for e in expected]
    assert set(written.column("extractor_version").to_pylist()) == {Extractor(catalog).version}


def test_spark_reads_the_stores_layout_like_the_embedded_path(
    spark: Any, vi_sample: list[Document], tmp_path: Path
) -> None:
    """The store's documents table (naive UTC times, no offset, a repartition): both engines
    read it alike, so the dates agree even for items published after midnight in Hanoi."""
    table = pa.Table.from_batches(list(document_batches(vi_sample)))
    naive = pa.array(
        [
            None if p is None else p.astimezone(dt.UTC).replace(tzinfo=None)
            for p in (d.published for d in vi_sample)
        ],
        pa.timestamp("us"),
    )
    table = table.drop_columns(["utc_offset_min"]).set_column(
        table.schema.get_field_index("published"), "published", naive
    )
    table = table.rename_columns(
        [
            "doc_id",
            "source_id",
            "lang",
            "title",
            "body",
            "published",
            "link",
            "file_name",
            "file_sha256",
            "row_no",
        ]
    )
    path = tmp_path / "store-docs.parquet"
    pq.write_table(table, path)
    embedded = pa.Table.from_batches(list(extract_batches(read_parquet_batches(path))))
    on_spark = collect_events(extract_job(spark, [str(path)], partitions=3))
    assert on_spark.num_rows == embedded.num_rows > 0
    assert on_spark.drop_columns(["doc_row"]).equals(embedded.drop_columns(["doc_row"]))


def test_cli_spark_engine_prints_the_embedded_lines(
    spark: Any, vi_sample: list[Document], tmp_path: Path
) -> None:
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.Table.from_batches(list(document_batches(vi_sample, 100))), path)
    runner = CliRunner()
    embedded = runner.invoke(app, ["extract", str(path)])
    on_spark = runner.invoke(app, ["extract", str(path), "--engine", "spark"])
    assert embedded.exit_code == 0 and on_spark.exit_code == 0, on_spark.output
    lines = [ln for ln in embedded.stdout.splitlines() if ln.startswith("{")]
    assert lines and [ln for ln in on_spark.stdout.splitlines() if ln.startswith("{")] == lines
