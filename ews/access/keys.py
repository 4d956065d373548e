"""API keys: scoped, revocable, stored hashed, each with its own rate limit.

A token is ``ews_<key_id>_<secret>`` where the secret is 32 random bytes (URL-safe base64).
The key id in the token lets the server find the row; only the SHA-256 of the whole token is
stored, and it is compared in constant time, so a copy of the store does not give access.
A key may carry an expiry (``expires_at``, UTC): from then on it is refused like a revoked one,
with its own reason (:func:`check_token`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ews.errors import EwsError
from ews.store import Store
from ews.store.db import utcnow

Scope = Literal["read", "write", "admin", "partner"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin", "partner")
TOKEN_PREFIX = "ews_"  # noqa: S105  # a marker that makes leaked tokens findable, not a secret
DEFAULT_RATE = 120


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    rate_per_minute: int
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None = None

    def expired(self, now: dt.datetime) -> bool:
        """True when the key has an expiry and ``now`` (naive UTC) has reached it."""
        return self.expires_at is not None and now >= self.expires_at

    def allows(self, scope: str) -> bool:
        """True when the key carries ``scope``; ``admin`` carries every scope."""
        return scope in self.scopes or "admin" in self.scopes


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(scopes))
    if not wanted:
        raise EwsError("a key needs at least one scope")
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise EwsError(f"unknown scope {unknown[0]!r}; use {', '.join(SCOPES)}")
    return wanted


_DURATION = re.compile(r"(\d+)([dhw])")
_UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}


def parse_expiry(text: str, now: dt.datetime) -> dt.datetime:
    """When a key given ``--expires text`` at ``now`` (naive UTC) expires: a duration
    (``90d``, ``12h``, ``2w``), a date (``2026-03-31``, the start of that day, UTC) or a
    date and time (UTC). Refuses a moment that is not in the future."""
    text = text.strip()
    duration = _DURATION.fullmatch(text.lower())
    if duration:
        when = now + int(duration.group(1)) * _UNITS[duration.group(2)]
    else:
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise EwsError(
                f"--expires: not a duration (90d, 12h, 2w) nor a date (YYYY-MM-DD): {text!r}"
            ) from None
        if when.tzinfo is not None:
            when = when.astimezone(dt.UTC).replace(tzinfo=None)
    if when <= now:
        raise EwsError(f"--expires: {when:%Y-%m-%d %H:%M} UTC is not in the future")
    return when


def create_key(
    store: Store,
    name: str,
    scopes: Iterable[str],
    rate_per_minute: int = DEFAULT_RATE,
    expires_at: dt.datetime | None = None,
) -> tuple[str, str]:
    """Create a key, valid until ``expires_at`` (naive UTC; None: no expiry); returns
    ``(key_id, token)``. The token is not stored and cannot be shown again."""
    if not name.strip():
        raise EwsError("a key needs a name")
    if rate_per_minute < 1:
        raise EwsError("the rate limit must be at least 1 request per minute")
    wanted = _check_scopes(scopes)
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise EwsError("a key's expiry must be in the future")
    key_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with store.transaction():
        store.execute(
            "INSERT INTO api_keys (key_id, name, key_hash, scopes, rate_per_minute, created_at, "
            "revoked_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
            [
                key_id,
                name,
                hash_token(token),
                json.dumps(wanted),
                rate_per_minute,
                now,
                expires_at,
            ],
        )
        store.audit(
            "api",
            "api_key.create",
            key_id,
            {
                "name": name,
                "scopes": list(wanted),
                "rate_per_minute": rate_per_minute,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return key_id, token


def revoke_key(store: Store, key_id: str) -> None:
    """Revoke a key at once; refuses unknown or already revoked keys."""
    with store.transaction():
        row = store.query("SELECT revoked_at FROM api_keys WHERE key_id = ?", [key_id])
        if not row:
            raise EwsError(f"no API key {key_id!r}")
        if row[0]["revoked_at"] is not None:
            raise EwsError(f"API key {key_id!r} is already revoked")
        store.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", [utcnow(), key_id])
        store.audit("api", "api_key.revoke", key_id, {})


def _key(row: dict[str, object]) -> ApiKey:
    revoked = row["revoked_at"]
    expires = row["expires_at"]
    created = row["created_at"]
    assert isinstance(created, dt.datetime)
    return ApiKey(
        key_id=str(row["key_id"]),
        name=str(row["name"]),
        scopes=tuple(json.loads(str(row["scopes"]))),
        rate_per_minute=int(str(row["rate_per_minute"])),
        created_at=created,
        revoked_at=revoked if isinstance(revoked, dt.datetime) else None,
        expires_at=expires if isinstance(expires, dt.datetime) else None,
    )


def list_keys(store: Store) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first."""
    rows = store.query(
        "SELECT key_id, name, scopes, rate_per_minute, created_at, revoked_at, expires_at "
        "FROM api_keys ORDER BY created_at, key_id"
    )
    return [_key(r) for r in rows]


def _keys_by_id(store: Store) -> dict[str, dict[str, object]]:
    rows = store.query(
        "SELECT key_id, name, key_hash, scopes, rate_per_minute, created_at, revoked_at, "
        "expires_at FROM api_keys"
    )
    return {str(r["key_id"]): r for r in rows}


Refusal = Literal["unknown", "expired"]


def check_token(store: Store, token: str) -> ApiKey | Refusal:
    """The live key a token belongs to; else why not: ``"unknown"`` (malformed, unknown or
    revoked) or ``"expired"`` (a known, unrevoked key past its expiry)."""
    if not token.startswith(TOKEN_PREFIX):
        return "unknown"
    key_id, sep, _ = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not key_id:
        return "unknown"
    row = store.memo("api_keys", _keys_by_id).get(key_id)
    if row is None:
        return "unknown"
    if not hmac.compare_digest(str(row["key_hash"]), hash_token(token)):
        return "unknown"
    if row["revoked_at"] is not None:
        return "unknown"
    key = _key(row)
    if key.expired(utcnow()):
        return "expired"
    return key


def authenticate(store: Store, token: str) -> ApiKey | None:
    """The live key a token belongs to, or None (malformed, unknown, revoked or expired)."""
    found = check_token(store, token)
    return found if isinstance(found, ApiKey) else None


class RateLimiter:
    """A token bucket per key, in memory: ``rate`` requests per minute, bursts up to ``rate``.

    Per process: several server processes each allow the full rate.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key_id: str, rate_per_minute: int) -> bool:
        """Take one token from the key's bucket; False when it is empty."""
        now = self._clock()
        capacity = float(rate_per_minute)
        with self._lock:
            tokens, last = self._buckets.get(key_id, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * capacity / 60.0)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                return False
            self._buckets[key_id] = (tokens - 1.0, now)
            return True

    def retry_after(self, rate_per_minute: int) -> int:
        """Seconds until one more request is allowed (upper bound)."""
        return max(1, int(60 / rate_per_minute + 0.999))
