"""What every command module of the ``ews`` command shares: consoles, the error wrapper,
opening the store or the node, the ``--store`` option and the alert board table."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ews.alerts.board import latest_versions, peak_levels
from ews.context import Context
from ews.errors import EwsError
from ews.settings import get_settings

if TYPE_CHECKING:
    from ews.alerts.records import Alert
    from ews.federation.node import Node

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="Store location (default: EWS_STORE or the user data dir)."),
]

LEVEL_STYLE = {
    "normal": "green",
    "attention": "cyan",
    "caution": "yellow",
    "alert": "bold red",
    "serious": "bold white on red",
}


def handles_errors(fn: F) -> F:
    """Turn EWS errors into one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EwsError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def open_context(store: str | None) -> Context:
    """The context of a command: settings from the environment, the store at ``store`` (default
    ``EWS_STORE``) opened and migrated."""
    return Context.open(get_settings(), store=store)


def open_node(store: str | None = None) -> Node:
    """This node as the federation and stream commands see it: its configuration from the
    environment, with the store at ``store`` when given."""
    from dataclasses import replace

    from ews.federation.config import FederationConfig
    from ews.federation.node import Node

    config = FederationConfig.from_env()
    if store:
        config = replace(config, store=store)
    return Node(config)


def parse_date(text: str | None, what: str) -> dt.date | None:
    """``text`` as an ISO date (None stays None); :class:`EwsError` naming the option ``what``
    otherwise."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise EwsError(f"{what}: not a date (YYYY-MM-DD): {text!r}") from None


def print_alert_board(
    alerts: list[Alert],
    *,
    include_cancelled: bool = False,
    limit: int | None = None,
    peaks: dict[str, str] | None = None,
) -> None:
    """The newest version of each alert as a table, newest first."""
    rows = [a for a in latest_versions(alerts) if include_cancelled or a.msg_type != "Cancel"]
    shown = rows[:limit] if limit else rows
    open_now = sum(1 for a in rows if a.msg_type != "Cancel")
    # Without --include-cancelled the closed alerts are left out, not absent: "0 closed"
    # would say there are none.
    closed = f"{len(rows) - open_now} closed" if include_cancelled else "closed ones not shown"
    table = Table(title=f"EWS alert board: {open_now} open, {closed} (newest first)")
    for col in ("updated", "level", "item", "supplier", "view", "status", "id"):
        table.add_column(col, overflow="fold")
    peak = peaks or peak_levels(alerts)
    for a in shown:
        top = peak.get(a.alert_id, a.level)
        status = f"closed (peak {top})" if a.msg_type == "Cancel" else f"{a.msg_type} v{a.version}"
        table.add_row(
            f"{a.sent:%Y-%m-%d}",
            f"[{LEVEL_STYLE[a.level]}]{a.level}[/]",
            f"{a.item_name} ({a.hs})",
            a.supplier or "world",
            a.importer or "global",
            status,
            a.alert_id,
        )
    out.print(table)
    if limit and len(rows) > limit:
        out.print(f"… {len(rows) - limit} more: ews alerts --include-cancelled", style="dim")
