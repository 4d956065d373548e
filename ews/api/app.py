"""The HTTP API (FastAPI), versioned under ``/api/v1``; OpenAPI at ``/openapi.json``.

Every route needs an API key (``Authorization: Bearer <token>`` or ``X-API-Key``). The server
opens the store once and reads through a :class:`ews.store.reader.StoreReader` (for a DuckDB
file, an in-memory replica kept current), so requests never open the file and never wait
for ``ews ingest`` or ``ews assess`` writing it from another process.
Tokens travel only in headers: nothing here logs headers, and query strings never carry keys.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ews.access.keys import ApiKey, RateLimiter, authenticate
from ews.alerts.board import (
    BoardEntry,
    BoardFilter,
    board,
    board_json,
    entry_json,
    peak_levels,
    versions_of,
    visible,
)
from ews.alerts.records import LEVELS, Alert, Evidence
from ews.alerts.repository import load_alerts
from ews.api import models as m
from ews.catalog import Catalog, load_catalog
from ews.catalog.names import fold
from ews.records import Country, Item
from ews.settings import Settings, get_settings
from ews.store.reader import StoreReader
from ews.text.queries import events_where

PREFIX = "/api/v1"
MAX_PAGE = 500
MAX_CACHED_PAGES = 512
"""Serialised board pages kept per copy of the store (each a few tens of kB at most)."""

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key header.")

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
# Bounded so that every store can bind it (PostgreSQL's OFFSET is a 64-bit integer).
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Rows to skip.")]

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": m.Problem, "description": "No, unknown or revoked API key."},
    403: {"model": m.Problem, "description": "The key lacks the scope."},
    429: {"model": m.Problem, "description": "Rate limit exceeded."},
    # Our own 422s (unknown country, bad level) carry one sentence, FastAPI's a list of field
    # errors; the schema documents both, else clients (and schemathesis) see undocumented 422s.
    422: {
        "description": "Invalid parameters: a sentence, or FastAPI's list of field errors.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["detail"],
                    "properties": {
                        "detail": {
                            "anyOf": [
                                {"type": "string"},
                                {"type": "array", "items": {"type": "object"}},
                            ]
                        }
                    },
                }
            }
        },
    },
}


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before the app reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
            return
        size = 0
        started = False

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.limit:
                    # Raised inside the route: FastAPI's handler answers 413 for it.
                    raise HTTPException(413, "request body too large")
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await _too_large(send)


class RefuseNul:
    """422 for a NUL character in the path or the query: no field we store or look up may
    hold one, and PostgreSQL refuses it in text (it would surface as a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
            if b"\x00" in raw or b"%00" in raw.lower() or "\x00" in scope["path"]:
                await _problem(send, 422, "NUL characters are not accepted")
                return
        await self.app(scope, receive, send)


class NoStoreCache:
    """``Cache-Control: no-store`` on every answer but the versioned static assets: pages
    and data must never be served stale from a cache. (Plain ASGI: Starlette's
    ``BaseHTTPMiddleware`` costs a task and a stream per request.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
                headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, marked)


async def _problem(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer ``{"detail": ...}`` from a middleware, before the app has run."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})


async def _too_large(send: Send) -> None:
    await _problem(send, 413, "request body too large", [(b"connection", b"close")])


class Gate:
    """Checks a request's API key: known, live, scoped and within its rate."""

    def __init__(self, reader: StoreReader) -> None:
        self.reader = reader
        self.limiter = RateLimiter()

    def check(self, token: str | None, scope: str) -> ApiKey:
        challenge = {"WWW-Authenticate": "Bearer"}
        if not token:
            raise HTTPException(401, "missing API key", headers=challenge)
        with self.reader.read() as store:
            key = authenticate(store, token)
        if key is None:
            raise HTTPException(401, "unknown or revoked API key", headers=challenge)
        if not key.allows(scope):
            raise HTTPException(403, f"this key lacks the {scope!r} scope")
        if not self.limiter.allow(key.key_id, key.rate_per_minute):
            wait = str(self.limiter.retry_after(key.rate_per_minute))
            raise HTTPException(429, "rate limit exceeded", headers={"Retry-After": wait})
        return key


def require(scope: str) -> Callable[..., ApiKey]:
    """A dependency that admits keys carrying ``scope`` (see :class:`Gate`)."""

    def check(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header: Annotated[str | None, Depends(_header)],
    ) -> ApiKey:
        gate: Gate = request.app.state.gate
        return gate.check(bearer.credentials if bearer is not None else header, scope)

    return check


Reader = Annotated[ApiKey, Depends(require("read"))]


def _item_out(item: Item) -> m.ItemOut:
    return m.ItemOut(
        hs=item.hs,
        group=item.group,
        sector=item.sector,
        names=dict(item.names),
        aliases={k: list(v) for k, v in item.aliases.items()},
        note=item.note,
        hs_description=item.hs_description,
    )


def _country_out(c: Country) -> m.CountryOut:
    return m.CountryOut(
        iso2=c.iso2, iso3=c.iso3, numeric=c.numeric, region=c.region, names=dict(c.names)
    )


def _evidence_out(e: Evidence) -> m.EvidenceOut:
    return m.EvidenceOut.model_validate(e.model_dump())


def _version_out(a: Alert) -> m.AlertVersionOut:
    return m.AlertVersionOut(
        version=a.version,
        msg_type=a.msg_type,
        level=a.level,
        previous_level=a.previous_level,
        score=a.score,
        sent=a.sent,
        headline=a.headline,
        summary=a.summary,
        tlp=a.tlp,
        references=list(a.references),
    )


def _country(catalog: Catalog, text: str | None, what: str) -> str | None:
    if text is None:
        return None
    code = catalog.country_code(text)
    if code is None:
        raise HTTPException(422, f"{what}: unknown country {text!r}")
    return code


def _level(text: str | None) -> int:
    if text is None:
        return 0
    if text not in LEVELS:
        raise HTTPException(422, f"level: use one of {', '.join(LEVELS)}")
    return LEVELS.index(text)


def _closing(reader: StoreReader) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the reader's replica or pool is released when the server stops."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            reader.close()

    return lifespan


def create_app(settings: Settings | None = None, *, max_body_bytes: int | None = None) -> FastAPI:
    """The API app for the store named by ``settings`` (default: the process settings)."""
    settings = settings or get_settings()
    reader = StoreReader(settings.store, fresh_wait=settings.api_fresh_wait)
    catalog = load_catalog()
    # A dedicated EWS_API_MAX_BYTES setting is pending; until then the constructor bound rules.
    limit = max_body_bytes or settings.api_max_bytes

    gate = Gate(reader)

    app = FastAPI(
        title="EWS API",
        description="Critical items, alerts, events and assessments of this EWS node.",
        version="1",
        openapi_url="/openapi.json",
        lifespan=_closing(reader),
    )
    app.state.gate = gate
    app.add_middleware(BodyLimit, limit=limit)

    @app.get(f"{PREFIX}/items", responses=_REFUSALS)
    def list_items(
        key: Reader,
        q: Annotated[str, Query(description="Code prefix or a name in any language.")] = "",
        sector: Annotated[str | None, Query(description="Only this sector.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> m.ItemPage:
        """Critical items matching ``q`` (any language, diacritics optional)."""
        found = [i for i in catalog.search_items(q) if sector is None or i.sector == sector]
        page = [_item_out(i) for i in found[offset : offset + limit]]
        return m.ItemPage(total=len(found), limit=limit, offset=offset, items=page)

    @app.get(f"{PREFIX}/items/{{hs}}", responses={**_REFUSALS, 404: {"model": m.Problem}})
    def get_item(key: Reader, hs: str) -> m.ItemOut:
        """One critical item by HS code."""
        item = catalog.item(hs)
        if item is None:
            raise HTTPException(404, f"no critical item {hs!r}")
        return _item_out(item)

    @app.get(f"{PREFIX}/countries", responses=_REFUSALS)
    def list_countries(
        key: Reader,
        q: Annotated[str, Query(description="Name in any language, or ISO code.")] = "",
    ) -> list[m.CountryOut]:
        """Countries, or those matching a name in any of the five languages."""
        folded = fold(q)
        code = catalog.country_code(q) if q else None
        rows = [
            c
            for c in catalog.countries.values()
            if not folded
            or c.iso2 == code
            or any(folded in fold(n) for n in (*c.names.values(), *c.aliases))
        ]
        return [_country_out(c) for c in sorted(rows, key=lambda c: c.iso2)]

    @app.get(f"{PREFIX}/status", responses=_REFUSALS)
    def status(key: Reader) -> m.StatusOut:
        """How current the answers are: for a DuckDB store, when the server last copied the
        file and whether another process has written since (docs/reliability.md)."""
        return m.StatusOut.model_validate(reader.status())

    @app.get(f"{PREFIX}/alerts", responses=_REFUSALS, response_model=m.AlertPage)
    def list_alerts(
        key: Reader,
        level: Annotated[
            str | None,
            Query(description="Lowest level; a closed alert is judged by its peak level."),
        ] = None,
        item: Annotated[str | None, Query(description="HS code prefix.")] = None,
        country: Annotated[str | None, Query(description="Supplier (name or code).")] = None,
        importer: Annotated[str | None, Query(description="Watching country.")] = None,
        since: Annotated[dt.date | None, Query(description="Updated on or after.")] = None,
        until: Annotated[dt.date | None, Query(description="Updated on or before.")] = None,
        include_cancelled: bool = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Response:
        """The alert board: the newest version of each alert, newest first."""
        _level(level)
        flt = BoardFilter(
            level=level,
            item=item,
            supplier=_country(catalog, country, "country"),
            importer=_country(catalog, importer, "importer"),
            since=since,
            until=until,
            status="all" if include_cancelled else "open",
            include_red="admin" in key.scopes,
        )
        # The board is the most read page: its answers are kept, serialised, until the
        # store changes (the memos go with the server's copy of the store).
        wanted = (flt, limit, offset)
        with reader.read() as store:
            pages: dict[tuple[object, ...], bytes] = store.memo("board-pages", lambda _: {})
            body = pages.get(wanted)
            if body is None:
                every = store.memo("alerts", load_alerts)
        if body is None:
            rows = board(every, flt)
            body = (
                m.AlertPage(
                    total=len(rows),
                    limit=limit,
                    offset=offset,
                    items=[
                        m.AlertOut.model_validate(r)
                        for r in board_json(rows[offset : offset + limit])
                    ],
                )
                .model_dump_json(by_alias=True)
                .encode()
            )
            if len(pages) < MAX_CACHED_PAGES:  # bounded: query strings are the client's
                pages[wanted] = body
        return Response(body, media_type="application/json")

    @app.get(f"{PREFIX}/alerts/{{alert_id}}", responses={**_REFUSALS, 404: {"model": m.Problem}})
    def get_alert(key: Reader, alert_id: str) -> m.AlertDetail:
        """An alert's versions and evidence (what ``ews explain`` shows)."""
        with reader.read() as store:
            versions = versions_of(store.memo("alerts", load_alerts), alert_id)
        # A hidden alert answers like a missing one, so its existence does not leak.
        admin = "admin" in key.scopes
        if not versions or not all(visible(a, include_red=admin) for a in versions):
            raise HTTPException(404, f"no alert {alert_id!r}")
        last = versions[-1]
        source = next((a for a in reversed(versions) if a.evidence), last)
        entry = BoardEntry(last, peak_levels(versions)[alert_id])
        return m.AlertDetail(
            alert=m.AlertOut.model_validate(entry_json(entry)),
            onset=last.onset,
            origin_node=last.origin_node,
            versions=[_version_out(a) for a in versions],
            evidence=[_evidence_out(e) for e in source.evidence],
        )

    @app.get(f"{PREFIX}/events", responses=_REFUSALS)
    def list_events(
        key: Reader,
        item: Annotated[str | None, Query(description="HS code prefix.")] = None,
        country: Annotated[str | None, Query(description="Country (name or code).")] = None,
        event_type: Annotated[str | None, Query(examples=["export_restriction"])] = None,
        since: Annotated[dt.date | None, Query(description="On or after.")] = None,
        until: Annotated[dt.date | None, Query(description="On or before.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> m.EventPage:
        """Events extracted from texts, newest first, with their evidence sentences."""
        cond, params = events_where(
            item=item,
            country=_country(catalog, country, "country"),
            event_type=event_type,
            since=since,
            until=until,
        )
        with reader.read() as store:
            total = int(store.scalar(f"SELECT count(*) FROM events e WHERE {cond}", params))
            rows = store.query(
                "SELECT e.*, d.link, (SELECT array_agg(hs ORDER BY hs) FROM event_items i "
                "WHERE i.event_id = e.event_id) AS items "
                f"FROM events e LEFT JOIN documents d ON d.doc_id = e.doc_id WHERE {cond} "
                "ORDER BY e.event_date DESC, e.event_id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        out = [
            m.EventOut(
                event_id=r["event_id"],
                date=r["event_date"],
                event_type=r["event_type"],
                country=r["country"],
                items=list(r["items"] or []),
                lang=r["lang"],
                evidence=r["evidence"],
                confidence=r["confidence"],
                link=r["link"],
                source_id=r["source_id"],
                matched=json.loads(r["matched"]) if r["matched"] else [],
            )
            for r in rows
        ]
        return m.EventPage(total=total, limit=limit, offset=offset, items=out)

    @app.get(f"{PREFIX}/assessments", responses=_REFUSALS)
    def list_assessments(
        key: Reader,
        item: Annotated[str | None, Query(description="HS code prefix.")] = None,
        country: Annotated[str | None, Query(description="Supplier (name or code).")] = None,
        importer: Annotated[str | None, Query(description="Watching country.")] = None,
        level: Annotated[str | None, Query(description="Lowest level.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> m.AssessmentPage:
        """The latest assessment of each unit, highest score first."""
        lowest = _level(level)
        where, params = ["rn = 1"], list[Any]()
        if item is not None:
            where.append("starts_with(hs, ?)")
            params.append(item)
        for text, what, col in (
            (country, "country", "supplier"),
            (importer, "importer", "importer"),
        ):
            code = _country(catalog, text, what)
            if code is not None:
                where.append(f"{col} = ?")
                params.append(code)
        if lowest:
            where.append("list_position(?, level) >= ?")
            params += [list(LEVELS), lowest + 1]
        latest = (
            "SELECT *, row_number() OVER (PARTITION BY coalesce(item_group, hs), supplier, "
            "importer ORDER BY as_of DESC) AS rn FROM assessments"
        )
        cond = " AND ".join(where)
        with reader.read() as store:
            total = int(store.scalar(f"SELECT count(*) FROM ({latest}) WHERE {cond}", params))
            rows = store.query(
                f"SELECT * FROM ({latest}) WHERE {cond} "
                "ORDER BY score DESC, assessment_id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        out = [
            m.AssessmentOut(
                assessment_id=r["assessment_id"],
                group=r["item_group"],
                hs=r["hs"],
                supplier=r["supplier"],
                importer=r["importer"],
                as_of=r["as_of"],
                score=r["score"],
                level=r["level"],
                explanation=json.loads(r["explanation"]),
                config_version=r["config_version"],
            )
            for r in rows
        ]
        return m.AssessmentPage(total=total, limit=limit, offset=offset, items=out)

    from ews.api.analysis import mount as mount_analysis

    mount_analysis(app, reader, catalog)

    # The dashboard's pages share the store, the key checks and the limits of the API.
    from ews.web.app import mount as mount_web

    mount_web(app, reader, catalog)

    app.add_middleware(RefuseNul)
    app.add_middleware(NoStoreCache)  # outermost: marks every answer, refusals included
    return app
