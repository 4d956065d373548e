"""``python -m ews.cli``: the same command as ``ews``."""

from ews.cli import app

# Guarded: extraction workers are spawned processes, which import the main module again.
if __name__ == "__main__":
    app()
