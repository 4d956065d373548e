"""``ews stream publish|consume news|alerts``: news and alerts over NATS JetStream or Kafka.

Each takes ``--transport nats|kafka`` and ``--url`` (defaults: ``EWS_STREAM_TRANSPORT``,
``EWS_STREAM_URL``). Consumers stop when nothing is left to read unless ``--follow``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ews.cli.common import StoreOpt, err, handles_errors, open_node, out

if TYPE_CHECKING:
    from ews.stream.transport import Transport

TransportOpt = Annotated[
    str | None,
    typer.Option("--transport", help="nats or kafka (default: EWS_STREAM_TRANSPORT)."),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url", help="NATS servers or Kafka bootstrap servers (default: EWS_STREAM_URL)."
    ),
]
DurableOpt = Annotated[
    str | None,
    typer.Option(
        "--durable",
        help="Consumer name; its position survives restarts (default: <prefix>-<what>-<node>).",
    ),
]
FollowOpt = Annotated[
    bool, typer.Option("--follow", help="Keep waiting for new messages instead of stopping.")
]
BatchOpt = Annotated[
    int | None,
    typer.Option("--batch", min=1, help="Messages per transaction (default: EWS_STREAM_BATCH)."),
]


@contextmanager
def _transport(kind: str | None, url: str | None) -> Iterator[Transport]:
    from ews.settings import get_settings
    from ews.stream.transport import open_transport

    transport = open_transport(kind, url, get_settings())
    try:
        yield transport
    finally:
        transport.close()


@handles_errors
def publish_news(
    paths: Annotated[list[Path], typer.Argument(help="News or notices files.")],
    transport: TransportOpt = None,
    url: UrlOpt = None,
    source: Annotated[
        str | None, typer.Option(help="Source id (default: from the file name).")
    ] = None,
) -> None:
    """Publish news documents, one message per document keyed by its id."""
    from ews.catalog import load_catalog
    from ews.settings import get_settings
    from ews.stream.news import publish_news_file

    settings = get_settings()
    catalog = load_catalog()
    failed = 0
    with _transport(transport, url) as tr:
        for path in paths:
            report = publish_news_file(
                tr,
                catalog,
                path,
                prefix=settings.stream_prefix,
                source_id=source,
                max_bytes=settings.max_file_bytes,
            )
            failed += report.error is not None
            out.print(report.summary(), highlight=False, markup=False)
            for warning in report.warnings:
                err.print(f"warning: {path}: {warning}", highlight=False, markup=False)
    if failed and failed == len(paths):
        raise typer.Exit(2)


@handles_errors
def consume_news_cmd(
    transport: TransportOpt = None,
    url: UrlOpt = None,
    durable: DurableOpt = None,
    follow: FollowOpt = False,
    batch: BatchOpt = None,
    store: StoreOpt = None,
) -> None:
    """Store published documents and their events (idempotent, at least once)."""
    from ews.context import Context
    from ews.federation.node import open_store
    from ews.settings import get_settings
    from ews.store.db import is_postgres_location
    from ews.stream.news import StoreSource, consume_news, durable_name
    from ews.text.extract import Extractor

    settings = get_settings()
    prefix = settings.stream_prefix
    location = store or settings.store
    with Context.open(settings, store=location) as ctx, _transport(transport, url) as tr:
        target: StoreSource = ctx.store
        if follow and not is_postgres_location(location):
            # A consumer that follows runs for days: it must not hold a DuckDB file (one
            # process at a time) while it waits, or the API server's copy and every other
            # command would wait for it. So it opens the file for each batch.
            ctx.store.close()
            target = partial(open_store, location, timeout=settings.store_wait)
        report = consume_news(
            tr,
            target,
            Extractor(ctx.catalog),
            prefix=prefix,
            durable=durable or durable_name(prefix, "news", settings.node_id),
            batch=batch or settings.stream_batch,
            follow=follow,
        )
    out.print(report.summary(), highlight=False, markup=False)


@handles_errors
def publish_alerts_cmd(
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Only this partner (repeatable; default: all active)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only versions sent on or after this ISO date/time.")
    ] = None,
    transport: TransportOpt = None,
    url: UrlOpt = None,
    store: StoreOpt = None,
) -> None:
    """Publish this node's alerts, signed for each partner the sharing rule allows."""
    from ews.errors import EwsError
    from ews.settings import get_settings
    from ews.stream.alerts import publish_alerts

    settings = get_settings()
    since_dt: dt.datetime | None = None
    if since is not None:
        try:
            since_dt = dt.datetime.fromisoformat(since)
        except ValueError:
            raise EwsError(f"--since {since!r} is not an ISO date or date-time") from None
        if since_dt.tzinfo is None:
            since_dt = since_dt.replace(tzinfo=dt.UTC)
    node = open_node(store)
    with _transport(transport, url) as tr:
        report = publish_alerts(
            tr,
            node,
            prefix=settings.stream_prefix,
            ttl=dt.timedelta(seconds=settings.stream_message_ttl),
            to=to or (),
            since=since_dt,
        )
    out.print(report.summary(), highlight=False, markup=False)


@handles_errors
def consume_alerts_cmd(
    transport: TransportOpt = None,
    url: UrlOpt = None,
    durable: DurableOpt = None,
    follow: FollowOpt = False,
    batch: BatchOpt = None,
    store: StoreOpt = None,
) -> None:
    """Verify and store partners' alerts sent to this node; refused ones go to the
    dead-letter subject and the audit log."""
    from ews.settings import get_settings
    from ews.stream.alerts import consume_alerts
    from ews.stream.news import durable_name

    settings = get_settings()
    prefix = settings.stream_prefix
    node = open_node(store)
    with _transport(transport, url) as tr:
        report = consume_alerts(
            tr,
            node,
            prefix=prefix,
            durable=durable or durable_name(prefix, "alerts", node.node_id),
            max_lifetime=dt.timedelta(seconds=settings.stream_message_ttl),
            batch=batch or settings.stream_batch,
            follow=follow,
        )
    out.print(report.summary(), highlight=False, markup=False)
