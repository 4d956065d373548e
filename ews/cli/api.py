"""``ews serve`` and the API keys: ``ews keys create|list|revoke``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ews.access.keys import (
    DEFAULT_RATE,
    SCOPES,
    create_key,
    list_keys,
    parse_expiry,
    revoke_key,
)
from ews.cli.common import StoreOpt, err, handles_errors, open_context, out
from ews.settings import get_settings
from ews.store.db import utcnow


@handles_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help=f"Repeatable: {', '.join(SCOPES)} (default read)."),
    ] = None,
    rate: Annotated[int, typer.Option(help="Requests per minute.")] = DEFAULT_RATE,
    expires: Annotated[
        str | None,
        typer.Option(
            help="When the key stops working: a duration (90d, 12h, 2w) or a UTC date "
            "(2026-03-31). Default: never."
        ),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Create an API key and print its token once (it is stored only hashed)."""
    expires_at = parse_expiry(expires, utcnow()) if expires is not None else None
    with open_context(store) as ctx:
        key_id, token = create_key(ctx.store, name, scope or ["read"], rate, expires_at)
    until = f", valid until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    err.print(f"API key {key_id} created{until}; the token is shown only now:", highlight=False)
    out.print(token, highlight=False, soft_wrap=True)


@handles_errors
def keys_list(store: StoreOpt = None) -> None:
    """List API keys (never their tokens)."""
    with open_context(store) as ctx:
        keys = list_keys(ctx.store)
    table = Table(title=f"{len(keys)} API keys")
    for col in ("id", "name", "scopes", "rate/min", "created", "expires", "revoked"):
        table.add_column(col)
    now = utcnow()
    for k in keys:
        expiry = ""
        if k.expires_at is not None:
            expiry = f"{k.expires_at:%Y-%m-%d %H:%M}" + (" (expired)" if k.expired(now) else "")
        table.add_row(
            k.key_id,
            k.name,
            ",".join(k.scopes),
            str(k.rate_per_minute),
            f"{k.created_at:%Y-%m-%d %H:%M}",
            expiry,
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    out.print(table)


@handles_errors
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id from `ews keys list`.")],
    store: StoreOpt = None,
) -> None:
    """Revoke an API key at once."""
    with open_context(store) as ctx:
        revoke_key(ctx.store, key_id)
    out.print(f"API key {key_id} revoked", highlight=False)


@handles_errors
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    store: StoreOpt = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, routes under /api/v1)."""
    import uvicorn

    from ews.api.app import create_app
    from ews.api.logs import log_config

    settings = get_settings()
    if store is not None:
        settings = settings.model_copy(update={"store": store})
    # log_config: the access log never writes a token a client put in the query string.
    uvicorn.run(
        create_app(settings), host=host, port=port, server_header=False, log_config=log_config()
    )
