"""Where the analytics run: Ibis over the embedded DuckDB store, or over Apache Spark.

Indicator analytics are Ibis expressions built from table expressions, so the same code runs
on the node's own DuckDB file and on a Spark cluster holding global (BACI-scale) data. The
default is the store's own connection: no copy, and the results see uncommitted rows of the
caller's transaction.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import ibis  # type: ignore[import-untyped, unused-ignore]
import ibis.expr.types as ir  # type: ignore[import-untyped, unused-ignore]
import pyarrow as pa

from ews.store import DuckDBStore

if TYPE_CHECKING:
    from ibis.backends.duckdb import Backend as DuckDBBackend  # type: ignore[import-untyped, unused-ignore]


def duckdb_backend(store: DuckDBStore) -> DuckDBBackend:
    """An Ibis backend on the store's own DuckDB connection."""
    return ibis.duckdb.from_connection(store.con)


def scratch_duckdb() -> DuckDBBackend:
    """An Ibis backend on a new in-memory DuckDB: where indicators of a PostgreSQL store run,
    on Arrow copies of the tables they read (docs/postgres.md)."""
    return ibis.duckdb.connect()


def spark_backend(session: Any) -> Any:
    """An Ibis backend on a running SparkSession (PySpark is an optional dependency)."""
    return ibis.pyspark.connect(session)


def is_local_master(master: str) -> bool:
    """True for Spark's in-process masters (``local``, ``local[2]``, ``local[*]``)."""
    return master == "local" or master.startswith("local[")


def spark_session(
    master: str | None = None, app_name: str = "ews", scratch: str | None = None
) -> Any:
    """A SparkSession on ``master``; None means the master spark-submit set, else ``local[*]``.

    An already running session is reused (its master wins). In local mode the driver listens
    on loopback only, and Python workers run this interpreter (they need the ``ews`` package);
    on a cluster, executors find Python and the package as docs/spark.md describes. Spark's
    warehouse and Derby files go to ``scratch`` (a temporary folder by default) so a session
    never writes into the working directory. The session time zone is UTC, like the store.
    """
    import sys
    import tempfile

    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    conf = SparkConf()
    if master is None:
        master = conf.get("spark.master", "local[*]")
    scratch = scratch or tempfile.mkdtemp(prefix="ews-spark-")
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", f"{scratch}/warehouse")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if is_local_master(master):
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
        )
        # PySpark starts Python workers with $PYSPARK_PYTHON, else whatever `python3` is on
        # the PATH, which may not have the `ews` package: use this interpreter.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return builder.getOrCreate()


def local_spark_session(
    app_name: str = "ews", scratch: str | None = None, master: str = "local[2]"
) -> Any:
    """A small local Spark session for tests and benchmarks (2 cores, no UI, loopback only)."""
    return spark_session(master, app_name, scratch)


def register_arrow(backend: Any, name: str, table: pa.Table) -> ir.Table:
    """Make an Arrow table queryable as ``name`` on a DuckDB or Spark Ibis backend.

    On Spark it becomes a temporary view (nothing is written to a warehouse); on DuckDB a
    temporary table.
    """
    if backend.name == "pyspark":
        session = backend._session
        session.createDataFrame(table).createOrReplaceTempView(name)
        return backend.table(name)
    return backend.create_table(name, table, temp=True, overwrite=True)


def nullable(table: ir.Table) -> ir.Table:
    """The same columns with nullable types, so tables from different origins can be unioned."""
    return table.cast({name: dtype.copy(nullable=True) for name, dtype in table.schema().items()})
