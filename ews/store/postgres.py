"""The store on a PostgreSQL server: one shared store for a node with several users.

The same :class:`~ews.store.db.Store` interface as the embedded DuckDB file, and the same SQL:
callers write DuckDB's dialect with ``?`` placeholders, and each statement is translated once
(sqlglot, ``read="duckdb", write="postgres"``, plus the few rewrites it lacks, below) and
cached. Migrations are the same files, translated the same way.

What a shared server adds over one embedded file:

* migrations run under an advisory lock, so two nodes starting at once migrate once;
* the audit chain is extended under a table lock held to the end of the transaction, so
  concurrent writers cannot both chain onto the same record (the chain never forks);
* upserts are ``INSERT ... ON CONFLICT DO UPDATE ... WHERE <a compared column differs>``,
  row-atomic against a concurrent writer of the same key.

A ``search_path`` in the URL (``?options=-csearch_path%3Dews``) keeps the store in its own
schema; the locks are per schema. The connection password never appears in errors or in
:attr:`location`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pyarrow as pa
import sqlglot
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.tokens import TokenType

from ews.errors import StoreError
from ews.store.db import Cursor, Store, UpsertCounts, redact_location

# Lock names, hashed with the schema so that stores in different schemas do not wait on
# each other.
_MIGRATE_LOCK = "ews.migrate"


class _NumericLoader(Loader):
    """NUMERIC (what PostgreSQL's sum() of integers returns) as int or float, like DuckDB,
    instead of Decimal."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode("ascii")
        if text.lstrip("-").isdigit():
            return int(text)
        return float(text)


# -- translation -----------------------------------------------------------------------------
def _group_by_all(node: exp.Expression) -> exp.Expression:
    """GROUP BY ALL (DuckDB) -> GROUP BY the positions of the non-aggregate select items."""
    if not isinstance(node, exp.Select):
        return node
    group = node.args.get("group")
    if not isinstance(group, exp.Group) or not group.args.get("all"):
        return node
    positions = [
        exp.Literal.number(i)
        for i, item in enumerate(node.expressions, start=1)
        if not item.find(exp.AggFunc, exp.Window)
    ]
    node.set("group", exp.Group(expressions=positions) if positions else None)
    return node


def _order_outside_qualify(node: exp.Expression) -> exp.Expression:
    """sqlglot turns QUALIFY into a filter on a subquery but leaves ORDER BY and LIMIT inside
    it, where PostgreSQL need not keep them: move them to an outer query."""
    if not isinstance(node, exp.Select) or not node.args.get("qualify"):
        return node
    moved = {k: node.args.get(k) for k in ("order", "limit", "offset") if node.args.get(k)}
    if not moved:
        return node
    for k in moved:
        node.set(k, None)
    outer = exp.select("*").from_(node.subquery("_qualified"))
    for k, v in moved.items():
        outer.set(k, v)
    return outer


def _alias_subqueries(tree: exp.Expression) -> None:
    """PostgreSQL before 16 wants an alias on every subquery in FROM; DuckDB does not."""
    for n, sub in enumerate(list(tree.find_all(exp.Subquery)), start=1):
        if not sub.alias and isinstance(sub.parent, exp.From | exp.Join):
            sub.set("alias", exp.TableAlias(this=exp.to_identifier(f"_q{n}")))


def _functions(node: exp.Expression) -> exp.Expression:
    """DuckDB functions PostgreSQL spells differently (sqlglot leaves these as they are)."""
    if isinstance(node, exp.List) and len(node.expressions) == 1:
        # DuckDB's list(x) is the aggregate (its list constructor is [...])
        return exp.ArrayAgg(this=node.expressions[0])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "list_position":
        return exp.func("array_position", *node.expressions)
    if isinstance(node, exp.Year | exp.Month | exp.Day):
        part = type(node).__name__.upper()
        extract = exp.Extract(this=exp.var(part), expression=node.this)
        return exp.Cast(this=extract, to=exp.DataType.build("INT"))
    return node


_DUCKDB = DuckDB()
_MARK = TokenType.PLACEHOLDER


@lru_cache(maxsize=4096)
def to_postgres(sql: str) -> str:
    """One statement in DuckDB's dialect (``?`` placeholders) as PostgreSQL (``$n``)."""
    # Number the ?s in the order they appear in the text ($1, $2, ...): PostgreSQL's own
    # placeholders, with which a literal '%' needs no escaping (the driver's %s would).
    numbered, last = [], 0
    try:
        tokens = _DUCKDB.tokenize(sql)
        for n, token in enumerate((t for t in tokens if t.token_type == _MARK), start=1):
            numbered += [sql[last : token.start], f"${n}"]
            last = token.end + 1
        tree = sqlglot.parse_one("".join(numbered) + sql[last:], read="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        raise StoreError(f"cannot translate SQL to PostgreSQL: {exc}") from exc
    tree = tree.transform(_functions).transform(_group_by_all).transform(_order_outside_qualify)
    _alias_subqueries(tree)
    for mark in list(tree.find_all(exp.Placeholder)):
        mark.replace(exp.Parameter(this=exp.Literal.number(int(mark.name))))
    return tree.sql(dialect="postgres")


def migration_statements(script: str) -> list[str]:
    """A migration file (DuckDB DDL) as PostgreSQL statements."""
    return [s for s in sqlglot.transpile(script, read="duckdb", write="postgres") if s.strip()]


# -- Arrow <-> PostgreSQL --------------------------------------------------------------------
_PG_TYPE = {
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.int16(): "SMALLINT",
    pa.float64(): "DOUBLE PRECISION",
    pa.float32(): "REAL",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.null(): "TEXT",
}

# Result column types by PostgreSQL type OID (pg_type), for Arrow reads.
_ARROW_TYPE: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    25: pa.string(),
    700: pa.float32(),
    701: pa.float64(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1700: pa.float64(),
    1009: pa.list_(pa.string()),
    1015: pa.list_(pa.string()),
}


def _pg_type(arrow: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMP"
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return f"{_pg_type(arrow.value_type)}[]"
    if arrow in _PG_TYPE:
        return _PG_TYPE[arrow]
    raise StoreError(f"no PostgreSQL type for Arrow type {arrow}")


def _rows(table: pa.Table) -> Iterator[tuple[Any, ...]]:
    for batch in table.to_batches(max_chunksize=10_000):
        yield from zip(*(col.to_pylist() for col in batch.columns), strict=True)


class PostgresStore(Store):
    """A store on a PostgreSQL server (``postgresql://user:password@host:port/db``)."""

    def __init__(self, location: str, *, read_only: bool = False) -> None:
        self.location = redact_location(location)
        self._secret = urlsplit(location).password or ""
        try:
            self.con = psycopg.connect(
                location,
                autocommit=True,
                cursor_factory=psycopg.RawCursor,
                application_name="ews",
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot open store {self.location!r}: {self._clean(exc)}") from None
        self.con.adapters.register_loader("numeric", _NumericLoader)
        self._in_tx = False
        # TIMESTAMP columns hold naive UTC, as in the DuckDB store.
        self.con.execute("SET TIME ZONE 'UTC'")
        if read_only:
            self.con.execute("SET default_transaction_read_only = on")
        else:
            self.migrate()

    def _clean(self, exc: BaseException) -> str:
        """An error's text without the password (a driver may echo the connection string)."""
        text = str(exc).strip()
        return text.replace(self._secret, "***") if self._secret else text

    def close(self) -> None:
        self.con.close()

    # -- statements ------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        return self.con.execute(to_postgres(sql), list(params) if params else None)

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        with self.con.cursor() as cur:
            cur.execute(to_postgres(sql), list(params) if params else None)
            names = [d.name for d in cur.description or []]
            types = [_ARROW_TYPE.get(d.type_code) for d in cur.description or []]
            rows = cur.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        arrays = [
            pa.array(list(values), type=type_) for values, type_ in zip(columns, types, strict=True)
        ]
        return pa.Table.from_arrays(arrays, names=names)

    def _copy_in(self, table: str, rows: pa.Table) -> None:
        cols = ", ".join(rows.column_names)
        with self.con.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in _rows(rows):
                copy.write_row(row)

    def _drop_temp(self, name: str) -> None:
        # After an error inside a transaction nothing more can run; the rollback that
        # follows removes a temporary table created in it.
        if self.con.info.transaction_status != TransactionStatus.INERROR:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    @contextmanager
    def arrow_view(self, name: str, rows: pa.Table) -> Iterator[None]:
        columns = ", ".join(f"{f.name} {_pg_type(f.type)}" for f in rows.schema)
        self.con.execute(f"CREATE TEMPORARY TABLE {name} ({columns})")
        try:
            self._copy_in(name, rows)
            yield
        finally:
            self._drop_temp(name)

    # -- transactions and locks ------------------------------------------------------------
    def _begin(self) -> None:
        self.con.execute("BEGIN")

    def _commit(self) -> None:
        self.con.execute("COMMIT")

    def _rollback(self) -> None:
        if not self.con.closed:
            self.con.execute("ROLLBACK")

    def _lock_audit(self) -> None:
        # Readers still read; a second writer waits here until this transaction ends.
        self.con.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")

    def migrate(self) -> list[int]:
        """Apply pending migrations under an advisory lock: of two nodes starting at once,
        one migrates and the other waits, then finds nothing left to do."""
        from ews.store.db import _migrations

        newest = max(v for v, _, _ in _migrations())
        if self.schema_version() >= newest:  # the common case: no lock needed
            return []
        self.con.execute(
            "SELECT pg_advisory_lock(hashtext(current_schema() || $1))", [_MIGRATE_LOCK]
        )
        try:
            return super().migrate()
        finally:
            self.con.execute(
                "SELECT pg_advisory_unlock(hashtext(current_schema() || $1))", [_MIGRATE_LOCK]
            )

    def _create_migrations_table(self) -> None:
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )

    def _apply_migration(self, sql: str) -> None:
        for statement in migration_statements(sql):
            self.con.execute(statement)

    # -- bulk writes -----------------------------------------------------------------------
    def upsert(
        self,
        table: str,
        rows: pa.Table,
        *,
        key: Sequence[str],
        compare: Sequence[str],
    ) -> UpsertCounts:
        if rows.num_rows == 0:
            return UpsertCounts(0, 0, 0)
        stage = f"_stage_{table}"
        cols = rows.column_names
        col_list = ", ".join(cols)
        # The stage takes the target's column types, not its constraints.
        self.con.execute(
            f"CREATE TEMPORARY TABLE {stage} AS SELECT {col_list} FROM {table} WITH NO DATA"
        )
        try:
            self._copy_in(stage, rows)
            differs = " OR ".join(f"t.{c} IS DISTINCT FROM excluded.{c}" for c in compare)
            sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key)
            action = f"DO UPDATE SET {sets} WHERE {differs}" if sets and differs else "DO NOTHING"
            # xmax = 0 marks a row this statement inserted (not one it updated).
            row = self.con.execute(
                f"WITH written AS (INSERT INTO {table} AS t ({col_list}) "
                f"SELECT {col_list} FROM {stage} ON CONFLICT ({', '.join(key)}) {action} "
                "RETURNING (t.xmax = 0) AS inserted) "
                "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
                "FROM written"
            ).fetchone()
        finally:
            self._drop_temp(stage)
        assert row is not None
        new, changed = int(row[0]), int(row[1])
        return UpsertCounts(new=new, changed=changed, unchanged=rows.num_rows - new - changed)

    def replace_all(self, table: str, rows: pa.Table) -> None:
        self.con.execute(f"DELETE FROM {table}")
        if rows.num_rows:
            self._copy_in(table, rows)
