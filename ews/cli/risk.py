"""``ews assess``, ``ews alerts``, ``ews explain`` and ``ews backtest``: the risk stage."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ews.alerts.board import BoardFilter, board, board_json, peak_levels
from ews.alerts.records import LEVELS
from ews.cli.common import (
    StoreOpt,
    err,
    handles_errors,
    open_context,
    out,
    parse_date,
    print_alert_board,
)
from ews.errors import EwsError
from ews.store.db import scratch_path


@handles_errors
def assess_cmd(
    store: StoreOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Clock date (default today).")
    ] = None,
) -> None:
    """Score every item x supplier (and watchlist) from the store's signals; raise alerts."""
    from ews.risk.run import assess

    with open_context(store) as ctx:
        result, signals = assess(ctx, as_of=parse_date(as_of, "--as-of"))
        out.print(
            f"signals: {signals.counts.get('events', 0)} from text, "
            f"{signals.counts.get('anomalies', 0)} measured, {len(signals.problems)} refused"
        )
        for p in signals.problems[:20]:
            err.print(f"refused signal {p.ref}: {p.reason}", highlight=False)
        out.print(f"{len(result.assessments)} level changes; {len(result.alerts)} alert versions")
        print_alert_board(result.alerts)


@handles_errors
def alerts_cmd(
    store: StoreOpt = None,
    level: Annotated[str, typer.Option(help="Lowest level shown.")] = "attention",
    country: Annotated[
        str | None, typer.Option(help="Watching country: its watchlist alerts (e.g. KR).")
    ] = None,
    supplier: Annotated[str | None, typer.Option(help="Only risks from this supplier.")] = None,
    include_cancelled: Annotated[bool, typer.Option(help="Show cancelled alerts too.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """The alert board: the newest version of each alert, filtered."""
    from ews.alerts.repository import load_alerts

    if level not in LEVELS:
        raise EwsError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    if fmt not in ("table", "json"):
        raise EwsError(f"unknown format {fmt!r}; use table or json")
    with open_context(store) as ctx:
        if country and ctx.catalog.country_code(country) is None:
            raise EwsError(f"unknown country {country!r}")
        want_c = ctx.catalog.country_code(country) if country else None
        want_s = ctx.catalog.country_code(supplier) if supplier else None
        every = load_alerts(ctx.store)
    shown = board(
        every,
        BoardFilter(
            level=level,
            importer=want_c,
            supplier=want_s,
            status="all" if include_cancelled else "open",
            include_red=True,  # the node's own command line
        ),
    )
    if fmt == "json":
        sys.stdout.write(json.dumps(board_json(shown), ensure_ascii=False, indent=1) + "\n")
        return
    peaks = peak_levels(every)
    print_alert_board([e.alert for e in shown], include_cancelled=include_cancelled, peaks=peaks)


@handles_errors
def explain_cmd(
    alert_id: Annotated[str, typer.Argument(help="Alert id from `ews alerts`.")],
    store: StoreOpt = None,
) -> None:
    """Why an alert was raised: its versions, score, and each piece of evidence."""
    from ews.alerts.repository import load_alerts
    from ews.risk.explain import explain_evidence
    from ews.text.gloss import Glossary

    with open_context(store) as ctx:
        versions = [a for a in load_alerts(ctx.store) if a.alert_id == alert_id]
        if not versions:
            raise EwsError(f"no alert {alert_id!r} in this store")
        versions.sort(key=lambda a: a.version)
        source = next((a for a in reversed(versions) if a.evidence), versions[-1])
        lines = explain_evidence(ctx.store, ctx.catalog, Glossary(ctx.catalog), source.evidence)
    last = versions[-1]
    out.print(f"[bold]{last.headline}[/]", highlight=False)
    out.print(
        f"id {last.alert_id} · TLP:{last.tlp} · onset {last.onset} · origin {last.origin_node}"
    )
    history = Table(title="versions")
    for col in ("v", "sent", "type", "level", "score"):
        history.add_column(col)
    for a in versions:
        history.add_row(str(a.version), f"{a.sent:%Y-%m-%d}", a.msg_type, a.level, f"{a.score:.2f}")
    out.print(history)
    out.print(last.summary, highlight=False)
    for n, line in enumerate(lines, 1):
        e = line.evidence
        out.print(f"\n[bold]{n}. {e.kind}[/] (+{e.weight or 0:.2f}) {e.summary}", highlight=False)
        if e.text:
            out.print(f"   “{e.text}” [{e.lang}]", highlight=False)
        if line.rendering is not None:
            r = line.rendering
            out.print(f"   in English: {r.summary()}", highlight=False)
            out.print(
                f"     actor {r.actor} · measure {r.measure} · goods {r.goods} · "
                f"target {r.target or '—'} · {'effective' if r.date_stated else 'reported'} "
                f"{r.effective}",
                highlight=False,
            )
        if line.carried or line.merged > 1:
            seen = [line.carried] if line.carried else []
            if line.merged > 1:
                seen.append(f"{line.merged} evidence records")
            out.print(f"   carried by {', '.join(seen)}", highlight=False)
        if e.link:
            out.print(f"   {e.link}", highlight=False)


@handles_errors
def backtest_cmd(
    store: StoreOpt = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Real data folder to load first (default ../shared/data if present)."),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Clock at the end of the replay.")] = None,
    since: Annotated[
        str, typer.Option(help="First day replayed; earlier data still serves as baseline.")
    ] = "2017-01-01",
    as_json: Annotated[bool, typer.Option("--json", help="Print the episodes as JSON.")] = False,
) -> None:
    """Replay history with the clock set back; print lead times and false alarms."""
    from ews.backtest.replay import evaluate, load_episodes
    from ews.backtest.results import save_backtest
    from ews.context import Context
    from ews.risk.run import assess, prepare_backtest_store
    from ews.settings import find_shared_data, get_settings

    settings = get_settings()
    folder = data or find_shared_data(settings)
    target = store or str(scratch_path(settings.store, "backtest.duckdb"))
    with Context.open(settings, store=target) as ctx:
        if folder is not None:
            for note in prepare_backtest_store(ctx, folder):
                err.print(note, highlight=False)
        result, signals = assess(
            ctx,
            as_of=parse_date(until, "--until"),
            start=parse_date(since, "--since"),
            persist=True,
        )
        episodes, alarms = evaluate(result, load_episodes(), ctx.catalog)
        save_backtest(ctx.store, episodes, len(alarms), since=since, until=until)
    if as_json:
        sys.stdout.write(json.dumps([e.as_json() for e in episodes], indent=1) + "\n")
        return
    table = Table(title="Backtest: known disruptions")
    for col in (
        "episode",
        "item",
        "country",
        "announced",
        "reference",
        "attention",
        "caution",
        "alert",
        "serious",
        "peak",
        "lead days",
        "after easing",
    ):
        table.add_column(col, overflow="fold")
    for e in episodes:
        j = e.as_json()
        table.add_row(
            j["episode"],
            j["item"],
            (j["country"] or "") + (f" ({j['importer']} view)" if j["importer"] else ""),
            j["announced"],
            j["reference_date"],
            j["first_attention"] or "–",
            j["first_caution"] or "–",
            j["first_alert"] or "–",
            j["first_serious"] or "–",
            j["peak_level"],
            "–" if j["lead_days"] is None else str(j["lead_days"]),
            (f"fell {j['level_fell_on']}" if j["level_fell_on"] else "did not fall")
            if j["eased"]
            else "",
        )
    out.print(table)
    out.print(
        f"signals: {signals.counts}; lead days = reference date - first day at caution "
        "(positive means EWS warned before)",
        highlight=False,
    )
    fa = Table(
        title=f"Alert-level episodes matching no known disruption ({len(alarms)}), for review"
    )
    for col in ("unit", "from", "to", "peak", "score", "evidence"):
        fa.add_column(col, overflow="fold")
    for a in alarms:
        fa.add_row(
            a.unit.label(),
            str(a.start),
            str(a.end),
            a.peak,
            f"{a.peak_score:.2f}",
            " | ".join(a.evidence[:2]),
        )
    out.print(fa)
