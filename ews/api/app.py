"""The HTTP API (FastAPI), versioned under ``/api/v1``; OpenAPI at ``/openapi.json``.

Every route needs an API key (``Authorization: Bearer <token>`` or ``X-API-Key``). The server
opens the store once and reads through a :class:`ews.store.reader.StoreReader` (for a DuckDB
file, an in-memory replica kept current), so requests never open the file and never wait
for ``ews ingest`` or ``ews assess`` writing it from another process.
Tokens travel only in headers: nothing here logs headers, and query strings never carry keys
(a client that puts one there anyway does not see it in the access log: :mod:`ews.api.logs`).
Every answer carries the security headers of :class:`ews.api.middleware.SecurityHeaders`;
``/docs`` and ``/redoc`` load their scripts from this node (:mod:`ews.api.docs`).

The routes live in :mod:`ews.api.routers`, one router per area, each thin over its stage's
read side; the dashboard's pages (:mod:`ews.web.pages`) share the store, the key checks and
the limits of the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from ews.api import docs
from ews.api.deps import Gate
from ews.api.logs import guard_access_log
from ews.api.middleware import BodyLimit, NoStoreCache, RefuseNul, SecurityHeaders
from ews.api.routers import (
    alerts,
    assessments,
    backtest,
    catalog,
    events,
    feed,
    indicators,
    now,
    sources,
)
from ews.catalog import load_catalog
from ews.settings import Settings, get_settings
from ews.store.reader import StoreReader
from ews.web import pages

# The order of the routers is the order of the paths in the OpenAPI document.
ROUTERS = (now, catalog, alerts, events, assessments, indicators, backtest, sources, feed)


class _App(FastAPI):
    """FastAPI with :class:`SecurityHeaders` outside its whole stack, Starlette's own
    ``ServerErrorMiddleware`` included, so that even a 500 carries the headers."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


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
    """The API app for the store named by ``settings`` (default: the process settings), with
    the dashboard; request bodies over ``max_body_bytes`` (default: the ``api_max_bytes``
    setting) are refused with 413."""
    settings = settings or get_settings()
    reader = StoreReader(settings.store, fresh_wait=settings.api_fresh_wait)

    guard_access_log()
    app = _App(
        title="EWS API",
        description="Critical items, alerts, events and assessments of this EWS node.",
        version="1",
        openapi_url="/openapi.json",
        # Served by ews.api.docs from this node's own copies, not FastAPI's CDN pages.
        docs_url=None,
        redoc_url=None,
        lifespan=_closing(reader),
    )
    app.state.reader = reader
    app.state.catalog = load_catalog()
    app.state.gate = Gate(reader)
    app.add_middleware(BodyLimit, limit=max_body_bytes or settings.api_max_bytes)
    for area in ROUTERS:
        app.include_router(area.router)
    app.include_router(pages.router)
    app.include_router(docs.router)
    app.exception_handler(StarletteHTTPException)(pages.error_page)
    app.add_middleware(RefuseNul)
    app.add_middleware(NoStoreCache)  # marks every answer, refusals included
    # SecurityHeaders: outermost of all, see _App.
    return app
