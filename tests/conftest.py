"""Shared fixtures: the real data folder (skip when absent), fresh stores, the catalogue."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ews.catalog import Catalog, load_catalog
from ews.catalog.sync import sync_catalog
from ews.settings import Settings, find_shared_data
from ews.store import Store
from tests.pg_server import PostgresServer

SHARED = find_shared_data(Settings())
SKIP_NO_SHARED = "real data folder ../shared/data is not on this machine"


def shared_file(relative: str) -> Path:
    """A file of the real data folder, or skip the test saying which one is missing."""
    if SHARED is None:
        pytest.skip(SKIP_NO_SHARED)
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"real data file {relative} is absent")
    return path


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server for the session, or skip saying what is missing."""
    pytest.importorskip("psycopg", reason="psycopg (PostgreSQL driver) is not installed")
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def store_backend() -> str:
    """The backend of ``store`` and ``store_location``: DuckDB, unless a folder's conftest
    overrides this fixture with both (``params=["duckdb", "postgresql"]``)."""
    return "duckdb"


@pytest.fixture
def store_location(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a fresh store can be opened: a DuckDB file, or a new schema on the test server."""
    if store_backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return server.new_location()
    return str(tmp_path / "ews.duckdb")


@pytest.fixture
def store(store_location: str, catalog: Catalog) -> Iterator[Store]:
    st = Store(store_location)
    sync_catalog(st, catalog)
    yield st
    st.close()


@pytest.fixture
def pinksheet() -> Path:
    return shared_file("prices/CMO-Historical-Data-Monthly.xlsx")


@pytest.fixture
def china_hs6() -> Path:
    return shared_file("trade/china-exports-deep_dive_hs6_monthly.csv")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session (2 cores, no UI, loopback) for the whole test session, or skip
    saying what is missing."""
    pytest.importorskip("pyspark", reason="PySpark (optional extra) is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java 17, which is not on this machine")
    from ews.indicators.engine import local_spark_session

    scratch = tempfile.mkdtemp(prefix="ews-spark-test-")
    session = local_spark_session("ews-tests", scratch=scratch)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    shutil.rmtree(scratch, ignore_errors=True)
