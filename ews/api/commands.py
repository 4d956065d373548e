"""CLI commands of the HTTP API: ``ews keys create|list|revoke`` and ``ews serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from ews.access.keys import DEFAULT_RATE, SCOPES

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="Store location (default: EWS_STORE or the user data dir)."),
]


def keys_group(app: typer.Typer) -> typer.Typer:
    """The ``keys`` group already mounted on ``app`` (the federation stage's), or a new one."""
    for info in app.registered_groups:
        if info.name == "keys" and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help="Signing key and API keys.", no_args_is_help=True)
    app.add_typer(group, name="keys")
    return group


def register_keys(keys_app: typer.Typer) -> None:
    """Add ``create``, ``list`` and ``revoke`` (API keys) to the ``keys`` group."""
    from rich.table import Table

    from ews.access.keys import create_key, list_keys, revoke_key
    from ews.cli import _open, err, handles_errors, out

    @keys_app.command("create")
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
        with _open(store) as ctx:
            key_id, token = create_key(ctx.store, name, scope or ["read"], rate)
        err.print(f"API key {key_id} created; the token is shown only now:", highlight=False)
        out.print(token, highlight=False, soft_wrap=True)

    @keys_app.command("list")
    @handles_errors
    def keys_list(store: StoreOpt = None) -> None:
        """List API keys (never their tokens)."""
        with _open(store) as ctx:
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

    @keys_app.command("revoke")
    @handles_errors
    def keys_revoke(
        key_id: Annotated[str, typer.Argument(help="Key id from `ews keys list`.")],
        store: StoreOpt = None,
    ) -> None:
        """Revoke an API key at once."""
        with _open(store) as ctx:
            revoke_key(ctx.store, key_id)
        out.print(f"API key {key_id} revoked", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``ews serve`` and the API-key commands (to the existing ``keys`` group)."""
    from ews.cli import handles_errors
    from ews.settings import get_settings

    register_keys(keys_group(app))

    @app.command("serve")
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
