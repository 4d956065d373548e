"""``ews demo``, ``ews info`` and ``ews audit verify``: the node's store as a whole."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ews.cli.common import (
    StoreOpt,
    err,
    handles_errors,
    open_context,
    out,
    print_alert_board,
)
from ews.cli.report import print_board
from ews.context import Context
from ews.errors import EwsError
from ews.settings import get_settings
from ews.store.db import scratch_path
from ews.store.info import table_counts


@handles_errors
def demo_cmd(
    store: Annotated[
        Path | None, typer.Option(help="Where to create the demo store (replaced if present).")
    ] = None,
) -> None:
    """Create a fresh store, ingest the bundled sample data and print the board."""
    from ews.sources.ingest import ingest_file
    from ews.sources.sample import sample_files

    settings = get_settings()
    target = store or scratch_path(settings.store, "demo.duckdb")
    for stale in (target, target.with_name(target.name + ".wal")):
        if stale.exists():
            stale.unlink()
    out.print(f"[bold]EWS demo[/] — fresh store at {target}", highlight=False)
    with Context.open(settings, store=str(target)) as ctx:
        out.print(
            f"catalogue: {len(ctx.catalog.items)} critical items in {len(ctx.catalog.groups)} "
            f"families, {len(ctx.catalog.countries)} countries, {len(ctx.catalog.hs):,} HS codes"
        )
        for kind, path in sample_files():
            if kind == "events":
                from ews.text.events_file import ingest_events_file
                from ews.text.ingest import recluster

                summary = ingest_events_file(ctx.store, ctx.catalog, path).summary()
                recluster(ctx.store, ctx.catalog)
            else:
                summary = ingest_file(
                    ctx.store, ctx.catalog, path, kind=kind, actor="demo"
                ).summary()
            out.print(summary.replace(str(path), path.name), highlight=False)
        print_board(ctx)
        from ews.alerts.repository import load_alerts
        from ews.risk.run import assess

        with err.status("assessing risk (indicators, anomalies, levels)…"):
            result, signals = assess(ctx)
        out.print(
            f"\nrisk: {signals.counts.get('events', 0)} text signals, "
            f"{signals.counts.get('anomalies', 0)} measured anomalies -> "
            f"{len(result.alerts)} alert versions",
            highlight=False,
        )
        print_alert_board(load_alerts(ctx.store), include_cancelled=True, limit=25)
        from ews.sources.freshness import data_freshness

        newest = max(
            (
                f.newest
                for f in data_freshness(ctx.store, dt.date.today(), stale_after=3)
                if f.newest
            ),
            default=None,
        )
        from ews.access.keys import create_key

        # A fresh store each run, so one read key for the dashboard does not pile up.
        _, token = create_key(ctx.store, "demo dashboard", ["read"], 600)
    # The analyst's view on the sample's last day: on later days its alerts have lapsed and
    # the view says so (and why: the sample's data end then).
    if newest is not None:
        out.print(f"\n[bold]The analyst's view[/] on the sample's newest day ({newest}):")
        from ews.cli.now import now_cmd

        now_cmd(store=str(target), as_of=newest.isoformat())
    out.print(
        "\n[bold]Dashboard[/]: start the server with\n"
        f"    EWS_STORE={target} ews serve\n"
        "then open http://127.0.0.1:8000/ in a browser and sign in with this read-only key "
        f"(shown once):\n    {token}\n"
        "Weekly brief: "
        f"EWS_STORE={target} ews report --week 2025-W41 --format html (or pdf)",
        highlight=False,
        soft_wrap=True,
    )
    out.print(
        f"\nTo look again: EWS_STORE={target} ews now   ·   ews alerts   ·   "
        "ews explain ALERT_ID   ·   ews backtest   ·   "
        "to ingest your own data: ews ingest prices|trade|news FILE",
        highlight=False,
    )
    if shutil.which("ews") is None:
        out.print("(run it as .venv/bin/ews inside the project)", style="dim")


@handles_errors
def info_cmd(store: StoreOpt = None) -> None:
    """Where the store is, its schema version and what it holds."""
    with open_context(store) as ctx:
        table = Table(title=f"store {ctx.store.location} (schema v{ctx.store.schema_version()})")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in table_counts(ctx.store).items():
            table.add_row(name, f"{rows:,}")
        out.print(table)


@handles_errors
def audit_verify(
    store: StoreOpt = None,
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            help="SEQ:HASH of a record noted earlier (the 'head' this command prints); "
            "repeatable. Detects records cut off the end, which the chain alone cannot."
        ),
    ] = None,
) -> None:
    """Check the audit log's hash chain (and anchors); exit 1 if it was altered."""
    wanted: list[tuple[int, str]] = []
    for text in anchor or []:
        number, sep, digest = text.partition(":")
        if not sep or not number.isdigit() or len(digest) != 64:
            raise EwsError(f"anchor {text!r}: expected SEQ:HASH (64 hex digits)")
        wanted.append((int(number), digest.lower()))
    with open_context(store) as ctx:
        ok, count, problem = ctx.store.verify_audit()
        for seq, digest in wanted:
            if not ok:
                break
            found = ctx.store.audit_hash_at(seq)
            if found != digest:
                ok = False
                problem = f"record {seq}: " + (
                    "missing (records cut off the end)" if found is None else "not the anchor"
                )
        head = ctx.store.audit_hash_at(count) if ok and count else None
    if ok:
        out.print(f"audit log intact: {count} records" + (f"; head {count}:{head}" if head else ""))
        return
    err.print(f"audit log altered: {problem}")
    raise typer.Exit(1)
