"""``ews serve`` and the API keys: ``ews keys create|list|revoke``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ews.access.keys import DEFAULT_RATE, SCOPES, create_key, list_keys, revoke_key
from ews.cli.common import StoreOpt, err, handles_errors, open_context, out
from ews.settings import get_settings


@handles_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help=f"Repeatable: {', '.join(SCOPES)} (default read)."),
    ] = None,
    rate: Annotated[int, typer.Option(help="Requests per minute.")] = DEFAULT_RATE,
    store: StoreOpt = None,
) -> None:
    """Create an API key and print its token once (it is stored only hashed)."""
    with open_context(store) as ctx:
        key_id, token = create_key(ctx.store, name, scope or ["read"], rate)
    err.print(f"API key {key_id} created; the token is shown only now:", highlight=False)
    out.print(token, highlight=False, soft_wrap=True)


@handles_errors
def keys_list(store: StoreOpt = None) -> None:
    """List API keys (never their tokens)."""
    with open_context(store) as ctx:
        keys = list_keys(ctx.store)
    table = Table(title=f"{len(keys)} API keys")
    for col in ("id", "name", "scopes", "rate/min", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(
            k.key_id,
            k.name,
            ",".join(k.scopes),
            str(k.rate_per_minute),
            f"{k.created_at:%Y-%m-%d %H:%M}",
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

    settings = get_settings()
    if store is not None:
        settings = settings.model_copy(update={"store": store})
    uvicorn.run(create_app(settings), host=host, port=port, server_header=False)
