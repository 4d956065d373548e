"""What keeps a flood off the node's inbox: a rate per source, capped refusal records, and a
check of every message before the store is opened.

The inbox (:mod:`ews.api.node`) is open to anyone who can reach the node. Before these guards,
each request, garbage included, opened the store and appended a record to the hash-chained
audit log, so 500 garbage POSTs cost 500 store openings and 500 records, and a flood could
grow the log without bound. Now:

- :class:`RateLimiter` gives each source address a token bucket
  (``EWS_FEDERATION_INBOX_RATE`` per second, ``EWS_FEDERATION_INBOX_BURST`` at once); a request
  without a token gets 429 and ``Retry-After``. An accepted message gives its token back, so
  only refused requests count and a partner catching up after an outage is never slowed.
- Before the store is opened, everything that can be refused without it is: size, declared
  content type, JSON syntax and depth (:func:`ews.alerts.signing.parse_message`), then
  (:func:`check_message`) envelope shape, sender, signature, addressing, validity window and
  payload, against the partner keys of :class:`PartnerKeys` (kept in memory, reloaded when
  the store changes). Only messages signed by a registered partner reach the store (for the
  nonce, the ownership and conflict checks, and storage, in
  :func:`ews.federation.inbox.accept`).
- :class:`RefusalLog` writes the first refusal of a (source, reason) in each
  ``EWS_FEDERATION_REFUSAL_WINDOW`` and counts the rest; the count goes into the next record of
  that source and reason (or one written when the server stops), so every refusal is
  accounted for in at most one record per source, reason and window.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ews.alerts.signing import Rejected, open_message
from ews.federation.node import Node
from ews.federation.partners import partner_keys
from ews.settings import Settings, get_settings
from ews.store import Store
from ews.store.db import is_postgres_location

MAX_SOURCES: Final = 10_000
"""Source addresses remembered by the rate limiter and the refusal log; beyond it the oldest
are forgotten (a forgotten source starts again with a full bucket, or a fresh window)."""
MAX_RECORDS_PER_WINDOW: Final = 200
"""Refusal records written per window across all sources: many addresses (an IPv6 block)
cannot grow the audit log faster than this either; further refusals are counted."""
PARTNER_KEYS_MAX_AGE: Final = 30.0
"""Seconds the partner keys are trusted without looking at the store; a DuckDB file that
changed (``ews partners add``) reloads them at once, a PostgreSQL store after this long."""


@dataclass(frozen=True)
class InboxLimits:
    """How much the inbox takes from one source, and how its refusals are audited."""

    rate: float = 5.0
    """Requests per second per source address (``EWS_FEDERATION_INBOX_RATE``)."""
    burst: int = 60
    """Requests a source may send at once (``EWS_FEDERATION_INBOX_BURST``)."""
    refusal_window: float = 300.0
    """Seconds per audited (source, reason) (``EWS_FEDERATION_REFUSAL_WINDOW``)."""

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> InboxLimits:
        settings = settings or get_settings()
        return cls(
            rate=settings.federation_inbox_rate,
            burst=settings.federation_inbox_burst,
            refusal_window=settings.federation_refusal_window,
        )


class RateLimiter:
    """A token bucket per source address."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, float(burst), clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def _tokens(self, source: str, now: float) -> float:
        tokens, at = self._buckets.get(source, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)

    def take(self, source: str) -> float:
        """0 when ``source`` may go ahead (a token is taken), else the seconds until it may."""
        with self._lock:
            now = self.clock()
            tokens = self._tokens(source, now)
            if tokens < 1.0:
                self._buckets[source] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[source] = (tokens - 1.0, now)
            self._buckets.move_to_end(source)
            while len(self._buckets) > MAX_SOURCES:
                self._buckets.popitem(last=False)
            return 0.0

    def give_back(self, source: str) -> None:
        """Return the token of a request that turned out well (an accepted message)."""
        with self._lock:
            now = self.clock()
            self._buckets[source] = (min(self.burst, self._tokens(source, now) + 1.0), now)


@dataclass
class _Window:
    started: float
    suppressed: int = 0
    message: str = ""
    claimed_sender: str | None = None


class RefusalLog:
    """Audit records for refused requests, at most one per (source, way in, reason) and
    window."""

    def __init__(self, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.window, self.clock = window, clock
        self._windows: OrderedDict[tuple[str, str, str], _Window] = OrderedDict()
        self._written: list[float] = []  # when records were written, the last window's
        self._lock = threading.Lock()

    def due(self, source: str, rej: Rejected, via: str = "push") -> dict[str, Any] | None:
        """The audit detail to write for this refusal now, or None when it is only counted;
        ``via``: ``push`` (the inbox) or ``feed`` (a feed request)."""
        key = (source, via, rej.reason)
        with self._lock:
            now = self.clock()
            self._written = [t for t in self._written if now - t < self.window]
            seen = self._windows.get(key)
            if seen is not None and now - seen.started < self.window:
                seen.suppressed += 1
                seen.message, seen.claimed_sender = rej.message, rej.sender
                return None
            earlier = seen.suppressed if seen is not None else 0
            if len(self._written) >= MAX_RECORDS_PER_WINDOW:
                # Counted under this key; written when its window is over (or at shutdown).
                self._windows[key] = _Window(now, earlier + 1, rej.message, rej.sender)
                self._windows.move_to_end(key)
                self._trim()
                return None
            self._windows[key] = _Window(now)
            self._windows.move_to_end(key)
            self._trim()
            self._written.append(now)
        return _detail(source, via, rej.reason, rej.message, rej.sender, count=earlier + 1)

    def overdue(self, *, everything: bool = False) -> list[dict[str, Any]]:
        """Records owed for refusals only counted so far: those of windows that are over (all
        of them with ``everything``, when the server stops). Each is owed once."""
        out = []
        with self._lock:
            now = self.clock()
            for (source, via, reason), seen in self._windows.items():
                if seen.suppressed and (everything or now - seen.started >= self.window):
                    out.append(
                        _detail(
                            source,
                            via,
                            reason,
                            seen.message,
                            seen.claimed_sender,
                            count=seen.suppressed,
                        )
                    )
                    seen.suppressed = 0
        return out

    def _trim(self) -> None:
        while len(self._windows) > MAX_SOURCES:
            self._windows.popitem(last=False)


def _detail(
    source: str, via: str, reason: str, message: str, claimed_sender: str | None, *, count: int
) -> dict[str, Any]:
    return {
        "reason": reason,
        "message": message,
        "claimed_sender": claimed_sender,
        "via": via,
        "source": source,
        "count": count,
    }


def write_refusals(store: Store, details: list[dict[str, Any]]) -> None:
    """Append refusal records (``federation.reject``; subject: the claimed sender, else the
    source address). ``count`` is how many refusals of that source and reason the record
    stands for: this one and those only counted since the last record (the message is the
    latest one's); the counts of all records add up to every refusal."""
    for detail in details:
        subject = detail["claimed_sender"] or detail["source"]
        store.audit("federation", "federation.reject", subject, detail)


class PartnerKeys:
    """The active partners' public keys, in memory; reloaded when the store changed."""

    def __init__(self, node: Node, *, max_age: float = PARTNER_KEYS_MAX_AGE) -> None:
        self.node, self.max_age = node, max_age
        location = node.config.store
        self._path = (
            None
            if is_postgres_location(location) or location == ":memory:"
            else Path(location).expanduser()
        )
        self._keys: dict[str, Ed25519PublicKey] | None = None
        self._generation: tuple[int, ...] | None = None
        self._loaded = 0.0
        self._lock = threading.Lock()

    def _stat(self) -> tuple[int, ...] | None:
        if self._path is None:
            return None
        out: list[int] = []
        for path in (self._path, self._path.with_name(self._path.name + ".wal")):
            try:
                st = path.stat()
            except FileNotFoundError:
                out += [0, 0]
            else:
                out += [st.st_mtime_ns, st.st_size]
        return tuple(out)

    def get(self) -> dict[str, Ed25519PublicKey]:
        """The keys; opens the store only when it changed since they were read."""
        with self._lock:
            stale = (
                self._keys is None
                or time.monotonic() - self._loaded > self.max_age
                or self._stat() != self._generation
            )
            if stale:
                with self.node.store() as store:
                    self._fill(store)
                self._generation = self._stat()
            assert self._keys is not None
            return self._keys

    def refresh(self, store: Store) -> None:
        """Read the keys from a store the caller holds open (after it wrote: its own writes
        then do not count as a change); call :meth:`settled` once it is closed."""
        with self._lock:
            self._fill(store)

    def settled(self) -> None:
        """The store the keys were last read from is closed: its state is theirs."""
        with self._lock:
            self._generation = self._stat()

    def _fill(self, store: Store) -> None:
        self._keys = partner_keys(store)
        self._loaded = time.monotonic()


def check_message(
    message: Any, node: Node, keys: dict[str, Ed25519PublicKey], now: dt.datetime
) -> None:
    """Everything about a parsed message that needs no store (see the module docstring):
    :class:`Rejected` with the reason :func:`~ews.alerts.signing.open_message` gives."""
    cfg = node.config
    open_message(
        message,
        me=node.node_id,
        key_of=keys.get,
        now=now,
        skew=cfg.clock_skew,
        max_bytes=cfg.max_message_bytes,
    )


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
