"""``ews extract --engine spark``: event extraction as a Spark job over Parquet documents.

The job reads Parquet documents (layout in :mod:`ews.text.batch`), numbers them in input
order, and runs :func:`ews.text.batch.extract_batch` on each Arrow batch of each partition
(``mapInArrow``): the same code as the embedded path, with one extractor per Python worker
process, built on its first batch and reused after. The result is a DataFrame of
:data:`~ews.text.batch.EVENT_SCHEMA` rows: written to Parquet by the executors, or collected to
the driver and sorted into input order (``doc_row``, ``seq``) for JSON lines.

``doc_row`` is Spark's ``monotonically_increasing_id``: increasing in input order, but not a
row count; the embedded path numbers rows 0, 1, 2... Events are otherwise identical.

Running on a cluster (``--master``, ``EWS_SPARK_MASTER``, spark-submit, shipping the package
to executors): docs/spark.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from ews.text.batch import (
    DOCUMENT_SCHEMA,
    EVENT_SCHEMA,
    ROW_COLUMN,
    check_document_columns,
    extract_batch,
    sort_events,
)
from ews.text.extract import MIN_CONFIDENCE

EVENT_DDL = (
    "doc_row bigint, seq int, event_id string, doc_id string, source_id string, lang string, "
    "event_type string, items array<string>, country string, event_date date, "
    "evidence string, confidence double, matched array<string>, extractor_version string, "
    "target string"
)
"""Spark's name for :data:`ews.text.batch.EVENT_SCHEMA` (tests check they agree)."""


def extract_job(
    session: Any,
    paths: Sequence[str],
    *,
    min_confidence: float = MIN_CONFIDENCE,
    default_date: dt.date | None = None,
    partitions: int | None = None,
) -> Any:
    """A lazy DataFrame of the events in the Parquet documents at ``paths``.

    ``partitions`` spreads the documents over that many tasks (a shuffle); by default Spark's
    own file splits decide (about one per core for a file of many row groups).
    """
    from pyspark.sql import functions as sf

    docs = session.read.parquet(*paths)
    check_document_columns(docs.columns, ", ".join(paths))
    wanted = [c for c in DOCUMENT_SCHEMA.names if c in docs.columns]
    docs = docs.select(*wanted).withColumn(ROW_COLUMN, sf.monotonically_increasing_id())
    if partitions:
        docs = docs.repartition(partitions)

    def extract_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield extract_batch(batch, min_confidence=min_confidence, default_date=default_date)

    return docs.mapInArrow(extract_partition, EVENT_DDL)


def collect_events(events: Any) -> pa.Table:
    """The job's events on the driver, in input order (for small results: JSON lines, tests)."""
    # Spark names list elements 'element', Arrow 'item': the cast gives the one schema.
    return sort_events(events.toArrow().cast(EVENT_SCHEMA))


def write_events(events: Any, output: str, *, overwrite: bool = False) -> None:
    """Write the events as Parquet part files under ``output`` (from the executors)."""
    events.write.mode("overwrite" if overwrite else "errorifexists").parquet(output)
