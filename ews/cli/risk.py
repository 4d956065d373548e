"""``ews assess``, ``ews alerts``, ``ews explain`` and ``ews backtest``: the risk stage."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from ews.errors import EwsError, InputError
from ews.store.db import scratch_path

if TYPE_CHECKING:
    from ews.backtest.replay import EpisodeResult, FalseAlarm
    from ews.context import Context


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
        if len(signals.problems) > 20:
            err.print(f"… and {len(signals.problems) - 20:,} more refused", highlight=False)
        out.print(f"{len(result.assessments)} level changes; {len(result.alerts)} alert versions")
        print_alert_board(result.alerts)


@handles_errors
def alerts_cmd(
    store: StoreOpt = None,
    level: Annotated[
        str,
        typer.Option(
            metavar=f"[{'|'.join(LEVELS)}]",
            help="Lowest level shown: an open alert's level now, a closed alert's peak.",
        ),
    ] = "attention",
    country: Annotated[
        str | None, typer.Option(help="Watching country: its watchlist alerts (e.g. KR).")
    ] = None,
    supplier: Annotated[str | None, typer.Option(help="Only risks from this supplier.")] = None,
    include_cancelled: Annotated[bool, typer.Option(help="Show cancelled alerts too.")] = False,
    fmt: Annotated[
        str, typer.Option("--format", metavar="[table|json]", help="table or json.")
    ] = "table",
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
    with_news: Annotated[
        list[Path] | None,
        typer.Option(
            "--with-news",
            help="More real documents (JSON lines: id, title, text, published, optional lang, "
            "source, link), each known from its publication day. Repeatable.",
        ),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Clock at the end of the replay.")] = None,
    since: Annotated[
        str, typer.Option(help="First day replayed; earlier data still serves as baseline.")
    ] = "2017-01-01",
    as_json: Annotated[bool, typer.Option("--json", help="Print the episodes as JSON.")] = False,
    false_alarms_only: Annotated[
        bool,
        typer.Option(
            "--false-alarms", help="Print the runs at caution or above matching no episode."
        ),
    ] = False,
) -> None:
    """Replay history with the clock set back; print lead times and unmatched alarms."""
    from ews.backtest.replay import FIT_BEFORE, evaluate, load_episodes
    from ews.backtest.results import save_backtest
    from ews.context import Context
    from ews.risk.run import assess, prepare_backtest_store
    from ews.settings import find_shared_data, get_settings

    settings = get_settings()
    folder = data or find_shared_data(settings)
    target = store or str(scratch_path(settings.store, "backtest.duckdb"))
    extra = list(with_news or [])
    for path in extra:
        if not path.is_file():
            raise InputError(f"--with-news {path}: no such file")
    with Context.open(settings, store=target) as ctx:
        if folder is not None:
            for note in prepare_backtest_store(ctx, folder):
                err.print(note, highlight=False)
        if extra:
            for note in add_news(ctx, extra):
                err.print(note, highlight=False)
        result, signals = assess(
            ctx,
            as_of=parse_date(until, "--until"),
            start=parse_date(since, "--since"),
            persist=True,
        )
        episodes, alarms = evaluate(result, load_episodes(), ctx.catalog)
        save_backtest(ctx.store, episodes, len(alarms), since=since, until=until)
    if false_alarms_only:
        if as_json:
            sys.stdout.write(json.dumps([a.as_json() for a in alarms], indent=1) + "\n")
        else:
            _print_false_alarms(alarms)
        return
    if as_json:
        sys.stdout.write(json.dumps([e.as_json() for e in episodes], indent=1) + "\n")
        return
    _print_episodes(episodes)
    out.print(
        f"signals: {signals.counts}. Lead = reference day - first day at caution (positive: "
        "EWS warned before); 'from ann.' counts from the announcement, 'from impact' from the "
        "impact date. fit = announced before 2022 (thresholds set on these), report = later.",
        highlight=False,
    )
    for split in ("fit", "report"):
        mine = [e for e in episodes if e.episode.split == split]
        announced = [e for e in mine if e.episode.announced is not None]
        on_time = [
            e
            for e in announced
            if e.lead_days_from_announcement is not None and e.lead_days_from_announcement >= -1
        ]
        runs = [a for a in alarms if (a.start < FIT_BEFORE) == (split == "fit")]
        out.print(
            f"{split}: caution within a day of the announcement on {len(on_time)} of "
            f"{len(announced)} announced episodes ({len(mine)} in all); unmatched runs at "
            f"caution or above: {len(runs)}",
            highlight=False,
        )
    _print_false_alarms(alarms)


def add_news(ctx: Context, paths: list[Path]) -> list[str]:
    """Ingest extra real documents for a replay; a file that cannot be read stops the run."""
    from ews.text.extract import Extractor
    from ews.text.ingest import ingest_news_file, recluster

    extractor = Extractor(ctx.catalog)
    notes = []
    for path in paths:
        report = ingest_news_file(
            ctx.store, extractor, path, source_id="news-jsonl", actor="backtest"
        )
        if report.error:
            raise InputError(f"--with-news {path}: {report.error}")
        notes.append(report.summary())
    recluster(ctx.store, ctx.catalog)
    return notes


# Below this width the full table folds every date over three lines: keep what answers "how
# early?" (the full table, and --json, carry the rest).
_NARROW = 140


def _print_episodes(episodes: list[EpisodeResult]) -> None:
    columns: dict[str, Callable[[dict[str, Any]], str]] = {
        "episode": lambda j: j["episode"],
        "set": lambda j: j["split"],
        "country": lambda j: (
            (j["country"] or "") + (f" ({j['importer']} view)" if j["importer"] else "")
        ),
        "announced": lambda j: j["announced"] or "none (market crisis)",
        "impact": lambda j: j["reference_date"],
        "attention": lambda j: j["first_attention"] or "–",
        "caution": lambda j: j["first_caution"] or "–",
        "alert": lambda j: j["first_alert"] or "–",
        "peak": lambda j: j["peak_level"],
        "lead from ann.": _lead_from_announcement,
        "lead from impact": lambda j: "–" if j["lead_days"] is None else str(j["lead_days"]),
        "after easing": lambda j: (
            (f"fell {j['level_fell_on']}" if j["level_fell_on"] else "did not fall")
            if j["eased"]
            else ""
        ),
    }
    if out.width < _NARROW:
        keep = ("episode", "country", "announced", "caution", "lead from ann.", "lead from impact")
        columns = {name: columns[name] for name in keep}
    table = Table(title="Backtest: known disruptions")
    for col in columns:
        table.add_column(col, overflow="fold")
    for e in episodes:
        j = e.as_json()
        table.add_row(*(cell(j) for cell in columns.values()))
    out.print(table)


def _lead_from_announcement(j: dict[str, Any]) -> str:
    lead = j["lead_days_from_announcement"]
    text = "–" if lead is None else str(lead)
    return text + (" (already raised)" if j["raised_before_announcement"] else "")


def _print_false_alarms(alarms: list[FalseAlarm]) -> None:
    fa = Table(title=f"Runs at caution or above matching no known episode ({len(alarms)})")
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
