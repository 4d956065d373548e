"""CLI commands of the text stage, registered on the main ``ews`` app.

``ews extract PATH...`` prints events as JSON lines (or a table); ``ews ingest news PATH...``
stores documents and events. A file that cannot be read is reported on stderr with its
reason and the rest go on; when no file could be read the command exits with code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ews.errors import EwsError


def register(app: typer.Typer, ingest_app: typer.Typer) -> None:
    """Add the text stage's commands (``ews extract``, ``ews ingest news``)."""
    # Imported here: ews.cli imports this module while it is being initialised.
    from ews.cli import err, handles_errors, out

    @app.command("extract")
    @handles_errors
    def extract_cmd(
        paths: Annotated[
            list[Path], typer.Argument(help="News files: .jsonl(.gz), .xml/.rss, .html, .txt.")
        ],
        fmt: Annotated[str, typer.Option("--format", help="jsonl or table.")] = "jsonl",
        source: Annotated[
            str | None, typer.Option(help="Source id (default: from the file name).")
        ] = None,
        min_confidence: Annotated[
            float, typer.Option(help="Leave out events below this confidence.")
        ] = 0.5,
    ) -> None:
        """Extract supply-disruption events from news files; one JSON event per line."""
        from ews.catalog import load_catalog
        from ews.settings import get_settings
        from ews.text.extract import Extractor
        from ews.text.ingest import event_json, open_documents

        if fmt not in ("jsonl", "table"):
            raise EwsError(f"unknown format {fmt!r}; use jsonl or table")
        if not 0.0 <= min_confidence <= 1.0:
            raise EwsError("--min-confidence must be between 0 and 1")
        catalog = load_catalog()
        extractor = Extractor(catalog, min_confidence=min_confidence)
        settings = get_settings()
        failed = 0
        rows = []
        for path in paths:
            try:
                _spec, ctx, docs = open_documents(
                    path, catalog, source_id=source, max_bytes=settings.max_file_bytes
                )
                count = events = 0
                for doc in docs:
                    count += 1
                    for event in extractor.extract(doc):
                        events += 1
                        if fmt == "jsonl":
                            sys.stdout.write(event_json(event) + "\n")
                        else:
                            rows.append(event)
            except EwsError as exc:
                failed += 1
                err.print(f"error: {exc}", highlight=False, markup=False)
                continue
            skipped = ", ".join(f"{n:,} {why}" for why, n in sorted(ctx.skipped.items()))
            err.print(
                f"{path}: {count:,} documents, {events:,} events"
                + (f"; skipped {skipped}" if skipped else ""),
                highlight=False,
                markup=False,
            )
            for warning in ctx.warnings:
                err.print(f"warning: {path}: {warning}", highlight=False, markup=False)
        if fmt == "table":
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
        if failed and failed == len(paths):
            raise typer.Exit(2)

    @ingest_app.command("news")
    @handles_errors
    def ingest_news_cmd(
        paths: Annotated[list[Path], typer.Argument(help="News or notices files.")],
        store: Annotated[
            str | None,
            typer.Option("--store", help="Store location (default: EWS_STORE or user data dir)."),
        ] = None,
        source: Annotated[
            str | None, typer.Option(help="Source id (default: from the file name).")
        ] = None,
        batch: Annotated[int, typer.Option(help="Documents per transaction.", min=1)] = 2000,
    ) -> None:
        """Store news documents and their events (idempotent; resumable after a kill)."""
        from ews.context import Context
        from ews.settings import get_settings
        from ews.text.extract import Extractor
        from ews.text.ingest import FileReport, ingest_news_file, recluster

        settings = get_settings()
        failed = 0
        with Context.open(settings, store=store) as ctx:
            extractor = Extractor(ctx.catalog)
            today = ctx.clock().date()
            show = settings.progress and sys.stderr.isatty()

            def ingest_one(path: Path, on_batch: Callable[[int], None] | None) -> FileReport:
                return ingest_news_file(
                    ctx.store,
                    extractor,
                    path,
                    source_id=source,
                    max_bytes=settings.max_file_bytes,
                    batch_size=batch,
                    today=today,
                    on_batch=on_batch,
                )

            for path in paths:
                if show:
                    from rich.progress import (
                        BarColumn,
                        MofNCompleteColumn,
                        Progress,
                        SpinnerColumn,
                        TaskID,
                        TextColumn,
                        TimeElapsedColumn,
                    )

                    with Progress(
                        SpinnerColumn(),
                        TextColumn("{task.description}"),
                        BarColumn(),
                        MofNCompleteColumn(),
                        TimeElapsedColumn(),
                        console=err,
                        transient=True,
                    ) as progress:
                        task = progress.add_task(f"ingesting {path.name}", total=None)

                        def advance(n: int, t: TaskID = task, p: Progress = progress) -> None:
                            p.advance(t, n)

                        report = ingest_one(path, advance)
                else:
                    report = ingest_one(path, None)
                if report.error:
                    failed += 1
                    err.print(f"error: {report.summary()}", highlight=False, markup=False)
                else:
                    out.print(report.summary(), highlight=False, markup=False)
                for warning in report.warnings:
                    err.print(f"warning: {path}: {warning}", highlight=False, markup=False)
            clusters = recluster(ctx.store, ctx.catalog)
            out.print(f"{clusters:,} event clusters in the store", highlight=False)
        if failed and failed == len(paths):
            raise typer.Exit(2)


def register_events(ingest_app: typer.Typer) -> None:
    """``ews ingest events FILE...``: structured events (the ``ews extract`` format)."""
    from ews.cli import _open, handles_errors, out

    @ingest_app.command("events")
    @handles_errors
    def ingest_events_cmd(
        files: Annotated[list[Path], typer.Argument(help="Event files (.jsonl, .jsonl.gz).")],
        store: Annotated[str | None, typer.Option("--store", help="Store location.")] = None,
    ) -> None:
        """Ingest events extracted elsewhere (a partner node, a curated list)."""
        from ews.settings import get_settings
        from ews.text.events_file import ingest_events_file
        from ews.text.ingest import recluster

        with _open(store) as ctx:
            for path in files:
                report = ingest_events_file(
                    ctx.store, ctx.catalog, path, max_bytes=get_settings().max_file_bytes
                )
                out.print(report.summary(), highlight=False)
            recluster(ctx.store, ctx.catalog)
