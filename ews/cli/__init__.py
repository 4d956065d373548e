"""The ``ews`` command.

Every command opens the store through :class:`~ews.context.Context`; refused input prints
one line naming file, row and field on stderr and exits with code 2.

The commands live in one module per group (:mod:`ews.cli.catalog`, :mod:`ews.cli.risk`, ...);
this module mounts them, in the order ``ews --help`` lists them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ews import __version__
from ews.cli import (
    admin,
    api,
    catalog,
    federation,
    indicators,
    ingest,
    now,
    report,
    risk,
    run,
    sources,
    stream,
    text,
)
from ews.cli.common import out
from ews.cli.help import plain_help

app = typer.Typer(
    name="ews",
    help="Supply-chain early-warning system: critical items, signals, risk and alerts.",
    add_completion=False,
)


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """With no command: what is at risk for the node's watching country now (``ews now``),
    once a store exists; before that, the list of commands."""
    if version:
        out.print(f"ews {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        if _store_exists():
            now.now_cmd()
        else:
            out.print(ctx.get_help())
            out.print("No store yet: ews demo sets one up with the bundled sample data.")
        raise typer.Exit(0)


def _store_exists() -> bool:
    from pathlib import Path

    from ews.settings import get_settings
    from ews.store.db import is_postgres_location

    location = get_settings().store
    return is_postgres_location(location) or Path(location).exists()


def _group(parent: typer.Typer, name: str, about: str) -> typer.Typer:
    group = typer.Typer(help=about, no_args_is_help=True)
    parent.add_typer(group, name=name)
    return group


app.command("now")(now.now_cmd)
app.command("items")(catalog.items_cmd)
app.command("countries")(catalog.countries_cmd)
app.command("board")(report.board_cmd)
app.command("demo")(admin.demo_cmd)
app.command("info")(admin.info_cmd)
app.command("extract")(text.extract_cmd)
app.command("documents")(text.documents_cmd)
app.command("indicators")(indicators.indicators_cmd)
app.command("report")(report.report_cmd)
app.command("assess")(risk.assess_cmd)
app.command("alerts")(risk.alerts_cmd)
app.command("explain")(risk.explain_cmd)
app.command("backtest")(risk.backtest_cmd)
app.command("export")(federation.export_cmd)
app.command("import")(federation.import_cmd)
app.command("serve")(api.serve_cmd)
app.command("run")(run.run_cmd)

sources_app = typer.Typer(
    help="Live sources `ews run` polls (and the file readers of `ews ingest`).",
    invoke_without_command=True,
)
app.add_typer(sources_app, name="sources")


@sources_app.callback()
def _sources_default(ctx: typer.Context) -> None:
    # `ews sources` alone lists, as it did before it had subcommands.
    if ctx.invoked_subcommand is None:
        sources.sources_list(readers=True, defaults=False, fmt="table", store=None)


sources_app.command("list")(sources.sources_list)
sources_app.command("add")(sources.sources_add)
sources_app.command("remove")(sources.sources_remove)
sources_app.command("enable")(sources.sources_enable)
sources_app.command("disable")(sources.sources_disable)
sources_app.command("status")(sources.sources_status)
sources_app.command("raw")(sources.sources_raw)

ingest_app = _group(app, "ingest", "Ingest source files into the store (idempotent).")
ingest_app.command("prices")(ingest.ingest_prices)
ingest_app.command("trade")(ingest.ingest_trade)
ingest_app.command("news")(ingest.ingest_news_cmd)
ingest_app.command("events")(ingest.ingest_events_cmd)

audit_app = _group(app, "audit", "The tamper-evident audit log.")
audit_app.command("verify")(admin.audit_verify)

# One group for both kinds of key: the node's signing key and the API keys.
keys_app = _group(app, "keys", "This node's Ed25519 signing key.")
keys_app.command("init")(federation.keys_init)
keys_app.command("show")(federation.keys_show)
keys_app.command("create")(api.keys_create)
keys_app.command("list")(api.keys_list)
keys_app.command("revoke")(api.keys_revoke)

partners_app = _group(app, "partners", "Partner nodes, their keys and agreements.")
partners_app.command("add")(federation.partners_add)
partners_app.command("list")(federation.partners_list)
partners_app.command("remove")(federation.partners_remove)
partners_app.command("agree")(federation.partners_agree)

node_app = _group(app, "node", "Run this node's federation server.")
node_app.command("serve")(federation.node_serve)

federation_app = _group(app, "federation", "Exchange alerts with partner nodes.")
federation_app.command("sync")(federation.federation_sync)
federation_app.command("status")(federation.federation_status)

stream_app = _group(
    app, "stream", "Publish and consume news and alerts over NATS JetStream or Kafka."
)
publish_app = _group(stream_app, "publish", "Publish to the stream.")
publish_app.command("news")(stream.publish_news)
publish_app.command("alerts")(stream.publish_alerts_cmd)
consume_app = _group(stream_app, "consume", "Consume from the stream into the store.")
consume_app.command("news")(stream.consume_news_cmd)
consume_app.command("alerts")(stream.consume_alerts_cmd)

plain_help(app)

__all__ = ["app"]
