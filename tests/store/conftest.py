"""These tests run on both store backends: the embedded DuckDB file and PostgreSQL."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["duckdb", "postgresql"])
def store_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
