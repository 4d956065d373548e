"""``ews ingest prices|trade|news|events``: source files into the store (idempotent).

A news file that cannot be read is reported on stderr with its reason and the rest go on;
when no file could be read the command exits with code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ews.cli.common import StoreOpt, err, handles_errors, open_context, out
from ews.context import Context
from ews.settings import get_settings


def _ingest(kind: str, files: list[Path], store: str | None, source: str | None) -> None:
    from ews.errors import InputError
    from ews.sources.ingest import ingest_file

    settings = get_settings()
    failed = 0
    with open_context(store) as ctx:
        for path in _progress(files, f"ingesting {kind}"):
            # Each file is stored whole in its own transaction or not at all: a file that is not
            # trade data (or is broken) is reported and the others go on.
            try:
                report = ingest_file(
                    ctx.store,
                    ctx.catalog,
                    path,
                    kind=kind,
                    source_id=source,
                    max_bytes=settings.max_file_bytes,
                )
            except InputError as exc:
                failed += 1
                err.print(f"error: {exc}", highlight=False, markup=False)
                continue
            out.print(report.summary(), highlight=False)
            for warning in report.warnings:
                err.print(f"warning: {path}: {warning}", highlight=False)
    _fail_if_any(failed, len(files))


def _fail_if_any(failed: int, total: int) -> None:
    """Each file is stored or not on its own; any file not stored fails the command (exit 2),
    with a count when there were several."""
    if not failed:
        return
    if total > 1:
        err.print(
            f"error: {failed} of {total} files not ingested (see above)",
            highlight=False,
            markup=False,
        )
    raise typer.Exit(2)


def _progress(files: list[Path], label: str) -> list[Path]:
    if len(files) < 2 or not sys.stderr.isatty() or not get_settings().progress:
        return files
    from rich.progress import track

    return list(track(files, description=label, console=err, transient=True))


@handles_errors
def ingest_prices(
    files: Annotated[list[Path], typer.Argument(help="Price workbooks (World Bank Pink Sheet).")],
    store: StoreOpt = None,
    source: Annotated[str | None, typer.Option(help="Source id (default: pinksheet).")] = None,
) -> None:
    """Ingest monthly price files."""
    _ingest("prices", files, store, source)


@handles_errors
def ingest_trade(
    files: Annotated[
        list[Path], typer.Argument(help="Trade CSV files (UN Comtrade, China exports).")
    ],
    store: StoreOpt = None,
    source: Annotated[
        str | None, typer.Option(help="Source id (default: detected from the header).")
    ] = None,
) -> None:
    """Ingest monthly bilateral trade files."""
    _ingest("trade", files, store, source)


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
    _fail_if_any(failed, len(paths))


@handles_errors
def ingest_events_cmd(
    files: Annotated[list[Path], typer.Argument(help="Event files (.jsonl, .jsonl.gz).")],
    store: Annotated[str | None, typer.Option("--store", help="Store location.")] = None,
) -> None:
    """Ingest events extracted elsewhere (a partner node, a curated list)."""
    from ews.text.events_file import ingest_events_file
    from ews.text.ingest import recluster

    with open_context(store) as ctx:
        for path in files:
            report = ingest_events_file(
                ctx.store, ctx.catalog, path, max_bytes=get_settings().max_file_bytes
            )
            out.print(report.summary(), highlight=False)
        recluster(ctx.store, ctx.catalog)
