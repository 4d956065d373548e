"""``ews now``: what is at risk for a watching country now (also what bare ``ews`` shows)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from ews.cli.common import LEVEL_STYLE, StoreOpt, handles_errors, open_context, out, parse_date
from ews.errors import EwsError


@handles_errors
def now_cmd(
    store: StoreOpt = None,
    country: Annotated[
        str | None,
        typer.Option(help="Watching country, name or code (default: the first of the watchlist)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The day to look from, YYYY-MM-DD (default: today)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Open alerts that touch a watching country, worst first, with what changed this week,
    the country's exposure, and how fresh each source's data are."""
    from ews.alerts.repository import load_alerts
    from ews.report.now import default_watcher, now_view
    from ews.risk.inputs import newest_local_date

    if fmt not in ("table", "json"):
        raise EwsError(f"unknown format {fmt!r}; use table or json")
    today = newest_local_date(dt.datetime.now(dt.UTC))
    day = parse_date(as_of, "--as-of") or today
    if day > today:
        raise EwsError(f"--as-of: {day} is in the future")
    with open_context(store) as ctx:
        code = default_watcher()
        if country:
            found = ctx.catalog.country_code(country)
            if found is None:
                raise EwsError(f"unknown country {country!r}")
            code = found
        view = now_view(
            ctx.store,
            ctx.catalog,
            load_alerts(ctx.store),
            code,
            day=day,
            include_red=True,  # the node's own command line
            stale_after=ctx.settings.source_stale_after,
        )
        name = ctx.catalog.country_name(code)
    if fmt == "json":
        sys.stdout.write(json.dumps(view.as_json(), ensure_ascii=False, indent=1) + "\n")
        return
    out.print(f"[bold]What is at risk for {name} now[/] — as of {day:%d %b %Y}")
    if view.stale and view.newest_data is not None:
        out.print(
            f"[yellow]Behind:[/] {len(view.stale)} of {len(view.freshness)} sources hold no data "
            f"as recent as their schedule allows; newest data of any kind "
            f"{view.newest_data:%d %b %Y}. Alerts cannot see what happened since.",
            highlight=False,
        )
    if view.alerts:
        table = Table(show_lines=True)
        for col in ("level", "alert", "this week", "exposure"):
            table.add_column(col, overflow="fold")
        for n in view.alerts:
            a = n.entry.alert
            stake = n.exposure
            said = (
                stake.dependence.text
                if stake.dependence
                else stake.received.text
                if stake.received
                else (stake.unknown[0] if stake.unknown else "")
            )
            table.add_row(
                f"[{LEVEL_STYLE[a.level]}]{a.level}[/]",
                f"{a.headline}\n[dim]{n.scope} · since {a.onset:%d %b %Y} · {a.alert_id}[/]",
                n.changed,
                said,
            )
        out.print(table)
    else:
        out.print(view.empty_text(), highlight=False)
    if view.elsewhere:
        out.print(
            f"{view.elsewhere} other open "
            + ("alerts concern" if view.elsewhere > 1 else "alert concerns")
            + f" suppliers {name} is not known to buy from (ews alerts lists them).",
            highlight=False,
        )
    fresh = Table(title="Freshness of the data")
    for col in ("source", "kind", "newest", "age", "state"):
        fresh.add_column(col, overflow="fold")
    for f in view.freshness:
        fresh.add_row(
            f.source,
            f.kind,
            f"{f.newest:%d %b %Y}" if f.newest else "—",
            f"{f.age_days} d" if f.age_days is not None else "—",
            "[yellow]stale[/]" if f.stale else "fresh",
        )
    out.print(fresh)
    out.print("[dim]ews explain ID for an alert's evidence; ews --help for every command.[/]")
