"""Running the risk stage on a store: collect signals, replay to the clock, save.

``assess`` (live) and ``backtest`` share :func:`collect_signals` and
:func:`ews.risk.assess.replay`; only the clock and what is reported differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ews.alerts.records import alert_origin
from ews.alerts.repository import load_alerts
from ews.context import Context
from ews.risk.assess import ReplayResult, StructureBook, replay
from ews.risk.config import RiskConfig, load_config, load_priors
from ews.risk.inputs import anomaly_signals, event_signals, front_loading, newest_local_date
from ews.risk.persist import save
from ews.risk.signals import Signal, SignalProblem, screen


@dataclass
class SignalSet:
    signals: list[Signal]
    problems: list[SignalProblem]
    counts: dict[str, int] = field(default_factory=dict)


def collect_signals(
    ctx: Context, config: RiskConfig, *, today: dt.date, save_runs: bool = False
) -> SignalSet:
    """Every signal the store supports, screened against ``today``.

    With ``save_runs`` the indicator runs behind the anomalies are stored (with their inputs
    and parameters), so every measured signal of a saved assessment can be traced.
    """
    from ews.indicators.detectors import TradeFlowDrop, UnitValueJump
    from ews.indicators.run import run_prices, run_trade, save_run

    events = event_signals(ctx.store, ctx.catalog, config)
    # Surges too: they confirm a control announced ahead of its date (front_loading).
    trade_detectors = (TradeFlowDrop(direction="both"), UnitValueJump())
    runs = [run_trade(ctx.store, detectors=trade_detectors), run_prices(ctx.store)]
    if save_runs:
        for run in runs:
            save_run(ctx.store, run, actor="risk")
    anomalies = [
        d.anomalies[i] for run in runs if run.report is not None for d, i in run.report.anomalies()
    ]
    measured = anomaly_signals(anomalies, ctx.store, ctx.catalog, config)
    ok, problems = screen(front_loading([*events, *measured], config), ctx.catalog, today=today)
    counts = {"events": len(events), "anomalies": len(measured), "refused": len(problems)}
    return SignalSet(ok, problems, counts)


def assess(
    ctx: Context,
    *,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    persist: bool = True,
) -> tuple[ReplayResult, SignalSet]:
    """Replay every unit up to ``as_of`` (default: today by the context's clock, on the
    calendar of the easternmost publisher read) and save."""
    config = load_config()
    today = as_of or newest_local_date(ctx.clock())
    signals = collect_signals(ctx, config, today=today, save_runs=persist)
    begin = start or min((s.known for s in signals.signals), default=today)
    node = ctx.settings.node_id
    legacy = frozenset(
        a.alert_id for a in load_alerts(ctx.store, origin=node) if alert_origin(a.alert_id) is None
    )
    result = replay(
        signals.signals,
        start=begin,
        end=today,
        config=config,
        structures=StructureBook(config, load_priors()),
        catalog=ctx.catalog,
        node=node,
        legacy_ids=legacy,
    )
    if persist:
        save(ctx.store, result, config, ctx.catalog, ctx.settings.node_id)
    return result, signals


def prepare_backtest_store(ctx: Context, data: Path) -> list[str]:
    """Ingest the real data folder's prices, trade and news into ``ctx.store`` (idempotent)."""
    from ews.sources.ingest import ingest_file

    notes: list[str] = []
    prices = data / "prices" / "CMO-Historical-Data-Monthly.xlsx"
    if prices.exists():
        notes.append(
            ingest_file(ctx.store, ctx.catalog, prices, kind="prices", actor="backtest").summary()
        )
    for name in (
        "china-exports-deep_dive_hs6_monthly.csv",
        "china-exports-country_monthly_stats.csv",
        "china-exports-overview_monthly.csv",
    ):
        path = data / "trade" / name
        if path.exists():
            notes.append(
                ingest_file(ctx.store, ctx.catalog, path, kind="trade", actor="backtest").summary()
            )
    news = [
        data / "news" / "vi" / "vi-news-2025-08_2026-08.jsonl.gz",
        data / "policy" / "critical-minerals-notices.jsonl",
    ]
    news = [p for p in news if p.exists()]
    if news:
        from ews.text.extract import Extractor
        from ews.text.ingest import ingest_news_file, recluster

        extractor = Extractor(ctx.catalog)
        for path in news:
            report = ingest_news_file(ctx.store, extractor, path, actor="backtest")
            notes.append(report.summary())
        recluster(ctx.store, ctx.catalog)
    return notes
