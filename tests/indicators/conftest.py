"""Fixtures of the indicators tests: one local Spark session per test session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local Spark session (2 cores, no UI, loopback), or skip saying what is missing."""
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
