"""``ews now``: what is at risk for a watching country now (also what bare ``ews`` shows)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
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
    lang: Annotated[
        str, typer.Option(help="Language of the sentences: en, ko or ja (JSON keys stay English).")
    ] = "en",
) -> None:
    """Open alerts that touch a watching country, worst first, with what changed this week,
    the country's exposure, and how fresh each source's data are."""
    from ews.alerts.repository import load_alerts
    from ews.report.i18n import LANGUAGES, day_text, level_name, translator
    from ews.report.now import default_watcher, now_view
    from ews.risk.inputs import local_today

    if fmt not in ("table", "json"):
        raise EwsError(f"unknown format {fmt!r}; use table or json")
    if lang not in LANGUAGES:
        raise EwsError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    today = local_today()
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
            lang=lang,
        )
        name = ctx.catalog.country_name(code, lang)
    if fmt == "json":
        sys.stdout.write(json.dumps(view.as_json(), ensure_ascii=False, indent=1) + "\n")
        return
    # The command's own words are in the report layer's catalogue too (docs/i18n.md): one
    # language from the first line to the last.
    t = translator(lang)
    out.print(
        "[bold]"
        + escape(t.gettext("What is at risk for {name} now").format(name=name))
        + "[/] — "
        + escape(t.gettext("as of {day}").format(day=day_text(day, lang))),
        highlight=False,
    )
    if view.stale and view.newest_data is not None:
        out.print(
            "[yellow]"
            + escape(t.gettext("Behind:"))
            + "[/] "
            + escape(
                t.gettext(
                    "{stale} of {total} sources hold no data as recent as their schedule "
                    "allows; newest data of any kind {day}. Alerts cannot see what happened "
                    "since."
                ).format(
                    stale=len(view.stale),
                    total=len(view.freshness),
                    day=day_text(view.newest_data, lang),
                )
            ),
            highlight=False,
        )
    if view.alerts:
        table = Table(show_lines=True)
        for col in (
            t.pgettext("column", "level"),
            t.pgettext("column", "alert"),
            t.gettext("this week"),
            t.gettext("exposure"),
        ):
            table.add_column(str(col), overflow="fold")
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
            since = t.gettext("since {day}").format(day=day_text(a.onset, lang))
            table.add_row(
                f"[{LEVEL_STYLE[a.level]}]{escape(level_name(a.level, lang))}[/]",
                escape(a.headline)
                + f"\n[dim]{escape(n.scope)} · {escape(since)} · {a.alert_id}[/]",
                escape(n.changed),
                escape(said),
            )
        out.print(table)
    else:
        out.print(escape(view.empty_text()), highlight=False)
    if view.elsewhere:
        out.print(
            escape(
                t.ngettext(
                    "{n} other open alert concerns suppliers {name} is not known to buy from "
                    "(ews alerts lists them).",
                    "{n} other open alerts concern suppliers {name} is not known to buy from "
                    "(ews alerts lists them).",
                    view.elsewhere,
                ).format(n=view.elsewhere, name=name)
            ),
            highlight=False,
        )
    fresh = Table(title=t.gettext("Freshness of the data"))
    for col in (
        t.gettext("source"),
        t.gettext("kind"),
        t.gettext("newest"),
        t.gettext("age"),
        t.gettext("state"),
    ):
        fresh.add_column(col, overflow="fold")
    for f in view.freshness:
        fresh.add_row(
            f.source,
            f.kind,
            day_text(f.newest, lang) if f.newest else "—",
            t.gettext("{n} d").format(n=f.age_days) if f.age_days is not None else "—",
            "[yellow]" + escape(t.gettext("stale")) + "[/]" if f.stale else t.gettext("fresh"),
        )
    out.print(fresh)
    out.print(
        "[dim]"
        + escape(t.gettext("ews explain ID for an alert's evidence; ews --help for every command."))
        + "[/]"
    )
