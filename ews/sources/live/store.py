"""Writing a poll's result: observations, the fetch log, the seen keys and the source's state.

Documents are not written here: they go through the text stage (``ews.text.ingest``), which
extracts their events in the same transaction. The runner (``ews.run``) calls the document
writer first and :func:`record_poll` last, so a kill in between leaves the validators and the
cursor where they were and the next poll fetches the same items again, which the content hashes
then skip: nothing lost, nothing doubled.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from ews.records import Document
from ews.sources.ingest import (
    PRICE_KEY,
    PRICE_VALUES,
    TRADE_KEY,
    TRADE_VALUES,
    price_table,
    trade_table,
)
from ews.sources.live.poll import PollResult
from ews.sources.live.registry import LiveSource, mark_seen, save_state
from ews.store import Store

_STORE_KIND = {
    "comtrade": "trade",
    "pinksheet": "prices",
    "portwatch": "transits",
}
FAILURE_BACKOFF_MAX = 8
"""A failing source is tried at 1, 2, 4 and at most 8 poll intervals: polite to a publisher
that is down, and still back within hours of its recovery."""


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def sync_live_source(store: Store, source: LiveSource) -> None:
    """The source's row in ``sources`` (what documents and observations cite)."""
    kind = _STORE_KIND.get(source.kind, "notices" if source.official else "news")
    store.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "name = excluded.name, kind = excluded.kind, format = excluded.format, "
        "url = excluded.url, description = excluded.description",
        [
            source.id,
            source.id,
            kind,
            source.kind,
            "as stated by the publisher",
            source.url,
            source.why or f"live {source.kind} source",
        ],
    )


def write_observations(store: Store, result: PollResult, now: dt.datetime) -> int:
    """Upsert the poll's prices, trade flows and transits; returns rows new or changed."""
    changed = 0
    at = _naive(now)
    with store.transaction():
        if result.prices:
            rows = list({(p.series_id, p.freq, p.period): p for p in result.prices}.values())
            c = store.upsert(
                "price_observations", price_table(rows, at), key=PRICE_KEY, compare=PRICE_VALUES
            )
            changed += c.new + c.changed
        if result.trade:
            keyed = {
                (t.reporter, t.partner, t.flow, t.freq, t.period, t.product_key): t
                for t in result.trade
            }
            c = store.upsert(
                "trade_observations",
                trade_table(list(keyed.values()), at),
                key=TRADE_KEY,
                compare=TRADE_VALUES,
            )
            changed += c.new + c.changed
        if result.transits:
            rows_t = list({(t.chokepoint, t.day): t for t in result.transits}.values())
            table = pa.table(
                {
                    "source_id": [result.source.id] * len(rows_t),
                    "chokepoint": [t.chokepoint for t in rows_t],
                    "name": [t.name for t in rows_t],
                    "day": pa.array([t.day for t in rows_t], pa.date32()),
                    "n_total": pa.array([t.n_total for t in rows_t], pa.float64()),
                    "n_tanker": pa.array([t.n_tanker for t in rows_t], pa.float64()),
                    "n_container": pa.array([t.n_container for t in rows_t], pa.float64()),
                    "n_cargo": pa.array([t.n_cargo for t in rows_t], pa.float64()),
                    "capacity": pa.array([t.capacity for t in rows_t], pa.float64()),
                    "file_name": [t.file_name for t in rows_t],
                    "file_sha256": [t.file_sha256 for t in rows_t],
                    "ingested_at": pa.array([at] * len(rows_t), pa.timestamp("us")),
                }
            )
            c = store.upsert(
                "transit_observations",
                table,
                key=("source_id", "chokepoint", "day"),
                compare=("n_total", "n_tanker", "n_container", "n_cargo", "capacity"),
            )
            changed += c.new + c.changed
    return changed


def newest_new(documents: list[Document], new_ids: set[str]) -> dt.datetime | None:
    """Publication time of the newest document this poll stored for the first time."""
    dates = [d.published for d in documents if d.doc_id in new_ids and d.published is not None]
    return max((_aware(d) for d in dates), default=None)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def record_poll(
    store: Store,
    result: PollResult,
    *,
    now: dt.datetime,
    new_items: int,
    newest: dt.datetime | None,
) -> None:
    """The fetch log, the seen keys and the state after a poll, in one transaction (last)."""
    state = result.state
    at = _naive(now)
    state.last_attempt = at
    if result.error:
        state.failures += 1
        state.last_error, state.last_error_at = result.error[:500], at
        wait = result.source.every_seconds * min(2 ** (state.failures - 1), FAILURE_BACKOFF_MAX)
    else:
        state.failures = 0
        state.last_success = at
        state.items_last = new_items
        state.items_total += new_items
        wait = result.source.every_seconds
        if newest is not None:
            state.lag_seconds = max(0.0, (now - newest).total_seconds())
    if newest is not None and (
        state.newest_published is None or _naive(newest) > state.newest_published
    ):
        state.newest_published = _naive(newest)
    state.next_due = at + dt.timedelta(seconds=wait)
    with store.transaction():
        for f in result.fetches:
            store.execute(
                "INSERT INTO fetch_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    result.source.id,
                    f.url[:2000],
                    _naive(f.at),
                    f.status,
                    f.outcome,
                    f.sha256,
                    f.size,
                    None if f.elapsed is None else round(f.elapsed * 1000, 1),
                    f.error,
                ],
            )
        if result.seen and not result.error:
            mark_seen(store, result.source.id, result.seen, at)
        save_state(store, state)
