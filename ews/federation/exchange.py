"""Moving alerts between nodes: serve (feed), deliver (outbox), pull and sync.

Every exchange is written to the audit log: pushes, failed pushes, feed pages served and
pulled, refused feed requests; what a pull brings goes through the inbox
(:func:`ews.federation.inbox.accept`), which audits each message stored, duplicate or refused.
Storage is idempotent by alert version, so a message that arrives twice (by push and by pull,
or on a retry after a lost answer) is stored once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ews.alerts.records import Alert
from ews.alerts.signing import (
    Rejected,
    open_message,
    request_bytes,
    seal,
    sign_request,
    unb64u,
)
from ews.alerts.tlp import share_decision
from ews.alerts.wire import WireError, loads
from ews.federation.inbox import accept, audit_refusal, use_nonce, utc
from ews.federation.node import Node
from ews.federation.partners import list_partners, partner_keys
from ews.settings import Settings, get_settings
from ews.store import Store

log = logging.getLogger("ews.federation")

FEED_PATH = "/federation/v1/feed"
INBOX_PATH = "/federation/v1/inbox"
FEED_PAGE = 100
RETRY_BASE = dt.timedelta(seconds=1)
PAGE_DEADLINE_TIMEOUTS = 3
"""A feed page must arrive within this many ``EWS_FEDERATION_TIMEOUT`` s, however it trickles
(the timeout alone bounds the wait between two chunks, not the whole page)."""


def verify_request(
    key_of: Callable[[str], Ed25519PublicKey | None],
    node: Node,
    *,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    now: dt.datetime,
) -> tuple[str, str, dt.datetime]:
    """(partner, nonce, time) of a signed request, checked against the keys of ``key_of``
    without the store (nonces are :func:`check_request`'s); :class:`Rejected`, not audited,
    otherwise."""
    sender = headers.get("x-ews-node")
    missing = [
        h
        for h in ("x-ews-node", "x-ews-timestamp", "x-ews-nonce", "x-ews-signature")
        if not headers.get(h)
    ]
    if missing:
        raise Rejected("unsigned", f"request lacks {', '.join(missing)}", sender=sender)
    assert sender is not None
    key = key_of(sender)
    if key is None:
        raise Rejected("unknown_sender", f"{sender!r} is not a registered partner", sender=sender)
    stamp = headers["x-ews-timestamp"]
    try:
        ts = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise Rejected("malformed", f"bad timestamp {stamp[:40]!r}", sender=sender) from None
    data = request_bytes(
        method=method,
        path=path,
        query=query,
        node=sender,
        timestamp=stamp,
        nonce=headers["x-ews-nonce"],
        body=body,
    )
    try:
        key.verify(unb64u(headers["x-ews-signature"]), data)
    except Exception:  # InvalidSignature or undecodable signature: both are forgeries
        raise Rejected(
            "bad_signature", "request signature does not verify", sender=sender
        ) from None
    if abs(ts - now) > node.config.clock_skew:
        raise Rejected("expired", f"request time {stamp} is outside the window", sender=sender)
    return sender, headers["x-ews-nonce"][:64], ts


def check_request(
    store: Store,
    node: Node,
    *,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    now: dt.datetime,
) -> str:
    """The partner a signed request comes from; :class:`Rejected` (audited) otherwise."""
    try:
        sender, nonce, ts = verify_request(
            partner_keys(store).get,
            node,
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            now=now,
        )
        with store.transaction():
            use_nonce(store, sender, nonce, ts + node.config.clock_skew, now)
    except Rejected as rej:
        audit_refusal(store, rej, "feed")
        raise
    return sender


# -- feed ---------------------------------------------------------------------------------------
def refresh_feed(store: Store, node_id: str, now: dt.datetime) -> int:
    """Append this node's alert versions not yet in the feed; returns how many were added."""
    before = store.scalar("SELECT count(*) FROM federation_feed")
    store.execute(
        "INSERT INTO federation_feed "
        "SELECT coalesce((SELECT max(seq) FROM federation_feed), 0) "
        "       + row_number() OVER (ORDER BY a.sent, a.alert_id, a.version), "
        "       a.alert_id, a.version, ? "
        "FROM alerts a WHERE a.origin_node = ? AND a.payload IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM federation_feed f WHERE f.alert_id = a.alert_id AND f.version = a.version)",
        [utc(now), node_id],
    )
    return int(store.scalar("SELECT count(*) FROM federation_feed") - before)


def _feed_rows(store: Store, after: int, limit: int) -> list[tuple[int, Alert]]:
    rows = store.query(
        "SELECT f.seq, a.payload FROM federation_feed f JOIN alerts a "
        "ON a.alert_id = f.alert_id AND a.version = f.version "
        "WHERE f.seq > ? ORDER BY f.seq LIMIT ?",
        [after, limit],
    )
    return [(int(r["seq"]), Alert.model_validate_json(r["payload"])) for r in rows]


def feed_page(
    store: Store,
    node: Node,
    partner_name: str,
    *,
    cursor: int,
    since: dt.datetime | None,
    limit: int,
    now: dt.datetime,
) -> tuple[list[dict[str, Any]], int, bool]:
    """Signed messages for ``partner_name`` after ``cursor``: (items, next cursor, more).

    Only versions the sharing rule lets this partner see are included; ``since`` drops
    versions sent before it. The cursor advances over withheld versions too.
    """
    refresh_feed(store, node.node_id, now)
    partner = next(p for p in list_partners(store) if p.name == partner_name)
    rows = _feed_rows(store, cursor, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = []
    for _, alert in rows:
        if since is not None and alert.sent < since:
            continue
        if share_decision(alert, partner.policy)[0]:
            items.append(
                seal(
                    alert,
                    node.key,
                    sender=node.node_id,
                    recipient=partner_name,
                    now=now,
                    ttl=node.config.message_ttl,
                )
            )
    next_cursor = rows[-1][0] if rows else cursor
    store.audit(
        partner_name,
        "federation.feed",
        node.node_id,
        {
            "cursor": cursor,
            "next_cursor": next_cursor,
            "items": [
                i["envelope"]["payload"]["alert_id"]
                + "#"
                + str(i["envelope"]["payload"]["version"])
                for i in items
            ],
        },
    )
    return items, next_cursor, more


# -- outbox -------------------------------------------------------------------------------------
def enqueue(store: Store, node_id: str, now: dt.datetime) -> int:
    """Queue each feed version for each active partner the sharing rule allows; returns the
    number of deliveries queued. Re-run safe: a (partner, version) is queued at most once."""
    refresh_feed(store, node_id, now)
    partners = list_partners(store, active_only=True)
    if not partners:
        return 0
    queued = 0
    rows = store.query(
        "SELECT a.payload FROM federation_feed f JOIN alerts a "
        "ON a.alert_id = f.alert_id AND a.version = f.version ORDER BY f.seq"
    )
    done = {
        (r["partner"], r["alert_id"], int(r["version"]))
        for r in store.query("SELECT partner, alert_id, version FROM federation_outbox")
    }
    with store.transaction():
        for row in rows:
            alert = Alert.model_validate_json(row["payload"])
            for partner in partners:
                if (partner.name, alert.alert_id, alert.version) in done:
                    continue
                if not share_decision(alert, partner.policy)[0]:
                    continue
                store.execute(
                    "INSERT INTO federation_outbox "
                    "VALUES (?, ?, ?, 'pending', 0, ?, NULL, ?, NULL)",
                    [partner.name, alert.alert_id, alert.version, utc(now), utc(now)],
                )
                queued += 1
    return queued


@dataclass
class SyncReport:
    """What one round of synchronisation did."""

    queued: int = 0
    pushed: int = 0
    push_failed: int = 0
    pulled: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"queued {self.queued}, pushed {self.pushed}, failed pushes {self.push_failed}, "
            f"pulled {self.pulled} (stored {self.stored}, duplicates {self.duplicates}, "
            f"refused {self.refused})"
        )


def _client(node: Node) -> httpx.Client:
    verify: str | bool = str(node.config.ca_bundle) if node.config.ca_bundle else True
    return httpx.Client(timeout=node.config.http_timeout, verify=verify, follow_redirects=False)


def push_pending(node: Node, report: SyncReport, now: dt.datetime) -> None:
    """Deliver due outbox rows; failures stay pending with exponential back-off."""
    with node.store() as store:
        report.queued += enqueue(store, node.node_id, now)
        urls = {p.name: p.url for p in list_partners(store, active_only=True)}
        due = store.query(
            "SELECT o.partner, o.alert_id, o.version, o.attempts, a.payload "
            "FROM federation_outbox o "
            "JOIN alerts a ON a.alert_id = o.alert_id AND a.version = o.version "
            "WHERE o.status = 'pending' AND o.next_attempt <= ? ORDER BY o.created_at, o.partner",
            [utc(now)],
        )
    if not due:
        return
    results: list[tuple[dict[str, Any], str | None]] = []
    with _client(node) as client:
        for row in due:
            if row["partner"] not in urls:
                continue
            alert = Alert.model_validate_json(row["payload"])
            message = seal(
                alert,
                node.key,
                sender=node.node_id,
                recipient=row["partner"],
                now=now,
                ttl=node.config.message_ttl,
            )
            error: str | None = None
            try:
                resp = client.post(urls[row["partner"]] + INBOX_PATH, json=message)
                if resp.status_code != 200:
                    error = f"HTTP {resp.status_code}: {resp.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            results.append((row, error))
    with node.store() as store, store.transaction():
        for row, error in results:
            key = (row["partner"], row["alert_id"], row["version"])
            subject = f"{row['alert_id']}#{row['version']}"
            if error is None:
                store.execute(
                    "UPDATE federation_outbox SET status = 'delivered', attempts = attempts + 1, "
                    "delivered_at = ?, last_error = NULL "
                    "WHERE partner = ? AND alert_id = ? AND version = ?",
                    [utc(now), *key],
                )
                store.audit(node.node_id, "federation.push", subject, {"partner": row["partner"]})
                report.pushed += 1
            else:
                attempts = int(row["attempts"]) + 1
                wait = min(node.config.retry_max, RETRY_BASE * 2 ** min(attempts, 20))
                store.execute(
                    "UPDATE federation_outbox SET attempts = ?, next_attempt = ?, last_error = ? "
                    "WHERE partner = ? AND alert_id = ? AND version = ?",
                    [attempts, utc(now + wait), error, *key],
                )
                store.audit(
                    node.node_id,
                    "federation.push_failed",
                    subject,
                    {"partner": row["partner"], "attempt": attempts, "error": error},
                )
                report.push_failed += 1


@dataclass(frozen=True)
class PullLimits:
    """How much one sync round reads from one partner."""

    max_pages: int = 50
    """Feed pages per partner and round (``EWS_FEDERATION_MAX_PAGES``)."""
    page_items: int = FEED_PAGE
    """Messages asked for per page; a page holding more is refused
    (``EWS_FEDERATION_PAGE_ITEMS``)."""

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> PullLimits:
        settings = settings or get_settings()
        return cls(
            max_pages=settings.federation_max_pages,
            page_items=min(FEED_PAGE, settings.federation_page_items),
        )


class _NoAnswerError(Exception):
    """A feed request that got no usable answer (network, HTTP status): not a refusal."""


def _read_page(client: httpx.Client, url: str, headers: dict[str, str], node: Node) -> bytes:
    """A feed page's bytes, read as they stream in and abandoned past
    ``EWS_FEDERATION_MAX_BYTES`` or the page deadline; :class:`Rejected` (``too_large``,
    ``malformed``, ``slow``) for a page refused, :class:`_NoAnswerError` for no answer.

    Only identity-encoded bodies are read (asked for, and anything else refused): a
    compressed body would be inflated before its size could be checked."""
    cap = node.config.max_message_bytes
    deadline = time.monotonic() + PAGE_DEADLINE_TIMEOUTS * node.config.http_timeout
    with client.stream("GET", url, headers={**headers, "Accept-Encoding": "identity"}) as resp:
        if resp.status_code != 200:
            head = b""
            for chunk in resp.iter_raw(200):
                head = chunk[:200]
                break
            text = " ".join(head.decode("utf-8", "replace").split())  # a partner's text: one line
            raise _NoAnswerError(f"HTTP {resp.status_code} {text}".rstrip())
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise Rejected("malformed", f"page sent with Content-Encoding {encoding[:40]!r}")
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise Rejected("too_large", f"page of {int(declared):,} bytes, more than {cap:,}")
        body = bytearray()
        for chunk in resp.iter_raw(64 * 1024):
            body += chunk
            if len(body) > cap:
                raise Rejected("too_large", f"page of more than {cap:,} bytes (reading stopped)")
            if time.monotonic() > deadline:
                allowed = PAGE_DEADLINE_TIMEOUTS * node.config.http_timeout
                raise Rejected("slow", f"page not read within {allowed:g} s (reading stopped)")
        return bytes(body)


def _parse_page(data: bytes, *, cap: int, asked: int) -> tuple[list[Any], str, bool]:
    """(items, next cursor, more) of a feed page; :class:`Rejected` for a page refused."""
    try:
        page = loads(data, max_bytes=cap)
        items = page["items"]
        next_cursor = str(int(page["next_cursor"]))
        more = page["more"]
    except WireError as exc:
        raise Rejected(exc.reason, f"feed page: {exc.detail}") from None
    except (ValueError, KeyError, TypeError):
        raise Rejected("malformed", "feed page: not {items, next_cursor, more}") from None
    if not isinstance(items, list) or not isinstance(more, bool):
        raise Rejected("malformed", "feed page: items is not a list or more not true/false")
    if len(items) > asked:
        raise Rejected("too_many", f"feed page holds {len(items):,} messages, {asked} asked for")
    return items, next_cursor, more


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _open(node: Node, item: Any, keys: dict[str, Ed25519PublicKey], now: dt.datetime) -> None:
    """The inbox's checks that need no store (:func:`~ews.alerts.signing.open_message`)."""
    cfg = node.config
    open_message(
        item,
        me=node.node_id,
        key_of=keys.get,
        now=now,
        skew=cfg.clock_skew,
        max_bytes=cfg.max_message_bytes,
    )


def pull_partner(
    node: Node,
    partner: str,
    url: str,
    report: SyncReport,
    now: dt.datetime,
    limits: PullLimits | None = None,
) -> None:
    """Read a partner's feed from the stored cursor on, storing what it sends (verified).

    At most ``limits.max_pages`` requests for pages of ``limits.page_items`` messages, each
    page at most ``EWS_FEDERATION_MAX_BYTES`` (reading stops there) and nested at most
    :data:`ews.alerts.wire.MAX_DEPTH` levels. A page over the size is asked for again with a
    quarter of the messages (an honest partner's big alerts still come through, down to one
    per page). A page refused (too large even so, too slow, malformed, more messages than
    asked for) is audited once, as ``federation.reject`` with ``via`` ``pull:<partner>``, adds
    one line to ``report.errors`` and ends this partner's pull for the round; its cursor
    stays where it was."""
    limits = limits or PullLimits.from_settings()
    with node.store() as store:
        cursor = store.scalar("SELECT cursor FROM federation_cursors WHERE partner = ?", [partner])
    cursor = str(cursor or "0")
    asked = limits.page_items
    with _client(node) as client:
        for _ in range(limits.max_pages):
            query = urlencode({"cursor": cursor, "limit": str(asked)})
            headers = sign_request(
                node.key, method="GET", path=FEED_PATH, query=query, node=node.node_id, now=now
            )
            try:
                data = _read_page(client, f"{url}{FEED_PATH}?{query}", headers, node)
                items, next_cursor, more = _parse_page(
                    data, cap=node.config.max_message_bytes, asked=asked
                )
            except (httpx.HTTPError, _NoAnswerError) as exc:
                what = _one_line(exc)
                if isinstance(exc, httpx.HTTPError):
                    what = f"{type(exc).__name__}: {what}"
                report.errors.append(f"pull {partner}: {what}"[:300])
                return
            except Rejected as rej:
                if rej.reason == "too_large" and asked > 1:
                    asked = max(1, asked // 4)
                    continue
                rej.sender = partner
                with node.store() as store:
                    audit_refusal(store, rej, f"pull:{partner}", partner)
                report.errors.append(
                    f"pull {partner}: page refused: {_one_line(rej.message)}"[:300]
                )
                return
            with node.store() as store:
                refused: Counter[str] = Counter()
                keys = partner_keys(store)
                for item in items:
                    report.pulled += 1
                    try:
                        # What fails here (garbage, forgeries, stale) is audited once for the
                        # page below; only partners' signed messages reach the inbox.
                        _open(node, item, keys, now)
                    except Rejected as rej:
                        report.refused += 1
                        refused[rej.reason] += 1
                        continue
                    try:
                        got = accept(
                            store, node, item, via=f"pull:{partner}", now=now, nonces="consume"
                        )
                    except Rejected:  # audited by the inbox
                        report.refused += 1
                        continue
                    if got.outcome == "stored":
                        report.stored += 1
                    else:
                        report.duplicates += 1
                if refused.total():
                    store.audit(
                        "federation",
                        "federation.reject",
                        partner,
                        {
                            "reason": refused.most_common(1)[0][0],
                            "reasons": dict(refused),
                            "message": f"{refused.total()} of {len(items)} messages of a feed "
                            f"page after cursor {cursor} refused",
                            "claimed_sender": partner,
                            "via": f"pull:{partner}",
                            "count": refused.total(),
                        },
                    )
                with store.transaction():
                    store.execute(
                        "INSERT INTO federation_cursors VALUES (?, ?, ?) ON CONFLICT (partner) "
                        "DO UPDATE SET cursor = excluded.cursor, pulled_at = excluded.pulled_at",
                        [partner, next_cursor, utc(now)],
                    )
                    store.audit(
                        node.node_id,
                        "federation.pull",
                        partner,
                        {"cursor": cursor, "next_cursor": next_cursor, "items": len(items)},
                    )
            cursor = next_cursor
            if items and refused.total() == len(items):
                report.errors.append(
                    f"pull {partner}: every message of a page refused; the rest waits"
                )
                return
            if not more:
                return


def sync_once(
    node: Node,
    *,
    now: dt.datetime | None = None,
    push: bool = True,
    pull: bool = True,
    limits: PullLimits | None = None,
) -> SyncReport:
    """One round: queue and push pending deliveries, then pull every active partner's feed
    (each within ``limits``, default the settings; a partner that fails costs one line in
    ``errors`` and the others are still pulled)."""
    report = SyncReport()
    now = now or dt.datetime.now(dt.UTC)
    if push:
        push_pending(node, report, now)
    if pull:
        with node.store() as store:
            partners = [(p.name, p.url) for p in list_partners(store, active_only=True)]
        limits = limits or PullLimits.from_settings()
        for name, url in partners:
            try:
                pull_partner(node, name, url, report, dt.datetime.now(dt.UTC), limits)
            except Exception as exc:  # one partner's failure must not stop the others' pulls
                log.warning("pull %s failed", name, exc_info=True)
                report.errors.append(f"pull {name}: {type(exc).__name__}: {_one_line(exc)}"[:300])
    return report


def outbox_counts(store: Store) -> dict[str, int]:
    """Deliveries by status."""
    rows = store.query("SELECT status, count(*) AS n FROM federation_outbox GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}
