"""Polite HTTP for live sources: one client, robots.txt, per-host pacing, retries, size caps.

What a publisher sees of a node: a user agent naming the project (and whoever runs the node,
``EWS_FETCH_CONTACT``), at most one request per host every ``EWS_FETCH_HOST_INTERVAL`` seconds
(or the robots.txt ``Crawl-delay`` when longer), conditional GETs so an unchanged feed costs a
304, and retries that back off exponentially and honour ``Retry-After``.

robots.txt is read as RFC 9309 says: a 4xx means no rules, a 5xx or an unreachable host means
"disallow everything" until the next try, and a cached copy lives 24 hours.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from ews import __version__
from ews.errors import EwsError
from ews.settings import Settings, get_settings

PROJECT = "EWS-supply-chain-early-warning"
ROBOTS_TTL = 24 * 3600.0
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class FetchError(EwsError):
    """A request that failed for good (after its retries): the source reports it and waits."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status


def user_agent(contact: str | None = None) -> str:
    """``EWS-supply-chain-early-warning/0.1.0 (+contact)``: who we are, and how to reach us."""
    base = f"{PROJECT}/{__version__}"
    return f"{base} (+{contact})" if contact else base


@dataclass(frozen=True)
class FetchPolicy:
    """How politely and how patiently to fetch (from the settings by default)."""

    user_agent: str = user_agent()
    timeout: float = 30.0
    max_bytes: int = 64 * 1024**2
    retries: int = 3
    backoff: float = 2.0
    backoff_max: float = 120.0
    host_interval: float = 5.0
    robots: bool = True

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> FetchPolicy:
        s = settings or get_settings()
        return cls(
            user_agent=user_agent(s.fetch_contact),
            timeout=s.fetch_timeout,
            max_bytes=s.fetch_max_bytes,
            retries=s.fetch_retries,
            backoff=s.fetch_backoff,
            backoff_max=s.fetch_backoff_max,
            host_interval=s.fetch_host_interval,
            robots=s.fetch_robots,
        )


@dataclass
class Response:
    """One answer: the body (empty for a 304), its validators, and what it cost."""

    url: str
    status: int
    body: bytes
    headers: Mapping[str, str]
    elapsed: float
    attempts: int = 1
    sha256: str | None = None
    """Set when the body is kept: the name of the raw bytes a record read from it cites."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass
class _Robots:
    parser: urllib.robotparser.RobotFileParser | None  # None: disallow everything for now
    fetched: float
    reason: str = ""


@dataclass
class Fetcher:
    """One HTTP client shared by every source of a poll (threads may share it)."""

    policy: FetchPolicy = field(default_factory=FetchPolicy.from_settings)
    client: httpx.Client | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _robots: dict[str, _Robots] = field(default_factory=dict, init=False)
    _next_slot: dict[str, float] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = httpx.Client(
                timeout=httpx.Timeout(self.policy.timeout),
                follow_redirects=True,
                max_redirects=5,
                headers={"User-Agent": self.policy.user_agent},
            )

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    # -- what a source calls -------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """GET ``url`` politely; raises :class:`FetchError` when it fails for good."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("only http and https URLs can be fetched", url=url)
        if self.policy.robots:
            self._check_robots(url)
        sent = dict(headers or {})
        if etag:
            sent["If-None-Match"] = etag
        if last_modified:
            sent["If-Modified-Since"] = last_modified
        cap = max_bytes or self.policy.max_bytes
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn(parts.netloc.lower())
            started = self.clock()
            try:
                status, body, got = self._request(url, sent, cap)
            except FetchError:
                raise
            except httpx.HTTPError as exc:
                if attempt > self.policy.retries:
                    raise FetchError(
                        f"{type(exc).__name__}: {exc} (after {attempt} attempts)", url=url
                    ) from None
                self.sleep(self._backoff(attempt, None))
                continue
            elapsed = self.clock() - started
            if status in _RETRY_STATUS and attempt <= self.policy.retries:
                self.sleep(self._backoff(attempt, got.get("retry-after")))
                continue
            if status >= 400:
                raise FetchError(
                    f"HTTP {status} (after {attempt} attempt{'s' if attempt > 1 else ''})",
                    url=url,
                    status=status,
                )
            return Response(url, status, body, got, elapsed, attempt)

    # -- the parts -----------------------------------------------------------------------
    def _request(
        self, url: str, headers: Mapping[str, str], cap: int
    ) -> tuple[int, bytes, dict[str, str]]:
        assert self.client is not None
        with self.client.stream("GET", url, headers=headers) as response:
            got = {k.lower(): v for k, v in response.headers.items()}
            declared = got.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise FetchError(
                    f"response of {int(declared):,} bytes is over the {cap:,}-byte limit",
                    url=url,
                    status=response.status_code,
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise FetchError(
                        f"response is over the {cap:,}-byte limit; cut off",
                        url=url,
                        status=response.status_code,
                    )
                chunks.append(chunk)
            return response.status_code, b"".join(chunks), got

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        wait = float(self.policy.backoff * (2 ** (attempt - 1)))
        asked = _retry_after_seconds(retry_after)
        if asked is not None:
            wait = max(wait, asked)
        wait = min(wait, self.policy.backoff_max)
        # Jitter, so nodes that failed together do not retry together.
        return wait * (0.8 + 0.4 * random.random())  # noqa: S311

    def _wait_turn(self, host: str) -> None:
        """Sleep until ``host`` (host:port) may be asked again."""
        interval = max(self.policy.host_interval, self._crawl_delay(host))
        with self._lock:
            now = self.clock()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + interval
        if slot > now:
            self.sleep(slot - now)

    def _crawl_delay(self, host: str) -> float:
        entry = self._robots.get(host)
        if entry is None or entry.parser is None:
            return 0.0
        delay: object = entry.parser.crawl_delay(self.policy.user_agent)
        return float(str(delay)) if delay else 0.0

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.netloc.lower()
        entry = self._robots.get(host)
        if entry is None or self.clock() - entry.fetched > ROBOTS_TTL:
            entry = self._read_robots(f"{parts.scheme}://{parts.netloc}/robots.txt", host)
            self._robots[host] = entry
        if entry.parser is None:
            raise FetchError(f"robots.txt unreadable ({entry.reason}); not fetched", url=url)
        if not entry.parser.can_fetch(self.policy.user_agent, url):
            raise FetchError("robots.txt disallows this URL for our user agent", url=url)

    def _read_robots(self, robots_url: str, host: str) -> _Robots:
        parser = urllib.robotparser.RobotFileParser(robots_url)
        self._wait_turn(host)
        try:
            status, body, _ = self._request(robots_url, {}, 512 * 1024)
        except (httpx.HTTPError, FetchError) as exc:
            # Unreachable: RFC 9309 says assume complete disallow; retried after the TTL is
            # too long for a transient fault, so the entry expires at the next poll.
            return _Robots(None, self.clock() - ROBOTS_TTL, f"{type(exc).__name__}")
        if 400 <= status < 500:
            parser.parse([])  # no rules: everything allowed
        elif status >= 500:
            return _Robots(None, self.clock() - ROBOTS_TTL, f"HTTP {status}")
        else:
            parser.parse(body.decode("utf-8", "replace").splitlines())
        return _Robots(parser, self.clock())


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
