"""``ews extract`` and ``ews documents``: events from news files, without a store.

``ews extract PATH...`` prints events as JSON lines (or a table). A file that cannot be read
is reported on stderr with its reason and the rest go on; when no file could be read the
command exits with code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ews.cli.common import err, handles_errors, out
from ews.errors import EwsError
from ews.store.files import create_private

if TYPE_CHECKING:
    from ews.records import Event


def _is_parquet(path: str) -> bool:
    """A Parquet file, a folder of Parquet part files (what Spark writes), or a URL for Spark."""
    if "://" in path or path.endswith(".parquet"):
        return True
    p = Path(path)
    return p.is_dir() and any(p.glob("*.parquet"))


@handles_errors
def extract_cmd(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="News files: .jsonl(.gz), .xml/.rss, .html, .txt; or Parquet documents "
            "(a .parquet file, a folder of part files, or for Spark a URL: hdfs://...)."
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", metavar="[jsonl|table]", help="jsonl or table.")
    ] = "jsonl",
    source: Annotated[
        str | None, typer.Option(help="Source id (default: from the file name).")
    ] = None,
    min_confidence: Annotated[
        float, typer.Option(help="Leave out events below this confidence.")
    ] = 0.5,
    engine: Annotated[
        str, typer.Option(help="embedded (this machine) or spark (Parquet documents).")
    ] = "embedded",
    workers: Annotated[int, typer.Option(help="Embedded engine: extraction processes.", min=1)] = 1,
    master: Annotated[
        str | None,
        typer.Option(help="Spark master (default: EWS_SPARK_MASTER, else local[*])."),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(help="Spark: spread the documents over this many tasks.", min=1),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(help="Write the events to this Parquet path instead of stdout."),
    ] = None,
) -> None:
    """Extract supply-disruption events from news files; one JSON event per line.

    The same events whatever the engine: --workers N spreads documents over N processes,
    --engine spark runs the extraction as a Spark job over Parquet documents (written by
    `ews documents`; docs/spark.md).
    """
    from ews.settings import get_settings

    if fmt not in ("jsonl", "table"):
        raise EwsError(f"unknown format {fmt!r}; use jsonl or table")
    if engine not in ("embedded", "spark"):
        raise EwsError(f"unknown engine {engine!r}; use embedded or spark")
    if not 0.0 <= min_confidence <= 1.0:
        raise EwsError("--min-confidence must be between 0 and 1")
    if output is not None and "://" not in output and Path(output).exists():
        raise EwsError(f"{output} exists; remove it or choose another --output")
    if engine != "spark" and any("://" in p for p in [*paths, output or ""]):
        raise EwsError("URLs (hdfs://, s3a://...) are read and written by --engine spark")
    settings = get_settings()
    sink = _EventSink(fmt, output)
    if engine == "spark":
        if workers != 1:
            raise EwsError("--workers applies to the embedded engine; Spark uses --master")
        not_parquet = [p for p in paths if not _is_parquet(p)]
        if not_parquet:
            raise EwsError(
                "--engine spark reads Parquet documents; convert "
                f"{', '.join(not_parquet)} with `ews documents FILE --output docs.parquet`"
            )
        _extract_spark(paths, sink, master or settings.spark_master, min_confidence, partitions)
        failed = 0
    else:
        if partitions is not None or master is not None:
            raise EwsError("--master and --partitions apply to --engine spark")
        failed = _extract_embedded(
            [Path(p) for p in paths],
            sink,
            source,
            settings.max_file_bytes,
            workers,
            min_confidence,
        )
    sink.close()
    if failed and failed == len(paths):
        raise typer.Exit(2)


@handles_errors
def documents_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="News files: .jsonl(.gz), .xml/.rss, .html, .txt.")
    ],
    output: Annotated[Path, typer.Option(help="The Parquet file to write.")],
    source: Annotated[
        str | None, typer.Option(help="Source id (default: from the file name).")
    ] = None,
    row_group: Annotated[
        int, typer.Option(help="Documents per Parquet row group (a Spark split).", min=1)
    ] = 10_000,
) -> None:
    """Write news files' documents to Parquet: the input of `ews extract --engine spark`."""
    import pyarrow.parquet as pq

    from ews.catalog import load_catalog
    from ews.settings import get_settings
    from ews.text.batch import DOCUMENT_SCHEMA, document_batches
    from ews.text.ingest import open_documents

    if output.exists():
        raise EwsError(f"{output} exists; remove it or choose another --output")
    catalog = load_catalog()
    max_bytes = get_settings().max_file_bytes
    failed = total = 0
    create_private(output)  # news documents, maybe licensed or restricted: 0600
    with pq.ParquetWriter(output, DOCUMENT_SCHEMA) as writer:
        for path in paths:
            try:
                _spec, ctx, docs = open_documents(
                    path, catalog, source_id=source, max_bytes=max_bytes
                )
                count = 0
                for batch in document_batches(docs, row_group):
                    writer.write_batch(batch, row_group_size=row_group)
                    count += batch.num_rows
            except EwsError as exc:
                failed += 1
                err.print(f"error: {exc}", highlight=False, markup=False)
                continue
            total += count
            _report_file(path, count, None, ctx.skipped, ctx.warnings)
    out.print(f"{total:,} documents written to {output}", highlight=False, markup=False)
    if failed and failed == len(paths):
        raise typer.Exit(2)


class _EventSink:
    """Where events go: JSON lines on stdout, a table, or a Parquet file."""

    def __init__(self, fmt: str, output: str | None) -> None:
        self.fmt, self.output = fmt, output
        self.rows: list[Event] = []
        self.writer: Any = None
        self.count = 0

    def add(self, table: Any) -> None:
        from ews.text.batch import EVENT_SCHEMA, arrow_to_events
        from ews.text.ingest import event_json

        self.count += table.num_rows
        if self.output is not None:
            import pyarrow.parquet as pq

            if self.writer is None:
                if "://" not in self.output:
                    create_private(Path(self.output))  # 0600, like every file EWS writes
                self.writer = pq.ParquetWriter(self.output, EVENT_SCHEMA)
            self.writer.write(table)
            return
        for event in arrow_to_events(table):
            if self.fmt == "jsonl":
                sys.stdout.write(event_json(event) + "\n")
            else:
                self.rows.append(event)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.output is not None:
            err.print(
                f"{self.count:,} events written to {self.output}",
                highlight=False,
                markup=False,
            )
            return
        if self.fmt == "table":
            _print_events(self.rows)


def _print_events(rows: list[Event]) -> None:
    from rich.table import Table

    table = Table(title=f"{len(rows)} events")
    for col in ("date", "type", "country", "items", "conf", "evidence"):
        table.add_column(col, overflow="fold")
    for e in rows:
        table.add_row(
            e.date.isoformat(),
            e.event_type,
            e.country or "–",
            " ".join(e.items) or "–",
            f"{e.confidence:.2f}",
            e.evidence[:160],
        )
    out.print(table)


def _report_file(
    path: Path,
    docs: int,
    events: int | None,
    skipped: dict[str, int],
    warnings: list[str],
) -> None:
    why = ", ".join(f"{n:,} {reason}" for reason, n in sorted(skipped.items()))
    err.print(
        f"{path}: {docs:,} documents"
        + ("" if events is None else f", {events:,} events")
        + (f"; skipped {why}" if why else ""),
        highlight=False,
        markup=False,
    )
    for warning in warnings:
        err.print(f"warning: {path}: {warning}", highlight=False, markup=False)


def _extract_embedded(
    paths: list[Path],
    sink: _EventSink,
    source: str | None,
    max_bytes: int,
    workers: int,
    min_confidence: float,
) -> int:
    from ews.catalog import load_catalog
    from ews.text.batch import document_batches, extract_batches, read_parquet_batches
    from ews.text.ingest import open_documents

    catalog = load_catalog()
    failed = 0
    for path in paths:
        counted = [0]

        def counting(batches: Iterator[Any], n: list[int] = counted) -> Iterator[Any]:
            for b in batches:
                n[0] += b.num_rows
                yield b

        skipped: dict[str, int] = {}
        warnings: list[str] = []
        try:
            if _is_parquet(str(path)):
                batches = read_parquet_batches(path)
            else:
                _spec, ctx, docs = open_documents(
                    path, catalog, source_id=source, max_bytes=max_bytes
                )
                skipped, warnings = ctx.skipped, ctx.warnings
                batches = document_batches(docs)
            before = sink.count
            for events in extract_batches(
                counting(batches), workers=workers, min_confidence=min_confidence
            ):
                sink.add(events)
        except EwsError as exc:
            failed += 1
            err.print(f"error: {exc}", highlight=False, markup=False)
            continue
        _report_file(path, counted[0], sink.count - before, skipped, warnings)
    return failed


def _extract_spark(
    paths: list[str],
    sink: _EventSink,
    master: str | None,
    min_confidence: float,
    partitions: int | None,
) -> None:
    from ews.indicators.engine import spark_session
    from ews.text.spark import collect_events, extract_job, write_events

    try:
        session = spark_session(master, "ews-extract")
    except ImportError as exc:
        raise EwsError(f"--engine spark needs PySpark (the 'spark' extra): {exc}") from exc
    inputs = list(paths)
    events = extract_job(session, inputs, min_confidence=min_confidence, partitions=partitions)
    n_docs = session.read.parquet(*inputs).count()
    if sink.output is not None:
        write_events(events, str(sink.output))
        sink.count = session.read.parquet(str(sink.output)).count()
    else:
        sink.add(collect_events(events))
    err.print(
        f"{', '.join(inputs)}: {n_docs:,} documents, {sink.count:,} events (Spark)",
        highlight=False,
        markup=False,
    )
