"""CLI commands of the indicators stage, registered on the main ``ews`` app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the indicators stage's commands (``ews indicators``)."""
