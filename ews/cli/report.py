"""``ews board`` and ``ews report``: the item board on the terminal, the weekly brief as a
self-contained HTML file or a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from ews.cli.common import StoreOpt, err, handles_errors, open_context, out
from ews.context import Context
from ews.store.files import write_private


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
    """Print the item board of the context's store; returns how many items it shows."""
    from ews.report.board import WATCHERS, build_board

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
    out.print(
        "Dependence and anomalies: ews indicators · risk levels: ews alerts, ews explain ID",
        style="dim",
    )
    return len(rows)


@handles_errors
def board_cmd(store: StoreOpt = None) -> None:
    """Show the item board from what the store holds."""
    with open_context(store) as ctx:
        print_board(ctx)


@handles_errors
def report_cmd(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2025-W41.")],
    fmt: Annotated[Literal["html", "pdf"], typer.Option("--format", help="html or pdf.")] = "html",
    output: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write (default: ews-brief-WEEK.FORMAT)."),
    ] = None,
    include_red: Annotated[
        bool, typer.Option(help="Also carry TLP:RED alerts (the brief is then RED).")
    ] = False,
    store: Annotated[str | None, typer.Option(help="Store location.")] = None,
) -> None:
    """Write the week's brief: alerts, their charts and evidence, and the week's events."""
    from ews.errors import InputError
    from ews.report.weekly import build_weekly, parse_week, render_html, render_pdf

    with open_context(store) as ctx, err.status(f"building the brief for {week}…"):
        monday, _ = parse_week(week)
        today = ctx.clock().date()
        if monday > today:
            # A brief of a week to come would be an empty page that looks like a quiet week.
            raise InputError(f"--week {week} has not begun (today is {today})")
        brief = build_weekly(
            ctx.store,
            ctx.catalog,
            week,
            node_id=ctx.settings.node_id,
            include_red=include_red,
        )
        html = render_html(brief, ctx.catalog)
    target = output or Path(f"ews-brief-{brief.week}.{fmt}")
    if fmt == "pdf":
        with err.status("typesetting the PDF…"):
            payload = render_pdf(html)
    else:
        payload = html.encode("utf-8")
    # The brief holds AMBER (or RED) alerts: 0600, written beside and renamed, so a reader
    # never sees half a brief.
    write_private(target, payload)
    out.print(
        f"{target}: brief for {brief.week} ({brief.monday} to {brief.sunday}), "
        f"{len(brief.lines)} alerts, {len(brief.events)} events, TLP:{brief.tlp}",
        highlight=False,
    )
