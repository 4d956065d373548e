"""What every API router shares: the key check, the store and catalogue of the app, paging
parameters, the documented refusals and parameter parsing.

:func:`ews.api.app.create_app` puts the :class:`Gate`, the store reader and the catalogue on
``app.state``; routes reach them through the dependencies here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator

from ews.access.keys import ApiKey, RateLimiter, check_token
from ews.api import models as m
from ews.catalog import Catalog, load_catalog
from ews.store.reader import StoreReader
from ews.text.gloss import Glossary

PREFIX = "/api/v1"
MAX_PAGE = 500

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key header.")

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
# Bounded so that every store can bind it (PostgreSQL's OFFSET is a 64-bit integer).
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Rows to skip.")]

REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": m.Problem, "description": "No, unknown, revoked or expired API key."},
    403: {"model": m.Problem, "description": "The key lacks the scope."},
    429: {"model": m.Problem, "description": "Rate limit exceeded."},
    # FastAPI's 422s carry a list of field errors (every bad parameter, an unknown country
    # included: see KnownCountry); a few of ours one sentence (NUL characters). The schema
    # documents both, else clients (and schemathesis) see undocumented 422s.
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
"""The refusals every route may answer, as documented in the OpenAPI."""

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": m.Problem}}
"""Beside :data:`REFUSALS`, for a route that looks one thing up."""


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
            key = check_token(store, token)
        if key == "expired":
            raise HTTPException(401, "expired API key", headers=challenge)
        if not isinstance(key, ApiKey):
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
Partner = Annotated[ApiKey, Depends(require("partner"))]


def app_reader(request: Request) -> StoreReader:
    """The app's store reader (requests never open the store themselves)."""
    reader: StoreReader = request.app.state.reader
    return reader


def app_catalog(request: Request) -> Catalog:
    """The app's catalogue."""
    found: Catalog = request.app.state.catalog
    return found


def app_glossary(request: Request) -> Glossary:
    """The app's glossary of matched terms, built on first use (compiling the lexicon takes
    about a second) and kept on ``app.state``, shared with the dashboard."""
    state = request.app.state
    glossary: Glossary | None = getattr(state, "glossary", None)
    if glossary is None:
        glossary = state.glossary = Glossary(app_catalog(request))
    return glossary


StoreReaderDep = Annotated[StoreReader, Depends(app_reader)]
CatalogDep = Annotated[Catalog, Depends(app_catalog)]
GlossaryDep = Annotated[Glossary, Depends(app_glossary)]


def _known_country(text: str | None) -> str | None:
    if text is not None and load_catalog().country_code(text) is None:
        raise ValueError(f"unknown country {text!r}; use a name in any language or an ISO code")
    return text


KnownCountry = AfterValidator(_known_country)
"""Checks a country parameter with FastAPI's own validation, so an unknown country is listed
with every other bad parameter of the request instead of being refused alone once the
others pass. It reads the shipped catalogue: the one :func:`ews.api.app.create_app` puts on
``app.state`` (validators are not given the request)."""


def field_error(name: str, value: object, message: str) -> dict[str, Any]:
    """One problem with query parameter ``name``, shaped as FastAPI's field errors are."""
    return {"type": "value_error", "loc": ["query", name], "msg": message, "input": value}


def country_code(catalog: Catalog, text: str | None, what: str) -> str | None:
    """The ISO code of a country named or coded ``text``; 422 naming parameter ``what`` for
    a country the catalogue does not know."""
    if text is None:
        return None
    code = catalog.country_code(text)
    if code is None:
        raise HTTPException(422, f"{what}: unknown country {text!r}")
    return code
