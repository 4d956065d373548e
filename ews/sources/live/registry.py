"""The live sources a node polls (``live_sources``) and where each stands (``source_state``).

A user manages the list (``ews sources add|remove``); the shipped defaults
(``defaults.yaml``: real official and news sources in five languages, each with why it is
there and its publication lag) are added with ``ews sources add --defaults``. Nothing is polled
that the user did not add: a fresh node makes no request until told to.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, get_args

import yaml

from ews.errors import EwsError, InputError
from ews.store import Store
from ews.store.db import utcnow

Kind = Literal[
    "rss", "atom", "html-list", "gdelt", "federal-register", "comtrade", "pinksheet", "portwatch"
]
KINDS: tuple[str, ...] = get_args(Kind)
LANGS = ("en", "ko", "ja", "zh", "vi")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
MIN_EVERY = 15
"""No source is polled more than every 15 s (a feed that changes faster is a firehose, which
the gdelt kind reads by its 15-minute files)."""


def parse_every(text: str | int | float) -> int:
    """``15m``, ``1h``, ``1d``, ``90s`` or plain seconds -> seconds (at least 15 s)."""
    found = _EVERY.match(str(text))
    if not found:
        raise InputError(f"not an interval: {text!r} (write 15m, 1h, 1d or seconds)")
    seconds = int(float(found.group(1)) * _UNIT[found.group(2)])
    if seconds < MIN_EVERY:
        raise InputError(f"interval {text!r}: sources are polled at most every {MIN_EVERY} seconds")
    return seconds


def format_every(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class LiveSource:
    """One polled source: what it is, how often, and why it is in the list."""

    id: str
    kind: str
    url: str
    every_seconds: int = 3600
    lang: str | None = None
    country: str | None = None
    enabled: bool = True
    official: bool = False
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    why: str | None = None
    lag: str | None = None

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise InputError(
                f"source id {self.id!r}: lower-case letters, digits, '.', '_' or '-', "
                "at most 64, starting with a letter or digit"
            )
        if self.kind not in KINDS:
            raise InputError(f"unknown kind {self.kind!r} (kinds: {', '.join(KINDS)})")
        if not self.url.startswith(("http://", "https://")):
            raise InputError(f"source {self.id}: only http and https URLs can be polled")
        if self.lang is not None and self.lang not in LANGS:
            raise InputError(f"source {self.id}: language {self.lang!r} is not one of {LANGS}")
        if self.every_seconds < MIN_EVERY:
            raise InputError(f"source {self.id}: polled at most every {MIN_EVERY} seconds")


@dataclass
class SourceState:
    """Where a source stands (one row of ``source_state``)."""

    source_id: str
    etag: str | None = None
    last_modified: str | None = None
    cursor: dict[str, Any] = field(default_factory=dict)
    last_attempt: dt.datetime | None = None
    last_success: dt.datetime | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    failures: int = 0
    next_due: dt.datetime | None = None
    items_total: int = 0
    items_last: int = 0
    newest_published: dt.datetime | None = None
    lag_seconds: float | None = None


# -- the shipped defaults ----------------------------------------------------------------------
@lru_cache(maxsize=1)
def default_sources() -> tuple[LiveSource, ...]:
    """The real sources shipped in ``defaults.yaml``."""
    text = resources.files("ews.sources.live").joinpath("defaults.yaml").read_text("utf-8")
    raw = yaml.safe_load(text) or []
    found: list[LiveSource] = []
    for entry in raw:
        try:
            found.append(
                LiveSource(
                    id=entry["id"],
                    kind=entry["kind"],
                    url=entry["url"],
                    every_seconds=parse_every(entry.get("every", "1h")),
                    lang=entry.get("lang"),
                    country=entry.get("country"),
                    official=bool(entry.get("official", False)),
                    params=dict(entry.get("params") or {}),
                    why=" ".join(str(entry.get("why", "")).split()) or None,
                    lag=" ".join(str(entry.get("lag", "")).split()) or None,
                )
            )
        except (KeyError, TypeError) as exc:
            raise EwsError(f"defaults.yaml: entry {entry!r:.80} lacks {exc}") from exc
    ids = [s.id for s in found]
    if len(ids) != len(set(ids)):
        raise EwsError("defaults.yaml: duplicate source ids")
    return tuple(found)


# -- the registry in the store --------------------------------------------------------------
_COLUMNS = "id, kind, url, lang, country, every_seconds, enabled, official, params, why, lag"


def _source(row: tuple[Any, ...]) -> LiveSource:
    return LiveSource(
        id=row[0],
        kind=row[1],
        url=row[2],
        lang=row[3],
        country=row[4],
        every_seconds=int(row[5]),
        enabled=bool(row[6]),
        official=bool(row[7]),
        params=json.loads(row[8] or "{}"),
        why=row[9],
        lag=row[10],
    )


def list_sources(store: Store, *, enabled_only: bool = False) -> list[LiveSource]:
    where = " WHERE enabled" if enabled_only else ""
    rows = store.execute(f"SELECT {_COLUMNS} FROM live_sources{where} ORDER BY id").fetchall()
    return [_source(r) for r in rows]


def get_source(store: Store, source_id: str) -> LiveSource:
    row = store.execute(f"SELECT {_COLUMNS} FROM live_sources WHERE id = ?", [source_id]).fetchone()
    if row is None:
        raise InputError(f"no live source {source_id!r} (see ews sources list)")
    return _source(row)


def add_source(store: Store, source: LiveSource, *, actor: str, replace: bool = False) -> bool:
    """Add (or with ``replace`` update) a source; returns False when it exists unchanged."""
    existing = store.execute("SELECT 1 FROM live_sources WHERE id = ?", [source.id]).fetchone()
    if existing and not replace:
        current = get_source(store, source.id)
        if (current, current.params) == (source, source.params):
            return False
        raise InputError(f"source {source.id!r} exists with other settings (use --replace)")
    row = [
        source.id,
        source.kind,
        source.url,
        source.lang,
        source.country,
        source.every_seconds,
        source.enabled,
        source.official,
        json.dumps(source.params, ensure_ascii=False, sort_keys=True),
        source.why,
        source.lag,
        utcnow(),
        actor,
    ]
    with store.transaction():
        store.execute("DELETE FROM live_sources WHERE id = ?", [source.id])
        store.execute(
            "INSERT INTO live_sources (id, kind, url, lang, country, every_seconds, enabled, "
            "official, params, why, lag, added_at, added_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        if existing:
            # A new URL or kind starts afresh: old validators and cursors belong to the old one.
            store.execute("DELETE FROM source_state WHERE source_id = ?", [source.id])
            store.execute("DELETE FROM source_seen WHERE source_id = ?", [source.id])
        store.audit(
            actor,
            "sources.replace" if existing else "sources.add",
            source.id,
            {"kind": source.kind, "url": source.url, "every": source.every_seconds},
        )
    return True


def remove_source(store: Store, source_id: str, *, actor: str) -> None:
    """Stop polling a source. What it fetched stays: documents, observations, raw bytes."""
    get_source(store, source_id)
    with store.transaction():
        store.execute("DELETE FROM live_sources WHERE id = ?", [source_id])
        store.execute("DELETE FROM source_state WHERE source_id = ?", [source_id])
        store.execute("DELETE FROM source_seen WHERE source_id = ?", [source_id])
        store.audit(actor, "sources.remove", source_id, {})


def set_enabled(store: Store, source_id: str, enabled: bool, *, actor: str) -> None:
    get_source(store, source_id)
    with store.transaction():
        store.execute("UPDATE live_sources SET enabled = ? WHERE id = ?", [enabled, source_id])
        store.audit(actor, "sources.enable" if enabled else "sources.disable", source_id, {})


# -- state -------------------------------------------------------------------------------------
_STATE_COLUMNS = (
    "source_id, etag, last_modified, cursor, last_attempt, last_success, last_error, "
    "last_error_at, failures, next_due, items_total, items_last, newest_published, lag_seconds"
)


def _state(row: tuple[Any, ...]) -> SourceState:
    return SourceState(
        source_id=row[0],
        etag=row[1],
        last_modified=row[2],
        cursor=json.loads(row[3]) if row[3] else {},
        last_attempt=row[4],
        last_success=row[5],
        last_error=row[6],
        last_error_at=row[7],
        failures=int(row[8]),
        next_due=row[9],
        items_total=int(row[10]),
        items_last=int(row[11]),
        newest_published=row[12],
        lag_seconds=row[13],
    )


def load_states(store: Store) -> dict[str, SourceState]:
    rows = store.execute(f"SELECT {_STATE_COLUMNS} FROM source_state").fetchall()
    return {r[0]: _state(r) for r in rows}


def save_state(store: Store, state: SourceState) -> None:
    """Write one source's state (inside the caller's transaction)."""
    store.execute("DELETE FROM source_state WHERE source_id = ?", [state.source_id])
    store.execute(
        f"INSERT INTO source_state ({_STATE_COLUMNS}) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            state.source_id,
            state.etag,
            state.last_modified,
            json.dumps(state.cursor, ensure_ascii=False, sort_keys=True) if state.cursor else None,
            state.last_attempt,
            state.last_success,
            state.last_error,
            state.last_error_at,
            state.failures,
            state.next_due,
            state.items_total,
            state.items_last,
            state.newest_published,
            state.lag_seconds,
        ],
    )


def seen_keys(store: Store, source_id: str, keys: list[str]) -> set[str]:
    """Which of ``keys`` the source has already handled."""
    if not keys:
        return set()
    marks = ", ".join("?" for _ in keys)
    rows = store.execute(
        f"SELECT key FROM source_seen WHERE source_id = ? AND key IN ({marks})",
        [source_id, *keys],
    ).fetchall()
    return {str(r[0]) for r in rows}


def mark_seen(store: Store, source_id: str, keys: list[str], at: dt.datetime) -> None:
    for key in dict.fromkeys(keys):
        store.execute(
            "INSERT INTO source_seen VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [source_id, key, at],
        )
