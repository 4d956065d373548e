"""CLI commands of the federation stage, registered on the main ``ews`` app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the federation commands (export, import, keys, partners, node)."""
