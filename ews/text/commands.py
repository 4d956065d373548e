"""CLI commands of the text stage, registered on the main ``ews`` app."""

from __future__ import annotations

import typer


def register(app: typer.Typer, ingest_app: typer.Typer) -> None:
    """Add the text stage's commands (``ews extract``, ``ews ingest news``)."""
