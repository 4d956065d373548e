"""The read side of live sources: how each stands, for ``ews sources status``, the API and the
dashboard (one definition of "stale" for all three)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from ews.sources.live.registry import (
    LiveSource,
    SourceState,
    format_every,
    list_sources,
    load_states,
)
from ews.store import Store

STALE_GRACE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class SourceStatus:
    """One source's health, as a person reads it."""

    id: str
    kind: str
    url: str
    lang: str | None
    country: str | None
    official: bool
    enabled: bool
    every: str
    lag_declared: str | None
    last_attempt: dt.datetime | None
    last_success: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    failures: int
    items_total: int
    items_last: int
    newest_published: dt.datetime | None
    lag_seconds: float | None
    next_poll: dt.datetime | None
    stale: bool
    state: str  # ok | stale | failing | never | disabled
    note: str

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, dt.datetime):
                data[key] = _utc(value).isoformat().replace("+00:00", "Z")
        return data


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def status_of(
    source: LiveSource, state: SourceState | None, *, now: dt.datetime, stale_after: float
) -> SourceStatus:
    """``stale``: enabled, and no success within ``stale_after`` intervals plus an hour
    (counted from when it was added, for a source never polled)."""
    state = state or SourceState(source.id)
    limit = dt.timedelta(seconds=source.every_seconds * stale_after) + STALE_GRACE
    last = state.last_success
    if not source.enabled:
        label, note, stale = "disabled", "not polled (disabled)", False
    elif last is None:
        stale = state.last_attempt is not None and now - _utc(state.last_attempt) > limit
        if state.last_error:
            label, note = "failing", f"never succeeded: {state.last_error}"
        else:
            label, note = "never", "not polled yet"
    else:
        age = now - _utc(last)
        stale = age > limit
        if state.failures:
            label = "stale" if stale else "failing"
            note = f"{state.failures} failed polls in a row: {state.last_error}"
        elif stale:
            label, note = (
                "stale",
                f"no success for {_age(age)} (polled every {format_every(source.every_seconds)})",
            )
        else:
            label, note = "ok", f"last success {_age(age)} ago"
    return SourceStatus(
        id=source.id,
        kind=source.kind,
        url=source.url,
        lang=source.lang,
        country=source.country,
        official=source.official,
        enabled=source.enabled,
        every=format_every(source.every_seconds),
        lag_declared=source.lag,
        last_attempt=state.last_attempt,
        last_success=state.last_success,
        last_error=state.last_error,
        last_error_at=state.last_error_at,
        failures=state.failures,
        items_total=state.items_total,
        items_last=state.items_last,
        newest_published=state.newest_published,
        lag_seconds=state.lag_seconds,
        next_poll=state.next_due,
        stale=stale,
        state=label,
        note=note,
    )


def lag_text(seconds: float | None) -> str:
    """A publication lag for people: ``12 min``, ``5.5 h``, ``3 d``; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


def _age(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def source_statuses(store: Store, *, now: dt.datetime, stale_after: float) -> list[SourceStatus]:
    """Every registered source's status, stale and failing first."""
    states = load_states(store)
    rows = [
        status_of(s, states.get(s.id), now=now, stale_after=stale_after)
        for s in list_sources(store)
    ]
    order = {"failing": 0, "stale": 1, "never": 2, "ok": 3, "disabled": 4}
    return sorted(rows, key=lambda r: (order.get(r.state, 5), r.id))


def due_sources(store: Store, *, now: dt.datetime) -> list[tuple[LiveSource, SourceState]]:
    """Enabled sources whose next poll is due (never polled: due at once)."""
    states = load_states(store)
    due = []
    naive = now.astimezone(dt.UTC).replace(tzinfo=None)
    for source in list_sources(store, enabled_only=True):
        state = states.get(source.id) or SourceState(source.id)
        if state.next_due is None or state.next_due <= naive:
            due.append((source, state))
    return due


def seen_for(store: Store, source_id: str, limit: int = 20_000) -> frozenset[str]:
    """The keys a source has handled, newest first (enough to cover any index page)."""
    rows = store.execute(
        "SELECT key FROM source_seen WHERE source_id = ? ORDER BY seen_at DESC LIMIT ?",
        [source_id, limit],
    ).fetchall()
    return frozenset(str(r[0]) for r in rows)


def recent_fetches(store: Store, source_id: str, limit: int = 20) -> list[dict[str, Any]]:
    return store.query(
        "SELECT url, fetched_at, status, outcome, sha256, bytes, elapsed_ms, error "
        "FROM fetch_log WHERE source_id = ? ORDER BY fetched_at DESC LIMIT ?",
        [source_id, limit],
    )
