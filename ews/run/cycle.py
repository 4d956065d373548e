"""One cycle of the node, and the loop that repeats it (``ews run``, ``ews run --once``).

A cycle: read which sources are due (store) → poll them (network, store closed) → write each
poll's documents with their events, observations and state (store) → recluster and assess when
anything is new → push new alert versions to partners and, if asked, to a stream (network).

The store is open only in the store phases: a DuckDB file admits one process at a time, and the
operator's commands and the node's server must get in between cycles.

Safe to kill at any point. A poll writes nothing until it is done; its documents are written
before its state, so a kill in between means the same items are fetched again and skipped by
their content hash; assessment and the outbox are idempotent (re-running them changes nothing
that is already right). Restarting continues where the store says.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ews.alerts.repository import count_versions
from ews.context import Context
from ews.errors import EwsError
from ews.run.metrics import RunMetrics
from ews.settings import Settings
from ews.sources.live.http import Fetcher, FetchPolicy
from ews.sources.live.kinds import KIND_FUNCTIONS
from ews.sources.live.poll import Poll, PollResult, run_poll
from ews.sources.live.raw import RawStore, raw_dir_for
from ews.sources.live.registry import LiveSource, SourceState, get_source, load_states
from ews.sources.live.status import due_sources, seen_for, source_statuses
from ews.sources.live.store import newest_new, record_poll, sync_live_source, write_observations

log = logging.getLogger("ews.run")


@dataclass
class RunOptions:
    """What a cycle does besides polling."""

    store: str | None = None
    only: tuple[str, ...] = ()
    force: bool = False
    assess: bool = True
    push: bool = True
    stream: str | None = None  # a transport (nats, kafka) to publish alert versions to
    stream_url: str | None = None
    workers: int = 4


@dataclass
class CycleReport:
    """What one cycle did, for the log line, the CLI and the tests."""

    started: dt.datetime
    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    documents_new: int = 0
    documents_seen: int = 0
    events_new: int = 0
    observations: int = 0
    alert_versions: int = 0
    assessed: bool = False
    pushed: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def summary(self) -> str:
        text = (
            f"polled {self.polled} sources ({self.not_modified} unchanged, {self.failed} failed): "
            f"{self.documents_new} new documents ({self.documents_seen} already stored), "
            f"{self.events_new} new events, {self.observations} observations new or changed"
        )
        if self.assessed:
            text += f"; assessed: {self.alert_versions} alert versions raised or updated"
        if self.pushed:
            text += f"; {self.pushed} pushed to partners"
        return text + f" ({self.elapsed:.1f} s)"


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _selected(
    ctx: Context, options: RunOptions, now: dt.datetime
) -> list[tuple[LiveSource, SourceState]]:
    if options.only:
        states = load_states(ctx.store)
        chosen = [get_source(ctx.store, sid) for sid in options.only]
        return [(s, states.get(s.id) or SourceState(s.id)) for s in chosen]
    if options.force:
        states = load_states(ctx.store)
        from ews.sources.live.registry import list_sources

        return [
            (s, states.get(s.id) or SourceState(s.id))
            for s in list_sources(ctx.store, enabled_only=True)
        ]
    return due_sources(ctx.store, now=now)


def run_cycle(
    settings: Settings,
    options: RunOptions,
    *,
    fetcher: Fetcher | None = None,
    metrics: RunMetrics | None = None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    stop: threading.Event | None = None,
) -> CycleReport:
    """One cycle (module docstring). ``stop`` set during the cycle ends it after the polls
    under way, writing what they brought."""
    now = clock()
    report = CycleReport(started=now)
    began = time.monotonic()
    metrics = metrics or RunMetrics()
    raw = RawStore(raw_dir_for(settings))
    secrets = (
        {"comtrade_key": settings.comtrade_key.get_secret_value()} if settings.comtrade_key else {}
    )

    # 1. What is due (store open briefly).
    with Context.open(settings, store=options.store) as ctx:
        catalog = ctx.catalog
        due = _selected(ctx, options, now)
        seen = {s.id: seen_for(ctx.store, s.id) for s, _ in due if s.kind in ("html-list", "gdelt")}
        store_location = options.store or settings.store
    if not due:
        log.info("no source due")

    # 2. Poll (network, store closed).
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(FetchPolicy.from_settings(settings))
    try:
        polls = [
            Poll(
                source,
                state,
                fetcher,
                raw,
                catalog,
                seen.get(source.id, frozenset()),
                secrets,
                clock,
            )
            for source, state in due
        ]

        def one(poll: Poll) -> PollResult:
            if stop is not None and stop.is_set():
                poll.result.error = "not polled: the node is stopping"
                return poll.result
            return run_poll(poll, KIND_FUNCTIONS[poll.source.kind])

        with ThreadPoolExecutor(
            max_workers=max(1, options.workers), thread_name_prefix="poll"
        ) as pool:
            results = list(pool.map(one, polls))
    finally:
        if own_fetcher:
            fetcher.close()

    # 3. Write, extract, assess (store open).
    from ews.text.extract import Extractor
    from ews.text.ingest import FileReport, recluster, store_documents, stored_ids

    with Context.open(settings, store=store_location) as ctx:
        extractor = Extractor(ctx.catalog)
        fresh = 0
        for result in results:
            if result.error == "not polled: the node is stopping":
                continue
            source = result.source
            report.polled += 1
            for f in result.fetches:
                if f.elapsed is not None:
                    metrics.fetch_seconds.labels(source.id).observe(f.elapsed)
            newest: dt.datetime | None = None
            new_items = 0
            if result.error:
                report.failed += 1
                report.errors.append(f"{source.id}: {result.error}")
                metrics.fetch_errors.labels(source.id).inc()
                metrics.polls.labels(source.id, "error").inc()
                log.warning("source %s failed: %s", source.id, result.error)
            else:
                try:
                    with ctx.store.transaction():
                        sync_live_source(ctx.store, source)
                    if result.documents:
                        docs = list({d.doc_id: d for d in result.documents}.values())
                        known = stored_ids(ctx.store, [d.doc_id for d in docs])
                        file_report = FileReport(file=source.url, source_id=source.id)
                        store_documents(ctx.store, extractor, docs, file_report, today=now.date())
                        new_ids = {d.doc_id for d in docs} - known
                        new_items += len(new_ids)
                        report.documents_new += len(new_ids)
                        report.documents_seen += len(docs) - len(new_ids)
                        report.events_new += file_report.events_new
                        metrics.documents.labels(source.id).inc(len(new_ids))
                        metrics.events.inc(file_report.events_new)
                        newest = newest_new(docs, new_ids)
                    changed = write_observations(ctx.store, result, now)
                    new_items += changed
                    report.observations += changed
                    metrics.observations.labels(source.id).inc(changed)
                except EwsError as exc:
                    result.error = f"storing: {exc!s}"
                    report.failed += 1
                    report.errors.append(f"{source.id}: {result.error}")
                    metrics.fetch_errors.labels(source.id).inc()
                if not result.error:
                    outcome = "not_modified" if result.not_modified else "ok"
                    report.not_modified += result.not_modified
                    metrics.polls.labels(source.id, outcome).inc()
                    for warning in result.warnings:
                        log.info("source %s: %s", source.id, warning)
            fresh += new_items
            record_poll(ctx.store, result, now=now, new_items=new_items, newest=newest)
            state = result.state
            if state.last_success is not None:
                metrics.last_success.labels(source.id).set(_aware(state.last_success).timestamp())
            if newest is not None and state.lag_seconds is not None:
                metrics.lag.labels(source.id).set(state.lag_seconds)
        if report.documents_new:
            recluster(ctx.store, ctx.catalog)
        if options.assess and (fresh or options.force or options.only):
            from ews.risk.run import assess

            before = count_versions(ctx.store, origin=settings.node_id)
            ctx.clock = clock
            assess(ctx)
            report.assessed = True
            report.alert_versions = count_versions(ctx.store, origin=settings.node_id) - before
            metrics.alerts.inc(report.alert_versions)
        statuses = source_statuses(ctx.store, now=clock(), stale_after=settings.source_stale_after)
    stale = [s.id for s in statuses if s.stale]
    for s in statuses:
        metrics.source_stale.labels(s.id).set(1 if s.stale else 0)

    # 4. Share (network; the federation code opens the store for each short unit of work).
    if options.push and report.alert_versions:
        report.pushed = _push(settings, store_location, report)
        metrics.pushed.inc(report.pushed)
    if options.stream and report.alert_versions:
        _publish(settings, store_location, options, report)
    report.elapsed = time.monotonic() - began
    metrics.cycle_seconds.observe(report.elapsed)
    ok = not due or report.failed < report.polled or report.polled == 0
    metrics.cycle_done(ok, report.errors, stale)
    return report


def _node(settings: Settings, store: str):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from ews.federation.config import FederationConfig
    from ews.federation.node import Node

    config = replace(FederationConfig.from_env(), store=store)
    if not Path(config.key_path).exists():
        return None
    return Node(config)


def _push(settings: Settings, store: str, report: CycleReport) -> int:
    """Queue and push the new versions to active partners; a partner that is down costs a
    line in the report, and its deliveries stay queued for the next cycle."""
    from ews.federation.exchange import sync_once

    node = _node(settings, store)
    if node is None:
        log.info("no node key: alerts are not pushed (ews keys init)")
        return 0
    try:
        sync = sync_once(node, push=True, pull=False)
    except EwsError as exc:
        report.errors.append(f"push: {exc!s}")
        return 0
    report.errors.extend(sync.errors)
    return sync.pushed


def _publish(settings: Settings, store: str, options: RunOptions, report: CycleReport) -> None:
    from ews.stream.alerts import publish_alerts
    from ews.stream.transport import open_transport

    node = _node(settings, store)
    if node is None:
        return
    try:
        transport = open_transport(options.stream, options.stream_url, settings)
        try:
            publish_alerts(
                transport,
                node,
                prefix=settings.stream_prefix,
                ttl=dt.timedelta(seconds=settings.stream_message_ttl),
                since=report.started,
            )
        finally:
            transport.close()
    except EwsError as exc:
        report.errors.append(f"stream: {exc!s}")


def run_forever(
    settings: Settings,
    options: RunOptions,
    *,
    every: float,
    metrics: RunMetrics,
    stop: threading.Event,
    on_cycle: Callable[[CycleReport], None] | None = None,
    fetcher: Fetcher | None = None,
) -> None:
    """Cycle every ``every`` seconds until ``stop`` is set (SIGTERM, SIGINT). A cycle that
    fails as a whole (the store is locked for too long, a disk error) is logged and the loop
    goes on: a node must outlive a bad minute."""
    metrics.every = every
    while not stop.is_set():
        began = time.monotonic()
        try:
            report = run_cycle(settings, options, metrics=metrics, stop=stop, fetcher=fetcher)
        except EwsError as exc:
            log.error("cycle failed: %s", str(exc))
            metrics.cycle_done(False, [str(exc)], [])
        except Exception:
            log.exception("cycle failed")
            metrics.cycle_done(False, ["unexpected error; see the log"], [])
        else:
            log.info("cycle: %s", report.summary())
            if on_cycle is not None:
                on_cycle(report)
        stop.wait(max(0.0, every - (time.monotonic() - began)))
