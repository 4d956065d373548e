"""A throw-away PostgreSQL server for the tests (scripts/pg-test-server.sh), one per session.

Each test gets its own schema on the one server (a ``search_path`` in the store URL), so tests
stay independent without the cost of a cluster or a database each.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

from ews.settings import project_root

SCRIPT = project_root() / "scripts" / "pg-test-server.sh"
NO_BINARIES = 3  # the script's exit code when PostgreSQL is not installed


class PostgresServer:
    """A running server; :meth:`new_location` hands out a store URL in a fresh schema."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ews-pg-"))
        run = subprocess.run(  # our own script, fixed arguments
            [str(SCRIPT), "start", str(self.folder)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if run.returncode != 0:
            shutil.rmtree(self.folder, ignore_errors=True)
            if run.returncode == NO_BINARIES:
                pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not on this machine")
            raise RuntimeError(f"pg-test-server.sh failed: {run.stderr.strip()}")
        self.url = run.stdout.strip()
        self._names = itertools.count(1)

    def new_location(self) -> str:
        """A store URL whose tables live in a new, empty schema."""
        import psycopg

        schema = f"t{next(self._names)}"
        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {schema}")
        return f"{self.url}?options={quote(f'-csearch_path={schema}')}"

    def stop(self) -> None:
        subprocess.run(
            [str(SCRIPT), "stop", str(self.folder)], capture_output=True, check=False, timeout=60
        )
        shutil.rmtree(self.folder, ignore_errors=True)
