"""The ``ews`` command.

Every command opens the store through :class:`~ews.context.Context`; refused input prints
one line naming file, row and field on stderr and exits with code 2.
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ews import __version__
from ews.catalog import load_catalog
from ews.catalog.names import fold
from ews.context import Context
from ews.errors import EwsError
from ews.records import NAME_KEYS
from ews.settings import get_settings
from ews.store.db import scratch_path

app = typer.Typer(
    name="ews",
    help="Supply-chain early-warning system: critical items, signals, risk and alerts.",
    no_args_is_help=True,
    add_completion=False,
)
ingest_app = typer.Typer(
    help="Ingest source files into the store (idempotent).", no_args_is_help=True
)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(audit_app, name="audit")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="Store location (default: EWS_STORE or the user data dir)."),
]


def handles_errors(fn: F) -> F:
    """Turn EWS errors into one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EwsError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _open(store: str | None) -> Context:
    return Context.open(get_settings(), store=store)


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"ews {__version__}")
        raise typer.Exit(0)


# -- catalogue ---------------------------------------------------------------------------------
@app.command("items")
@handles_errors
def items_cmd(
    query: Annotated[str, typer.Argument(help="Code prefix or name in any language.")] = "",
    sector: Annotated[str | None, typer.Option(help="Only this sector.")] = None,
    lang: Annotated[str, typer.Option(help="Name column to show besides English.")] = "ko",
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List and search critical items (any language, with or without Vietnamese diacritics)."""
    catalog = load_catalog()
    if lang not in NAME_KEYS:
        raise EwsError(f"unknown language {lang!r}; use one of {', '.join(NAME_KEYS)}")
    found = [i for i in catalog.search_items(query) if sector is None or i.sector == sector]
    if fmt == "json":
        rows = [
            {
                "hs": i.hs,
                "group": i.group,
                "sector": i.sector,
                "names": i.names,
                "aliases": {k: list(v) for k, v in i.aliases.items()},
                "note": i.note,
            }
            for i in found
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    if fmt != "table":
        raise EwsError(f"unknown format {fmt!r}; use table or json")
    table = Table(title=f"{len(found)} critical items" + (f" matching {query!r}" if query else ""))
    for col in ("HS", "sector", "group", "English", lang):
        table.add_column(col)
    for i in found:
        table.add_row(i.hs, i.sector, i.group, i.names["en"], i.names[lang])
    out.print(table)
    if not found:
        raise typer.Exit(1)


@app.command("countries")
@handles_errors
def countries_cmd(
    query: Annotated[str, typer.Argument(help="Name in any language, or ISO code.")] = "",
) -> None:
    """List countries, or find one by a name in any of the five languages."""
    catalog = load_catalog()
    q = fold(query)
    code = catalog.country_code(query) if query else None
    rows = [
        c
        for c in catalog.countries.values()
        if not q or c.iso2 == code or any(q in fold(n) for n in (*c.names.values(), *c.aliases))
    ]
    table = Table(title=f"{len(rows)} countries")
    for col in ("ISO", "en", "ko", "ja", "zh", "vi"):
        table.add_column(col)
    for c in sorted(rows, key=lambda c: c.iso2):
        table.add_row(
            c.iso2, c.names["en"], c.names["ko"], c.names["ja"], c.names["zh_hans"], c.names["vi"]
        )
    out.print(table)
    if not rows:
        raise typer.Exit(1)


@app.command("sources")
@handles_errors
def sources_cmd() -> None:
    """List the sources this node can read, from their YAML descriptions."""
    from ews.sources.registry import load_specs

    table = Table(title="sources")
    for col in ("id", "kind", "format", "licence", "name"):
        table.add_column(col)
    for s in load_specs().values():
        table.add_row(s.id, s.kind, s.format, s.licence, s.name)
    out.print(table)


# -- ingestion ---------------------------------------------------------------------------------
def _ingest(kind: str, files: list[Path], store: str | None, source: str | None) -> None:
    from ews.sources.ingest import ingest_file

    settings = get_settings()
    with _open(store) as ctx:
        for path in _progress(files, f"ingesting {kind}"):
            report = ingest_file(
                ctx.store,
                ctx.catalog,
                path,
                kind=kind,
                source_id=source,
                max_bytes=settings.max_file_bytes,
            )
            out.print(report.summary(), highlight=False)
            for warning in report.warnings:
                err.print(f"warning: {path}: {warning}", highlight=False)


def _progress(files: list[Path], label: str) -> list[Path]:
    if len(files) < 2 or not sys.stderr.isatty() or not get_settings().progress:
        return files
    from rich.progress import track

    return list(track(files, description=label, console=err, transient=True))


@ingest_app.command("prices")
@handles_errors
def ingest_prices(
    files: Annotated[list[Path], typer.Argument(help="Price workbooks (World Bank Pink Sheet).")],
    store: StoreOpt = None,
    source: Annotated[str | None, typer.Option(help="Source id (default: pinksheet).")] = None,
) -> None:
    """Ingest monthly price files."""
    _ingest("prices", files, store, source)


@ingest_app.command("trade")
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


# -- board and demo ----------------------------------------------------------------------------
def _fmt_pct(value: float | None) -> str:
    if value is None:
        return "–"
    colour = "red" if value >= 20 else "yellow" if value >= 5 else "green" if value <= -5 else ""
    text = f"{value:+.1f}%"
    return f"[{colour}]{text}[/]" if colour else text


def _fmt_usd(value: float) -> str:
    for unit, size in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if value >= size:
            return f"${value / size:,.1f}{unit}"
    return f"${value:,.0f}"


def print_board(ctx: Context) -> int:
    from ews.report.board import PENDING_STAGES, WATCHERS, build_board

    rows = build_board(ctx.store, ctx.catalog)
    table = Table(title="EWS item board", title_style="bold")
    for col in (
        "HS",
        "item",
        "price (latest)",
        "1m",
        "12m",
        "trade, last 12 months",
        "12m",
        *(f"→{w}" for w in WATCHERS),
    ):
        table.add_column(col, overflow="fold")
    for r in rows:
        price = r.price
        trade = r.trade
        table.add_row(
            r.hs,
            r.name,
            f"{price.value:,.2f} {price.unit} ({price.period:%Y-%m})" if price else "–",
            _fmt_pct(price.change_1m) if price else "–",
            _fmt_pct(price.change_12m) if price else "–",
            (
                f"{trade.reporter} {trade.flow}s {_fmt_usd(trade.value_12m)} "
                f"({trade.period_from:%Y-%m}..{trade.period_to:%Y-%m})"
            )
            if trade
            else "–",
            _fmt_pct(trade.change_12m) if trade else "–",
            *((f"{trade.shares[w] * 100:.1f}%" if trade else "–") for w in WATCHERS),
        )
    out.print(table)
    out.print(
        "Price changes are month-on-month and year-on-year; →KR/US/JP is each country's share "
        "of the reporter's bilateral flows of the item over the last 12 months.",
        style="dim",
    )
    if PENDING_STAGES:
        out.print("[bold]Not yet available[/] (no figures are shown for these):")
        for what, stage in PENDING_STAGES:
            out.print(f"  • {what} — stage '{stage}' is not built yet", highlight=False)
    out.print(
        "Dependence and anomalies: ews indicators · risk levels: ews alerts, ews explain ID",
        style="dim",
    )
    return len(rows)


@app.command("board")
@handles_errors
def board_cmd(store: StoreOpt = None) -> None:
    """Show the item board from what the store holds."""
    with _open(store) as ctx:
        print_board(ctx)


@app.command("demo")
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
        from ews.risk.commands import print_alert_board
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
        from ews.access.keys import create_key

        # A fresh store each run, so one read key for the dashboard does not pile up.
        _, token = create_key(ctx.store, "demo dashboard", ["read"], 600)
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
        f"\nTo look again: EWS_STORE={target} ews alerts   ·   ews explain ALERT_ID   ·   "
        "ews backtest   ·   to ingest your own data: ews ingest prices|trade|news FILE",
        highlight=False,
    )
    if shutil.which("ews") is None:
        out.print("(run it as .venv/bin/ews inside the project)", style="dim")


# -- store and audit ---------------------------------------------------------------------------
@app.command("info")
@handles_errors
def info_cmd(store: StoreOpt = None) -> None:
    """Where the store is, its schema version and what it holds."""
    with _open(store) as ctx:
        table = Table(title=f"store {ctx.store.location} (schema v{ctx.store.schema_version()})")
        table.add_column("table")
        table.add_column("rows", justify="right")
        names = [
            r["table_name"]
            for r in ctx.store.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() ORDER BY table_name"
            )
        ]
        for name in names:
            table.add_row(name, f"{ctx.store.scalar(f'SELECT count(*) FROM {name}'):,}")
        out.print(table)


@audit_app.command("verify")
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
    with _open(store) as ctx:
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


def _register_stages() -> None:
    # Stages own their commands; the CLI module only mounts them.
    from ews.api.commands import register as register_api
    from ews.federation.commands import register as register_federation
    from ews.indicators.commands import register as register_indicators
    from ews.report.commands import register as register_report
    from ews.risk.commands import register as register_risk
    from ews.stream.commands import register as register_stream
    from ews.text.commands import register as register_text
    from ews.text.commands import register_events

    register_text(app, ingest_app)
    register_events(ingest_app)
    register_indicators(app)
    register_report(app)
    register_risk(app)
    register_federation(app)
    register_stream(app)
    register_api(app)  # after federation: it adds create/list/revoke to the same `keys` group


_register_stages()


if __name__ == "__main__":  # pragma: no cover
    app()
