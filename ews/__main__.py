"""``python -m ews``: the same command as ``ews``."""

from ews.cli import app

app()
