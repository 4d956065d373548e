"""The node's HTTP face (FastAPI): its public key, its feed (pull) and its inbox (push).

Served by uvicorn; TLS either in uvicorn (``--ssl-certfile``/``--ssl-keyfile``) or at a proxy
in front (``--forwarded-allow-ips``). Signatures do not depend on the transport: a message
is checked the same whether it came over TLS or not.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ews.alerts.signing import Rejected, parse_message
from ews.errors import EwsError
from ews.federation.exchange import (
    FEED_PAGE,
    FEED_PATH,
    INBOX_PATH,
    check_request,
    feed_page,
    sync_once,
)
from ews.federation.guard import (
    InboxLimits,
    PartnerKeys,
    RateLimiter,
    RefusalLog,
    check_message,
    retry_after,
    write_refusals,
)
from ews.federation.inbox import accept
from ews.federation.node import Node

log = logging.getLogger("ews.federation")

# HTTP status for each refusal reason: 401 when the sender is not who it claims, 409 for a
# replay or a conflicting version, 413 for size, 415 for a body declared as something other
# than JSON, 429 over the rate, 422 for the rest.
STATUS = {
    "content_type": 415,
    "rate_limited": 429,
    "unsigned": 401,
    "unknown_sender": 401,
    "bad_signature": 401,
    "expired": 401,
    "future": 401,
    "lifetime": 401,
    "not_for_us": 421,
    "replayed": 409,
    "conflict": 409,
    "too_large": 413,
}


class NodeInfo(BaseModel):
    """Who this node is."""

    node: str = Field(examples=["KR"])
    public_key: str = Field(examples=["ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"])
    api: str = Field(default="ews-federation/1")


class InboxAnswer(BaseModel):
    """The inbox's receipt for an accepted message."""

    outcome: str = Field(examples=["stored"], description="stored or duplicate")
    key: str = Field(examples=["ews-280530-CN-KR-20260105-b8e50eef#1"])


class Refusal(BaseModel):
    """Why a message or request was refused."""

    error: str = Field(examples=["bad_signature"])
    detail: str


class FeedPage(BaseModel):
    """A page of the feed: signed messages addressed to the requester."""

    node: str
    items: list[dict[str, Any]] = Field(description="Signed messages (see docs/federation.md).")
    next_cursor: str = Field(examples=["42"])
    more: bool


def _refusal(rej: Rejected, headers: dict[str, str] | None = None) -> JSONResponse:
    body = Refusal(error=rej.reason, detail=rej.message)
    return JSONResponse(body.model_dump(), status_code=STATUS.get(rej.reason, 422), headers=headers)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes before reading it all, and a body
    declared as something other than JSON (a form a browser was made to post, say) unread."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Rejected("too_large", f"{int(declared):,} bytes, more than {limit:,}")
    content_type = request.headers.get("content-type")
    if content_type is not None and not _is_json(content_type):
        raise Rejected("content_type", f"{content_type[:100]!r} is not application/json")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected("too_large", f"more than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _sync_loop(node: Node, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            report = sync_once(node)
            if report.pushed or report.stored or report.push_failed:
                log.info("sync: %s", report.summary())
        except Exception:  # the loop must survive a bad round; the next one retries
            log.exception("sync round failed")


def create_app(
    node: Node,
    *,
    sync_interval: float = 0.0,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    limits: InboxLimits | None = None,
) -> FastAPI:
    """The node's app; with ``sync_interval`` > 0 it also pushes and pulls in the background.

    The inbox takes ``limits`` (default: the ``EWS_FEDERATION_INBOX_*`` settings) from each
    source address and refuses what it can before opening the store
    (:mod:`ews.federation.guard`)."""
    limits = limits or InboxLimits.from_settings()
    limiter = RateLimiter(limits.rate, limits.burst)
    refusals = RefusalLog(limits.refusal_window)
    keys = PartnerKeys(node)

    def write_owed(details: list[dict[str, Any]]) -> None:
        if not details:
            return
        try:
            with node.store() as store:
                write_refusals(store, details)
                keys.refresh(store)  # these records are no change to the partners
            keys.settled()
        except EwsError as exc:  # the answer matters more than the record; the log says why
            log.warning("could not audit %d refusal(s): %s", len(details), exc)

    def partner_keys() -> dict[str, Ed25519PublicKey] | JSONResponse:
        try:
            return keys.get()
        except EwsError as exc:  # the store is held elsewhere: the partner retries later
            log.warning("partner keys unavailable: %s", exc)
            busy = Refusal(error="busy", detail="the node's store is busy; retry later")
            return JSONResponse(busy.model_dump(), status_code=503, headers={"Retry-After": "5"})

    def refuse(
        source: str, rej: Rejected, headers: dict[str, str] | None = None, *, via: str = "push"
    ) -> JSONResponse:
        """Answer a refusal made before the store was opened; audit it if it is due."""
        detail = refusals.due(source, rej, via)
        if detail is not None:
            write_owed([detail, *refusals.overdue()])
        return _refusal(rej, headers)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if sync_interval > 0:
            thread = threading.Thread(
                target=_sync_loop, args=(node, sync_interval, stop), daemon=True, name="ews-sync"
            )
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=30)
        write_owed(refusals.overdue(everything=True))

    app = FastAPI(
        title=f"EWS node {node.node_id}",
        description="Alert exchange between EWS partner nodes (signed, TLP-controlled).",
        version="1",
        lifespan=lifespan,
    )

    @app.get("/federation/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "node": node.node_id}

    @app.get("/federation/v1/node")
    def node_info() -> NodeInfo:
        return NodeInfo(node=node.node_id, public_key=node.public_key)

    @app.post(INBOX_PATH, responses={401: {"model": Refusal}, 409: {"model": Refusal}})
    async def inbox(request: Request) -> Any:
        """Accept a signed message addressed to this node."""
        source = request.client.host if request.client else "unknown"
        wait = limiter.take(source)
        if wait:
            rej = Rejected("rate_limited", f"over {limits.rate:g} refused requests per second")
            return refuse(source, rej, {"Retry-After": retry_after(wait)})
        try:
            body = await _read_body(request, node.config.max_message_bytes)
            message = parse_message(body, max_bytes=node.config.max_message_bytes)
        except Rejected as rej:
            return refuse(source, rej)
        known = partner_keys()
        if isinstance(known, JSONResponse):
            return known
        try:
            check_message(message, node, known, clock())
        except Rejected as rej:
            return refuse(source, rej)
        try:
            with node.store() as store:
                try:
                    got = accept(store, node, message, via="push", now=clock(), nonces="consume")
                finally:
                    keys.refresh(store)  # this store's writes are no change to the partners
        except Rejected as rej:  # audited by accept
            return _refusal(rej)
        finally:
            keys.settled()
        limiter.give_back(source)
        return InboxAnswer(outcome=got.outcome, key=got.key)

    @app.get(FEED_PATH, responses={401: {"model": Refusal}})
    def feed(
        request: Request,
        cursor: Annotated[int, Query(ge=0, description="Last seq already read.")] = 0,
        since: Annotated[
            dt.datetime | None, Query(description="Only versions sent at or after this time.")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=FEED_PAGE)] = FEED_PAGE,
    ) -> Any:
        """This node's alert versions the signed requester may see, after ``cursor``.

        Rate-limited per source address like the inbox (a page served gives its token back);
        each refused request is audited (by :func:`~ews.federation.exchange.check_request`)."""
        now = clock()
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        source = request.client.host if request.client else "unknown"
        wait = limiter.take(source)
        if wait:
            rej = Rejected("rate_limited", f"over {limits.rate:g} refused requests per second")
            return refuse(source, rej, {"Retry-After": retry_after(wait)}, via="feed")
        try:
            with node.store() as store:
                partner = check_request(
                    store,
                    node,
                    method="GET",
                    path=request.url.path,
                    query=request.url.query,
                    headers={k.lower(): v for k, v in request.headers.items()},
                    body=b"",
                    now=now,
                )
                items, next_cursor, more = feed_page(
                    store, node, partner, cursor=cursor, since=since, limit=limit, now=now
                )
        except Rejected as rej:
            return _refusal(rej)
        limiter.give_back(source)
        return FeedPage(node=node.node_id, items=items, next_cursor=str(next_cursor), more=more)

    return app
