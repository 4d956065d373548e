"""Where the analytics run: Ibis over the embedded DuckDB store, or over Apache Spark.

Indicator analytics are Ibis expressions built from table expressions, so the same code runs
on the node's own DuckDB file and on a Spark cluster holding global (BACI-scale) data. The
default is the store's own connection: no copy, and the results see uncommitted rows of the
caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis  # type: ignore[import-untyped, unused-ignore]
import ibis.expr.types as ir  # type: ignore[import-untyped, unused-ignore]
import pyarrow as pa

from ews.store import Store

if TYPE_CHECKING:
    from ibis.backends.duckdb import Backend as DuckDBBackend  # type: ignore[import-untyped, unused-ignore]


def duckdb_backend(store: Store) -> DuckDBBackend:
    """An Ibis backend on the store's own DuckDB connection."""
    return ibis.duckdb.from_connection(store.con)


def spark_backend(session: Any) -> Any:
    """An Ibis backend on a running SparkSession (PySpark is an optional dependency)."""
    return ibis.pyspark.connect(session)


def local_spark_session(app_name: str = "ews", scratch: str | None = None) -> Any:
    """A small local Spark session for tests and benchmarks (2 cores, no UI, loopback only).

    Spark's warehouse and Derby files go to ``scratch`` (a temporary folder by default) so a
    session never writes into the working directory.
    """
    import tempfile

    from pyspark.sql import SparkSession

    scratch = scratch or tempfile.mkdtemp(prefix="ews-spark-")
    return (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", f"{scratch}/warehouse")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch}")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


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


def to_arrow(expr: ibis.Table) -> pa.Table:
    """Execute an expression on the backend its tables belong to."""
    return expr.to_pyarrow()
