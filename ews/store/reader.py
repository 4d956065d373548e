"""Reads for a long-running server: the store stays open; nothing is opened per request.

Opening a DuckDB file and checking its migrations takes tens of milliseconds, and DuckDB lets
one process hold a file at a time. The API server must answer in a few milliseconds while
``ews ingest``, ``ews assess`` or ``ews sync`` write the same file from another process. So,
for a DuckDB file, the server reads from a *replica*: an in-memory DuckDB database holding a
copy of the file's tables (one consistent snapshot of them). A refresh compares each table's
row count and sum of row hashes with the copy's and replaces only the tables that changed,
in one transaction; each read runs in a transaction of its own, so it sees one version of
every table however many refreshes happen meanwhile.

Freshness: a background thread checks the file and its write-ahead log every :data:`POLL`
seconds (size and modification time: two ``stat`` calls) and, when either changed, brings
the copy up to date. Readers keep answering from the previous version meanwhile, so no
request waits for a copy, and an answer lags a committed write by about one refresh's time
plus :data:`POLL`. While another process holds the file, the copy answers
(as of the last state the server could read) and the thread tries again every
:data:`RETRY_AFTER` seconds. A writer waits for the file at most as long as a copy takes
(:func:`ews.store.db.open_waiting`). A reader built with ``fresh_wait`` checks the file
itself and waits for the copy to catch up (tests that write and read at once).

PostgreSQL serves many processes at once, so there the reader keeps a small pool of open
read-only connections instead.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import duckdb
import pyarrow as pa

from ews.errors import StoreError
from ews.store.db import Cursor, DuckDBStore, Store, T, UpsertCounts, is_postgres_location
from ews.store.files import private_umask

log = logging.getLogger("ews.store")

RETRY_AFTER = 0.2
"""Seconds between attempts to copy a file another process holds."""

POLL = 0.1
"""Seconds between the refresher's checks for a change (two ``stat`` calls each)."""

POOL_IDLE = 8
"""Open PostgreSQL connections kept for reuse."""

# Columns the server never shows: large, so not copied (a document's body is read by the
# extraction stage, not by the API or the dashboard, which show its title and link).
SKIPPED_COLUMNS: dict[str, frozenset[str]] = {"documents": frozenset({"body"})}

Generation = tuple[int, int, int, int]


class ReplicaStore(DuckDBStore):
    """One reader's view of the replica: a DuckDB cursor on the in-memory copy.

    Writing through it would change only the copy and be lost at the next refresh, so the
    write methods refuse.
    """

    def __new__(cls, *_: object) -> ReplicaStore:
        return object.__new__(cls)

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        location: str,
        memos: dict[str, Any],
        version: int | None = None,
    ) -> None:
        self.con = con
        self.location = location
        self._in_tx = False
        self._memos = memos
        self._version = version  # the copy's version the memos belong to; None: unversioned
        self._reading = False

    def _begin_read(self) -> None:
        """Start the read's transaction at its first statement, so a read answered from
        memos alone runs no SQL. If a refresh landed since the memos were handed out, this
        read's results are not stored in them."""
        if self._reading or self._version is None:
            return
        self._reading = True
        self.con.execute("BEGIN TRANSACTION")  # one version of every table from here on
        seen = int(self.con.execute("SELECT v FROM _replica_version").fetchall()[0][0])
        if seen != self._version:
            self._memos = {}

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        self._begin_read()
        return self.con.execute(sql, params or [])

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        self._begin_read()
        # On this cursor, inside the read's transaction (a new cursor would see a newer copy).
        return self.con.sql(sql, params=list(params) if params else None).to_arrow_table()

    def memo(self, name: str, compute: Callable[[Store], T]) -> T:
        """Computed once per version of the copy: a version never changes, and a refresh
        starts the next one with no memos."""
        try:
            return cast(T, self._memos[name])
        except KeyError:
            value = compute(self)
            self._memos[name] = value  # two threads may both compute it; either result is right
            return value

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Reads already run in one transaction (the read's)."""
        yield self

    def _refuse(self) -> StoreError:
        return StoreError("the server's replica of the store is read-only")

    def upsert(
        self, table: str, rows: pa.Table, *, key: Sequence[str], compare: Sequence[str]
    ) -> UpsertCounts:
        raise self._refuse()

    def replace_all(self, table: str, rows: pa.Table) -> None:
        raise self._refuse()

    def audit(self, actor: str, action: str, subject: str, detail: dict[str, Any]) -> str:
        raise self._refuse()

    def set_meta(self, key: str, value: str) -> None:
        raise self._refuse()


_LIVE: weakref.WeakSet[StoreReader] = weakref.WeakSet()


@atexit.register
def _stop_refreshers() -> None:
    """Stop every refresher before the interpreter exits: a daemon thread still inside
    DuckDB when Python tears down is killed mid-C++ and aborts the process."""
    for reader in list(_LIVE):
        reader.close()


def _refresh_loop(
    ref: weakref.ReferenceType[StoreReader], wake: threading.Event, stop: threading.Event
) -> None:
    """The refresher thread: copy the file whenever it changed, when a read saw a change or
    every :data:`POLL` seconds, and every :data:`RETRY_AFTER` seconds while another process
    holds it. Holds the reader only weakly, so a reader (an app) dropped without ``close``
    does not live on in its thread."""
    retrying = False
    while not stop.is_set():
        wake.wait(RETRY_AFTER if retrying else POLL)
        wake.clear()
        reader = ref()
        if reader is None or stop.is_set():
            return
        reader._attempt()
        retrying = reader._retrying
        del reader


class StoreReader:
    """Read access to the store for a server process; see the module notes.

    ``with reader.read() as store:`` gives a :class:`Store` to run queries on, safe to use
    from many threads at once (each read has its own cursor or connection).

    ``fresh_wait``: how long a read may wait for a copy in progress to finish (seconds).
    0 (the default) never waits: a read during a copy answers from the previous one, so
    no request is slowed by a copy, and answers lag a write by at most one copy's time.
    Tests that write and then read at once set it higher.
    """

    def __init__(self, location: str, *, fresh_wait: float = 0.0) -> None:
        self.location = location
        self.fresh_wait = fresh_wait
        self._postgres = is_postgres_location(location)
        self._memory = location == ":memory:"
        self._path = None if self._postgres or self._memory else Path(location).expanduser()
        self._wal = Path(f"{self._path}.wal") if self._path else None
        self._lock = threading.Lock()  # guards the pool
        self._idle: list[Store] = []
        # The copy: one in-memory database for the reader's life. A refresh replaces the
        # tables that changed in one transaction and bumps the version in _replica_version;
        # a read runs in a transaction, so it sees one version, and takes that version's
        # memos (memos of older versions are dropped; a late reader computes its own).
        self._snapshot: duckdb.DuckDBPyConnection | None = None
        # (version, its memos), one attribute: set after the version's commit.
        self._published: tuple[int, dict[str, Any]] = (0, {})
        self._fingerprints: dict[str, tuple[Any, ...]] = {}
        self.tables_copied: list[str] = []
        """The tables the last refresh copied (those whose content changed)."""
        self._generation: Generation | None = None
        self._retrying = False  # the last attempt could not copy; the refresher retries soon
        self._held_elsewhere = False  # ... because another process holds the file
        self._done = threading.Condition()
        self._opening = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refreshes = 0
        self.copy_seconds = 0.0
        self.copied_at: float | None = None
        """``time.time()`` when the file was last copied (DuckDB file only)."""
        self._started = False
        self.open()

    def open(self) -> None:
        """Open the store (migrating it; a bad location fails here) and, for a DuckDB file,
        make the first copy and start the refresher. Idempotent: a closed reader (an app
        whose lifespan ended, then started again) opens anew."""
        with self._opening:
            if self._snapshot is not None or (self._postgres and self._started):
                return
            first = Store(self.location)
            self._started = True
            if self._memory:
                assert isinstance(first, DuckDBStore)
                self._snapshot = first.con  # the store itself: nothing else can write it
                return
            if self._postgres:
                first.close()
                return
            assert isinstance(first, DuckDBStore)
            self._snapshot = duckdb.connect(":memory:")
            self._snapshot.execute("CREATE TABLE _replica_version (v BIGINT)")
            self._snapshot.execute("INSERT INTO _replica_version VALUES (0)")
            self._published, self._fingerprints = (0, {}), {}
            try:
                self._copy(first.con)
            finally:
                first.close()
            self._wake, self._stop = threading.Event(), threading.Event()
            self._thread = threading.Thread(
                target=_refresh_loop,
                args=(weakref.ref(self), self._wake, self._stop),
                name="ews-store-replica",
                daemon=True,
            )
            self._thread.start()
            _LIVE.add(self)

    @contextmanager
    def read(self) -> Iterator[Store]:
        """A store to read from, current as explained in the module notes."""
        if self._postgres:
            with self._pooled() as store:
                yield store
            return
        if self._snapshot is None:
            self.open()  # closed by an app's lifespan that has since started again
        # A read that may wait checks the file itself; one that may not leaves it to the
        # refresher's polling (two stat calls per read are a tenth of a board request).
        if self._thread is not None and self.fresh_wait > 0 and self._stat() != self._generation:
            self._request_copy()
        replica = self._snapshot
        assert replica is not None
        cursor = replica.cursor()
        try:
            if self._memory:
                yield ReplicaStore(cursor, self.location, {})  # no copy, so no memos
                return
            version, memos = self._published
            yield ReplicaStore(cursor, self.location, memos, version)
        finally:
            cursor.close()  # ends the read's transaction

    def status(self) -> dict[str, Any]:
        """How current reads are: backend, when the copy was made, whether the file has
        changed since (``behind``), copies made and the last copy's seconds."""
        copied = self.copied_at
        return {
            "backend": "postgresql" if self._postgres else "duckdb",
            "data_as_of": None if copied is None else dt.datetime.fromtimestamp(copied, dt.UTC),
            "behind": self._thread is not None and self._stat() != self._generation,
            "copies": self.refreshes,
            "last_copy_seconds": round(self.copy_seconds, 4),
            "last_copy_tables": list(self.tables_copied),
        }

    def close(self) -> None:
        """Stop the refresher and release the copy and the pool (a later read reopens)."""
        with self._opening:
            self._stop.set()
            self._wake.set()
            if self._thread is not None:
                self._thread.join(timeout=30)
                self._thread = None
            with self._lock:
                for store in self._idle:
                    store.close()
                self._idle.clear()
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None
            self._started = False

    # -- DuckDB: the replica ---------------------------------------------------------------
    def _stat(self) -> Generation:
        assert self._path is not None and self._wal is not None
        try:
            main = self._path.stat()
        except FileNotFoundError:
            return (0, 0, 0, 0)
        try:
            wal = self._wal.stat()
            wal_gen = (wal.st_mtime_ns, wal.st_size)
        except FileNotFoundError:
            wal_gen = (0, 0)
        return (main.st_mtime_ns, main.st_size, *wal_gen)

    def _request_copy(self) -> None:
        """Wake the refresher; wait up to ``fresh_wait`` for the copy to catch up with the
        file, unless another process holds the file."""
        self._wake.set()
        if self.fresh_wait <= 0:
            return
        deadline = time.monotonic() + self.fresh_wait
        with self._done:
            while self._stat() != self._generation:
                left = deadline - time.monotonic()
                if left <= 0 or not self._done.wait(left):
                    return
                if self._retrying and self._held_elsewhere:
                    return  # another process holds the file: answer from the copy

    def _attempt(self) -> None:
        """One pass of the refresher: copy the file if it changed and is free."""
        if self._stat() == self._generation:
            self._retrying = False
            return
        # Opening may replay a write-ahead log or spill to disk: such files are 0600.
        with private_umask():
            try:
                source = duckdb.connect(str(self._path))
            except duckdb.Error as exc:
                text = str(exc).lower()
                # Held by another process (DuckDB's file lock), or opened by this process with
                # another configuration (a command run in the server's process): both pass.
                self._held_elsewhere = "lock" in text
                if not self._held_elsewhere and "conflict" not in text:
                    log.error("cannot read store %r: %s", self.location, exc)
                self._retrying = True
            else:
                self._retrying = self._held_elsewhere = False
                try:
                    self._copy(source)
                except duckdb.Error as exc:  # keep answering from the last good copy
                    log.error("cannot copy store %r: %s", self.location, exc)
                    self._retrying = True
                finally:
                    source.close()
        with self._done:
            self._done.notify_all()  # waiting readers look again

    def _copy(self, source: duckdb.DuckDBPyConnection) -> None:
        """Bring the copy up to the file: replace the tables whose content changed, in one
        transaction (only the refresher thread calls this, or :meth:`open` before it
        starts). A table's content is compared by row count and the sum of its rows'
        hashes, a scan an order of magnitude cheaper than copying it (5M trade rows: about
        0.1 s against over 2 s), so a news ingest does not copy the trade tables again."""
        started = time.perf_counter()
        # Stat first: a write that lands after this point makes the next check copy again.
        generation = self._stat()
        replica = self._snapshot
        assert replica is not None
        source.execute("BEGIN TRANSACTION")  # one snapshot of every table
        try:
            columns: dict[str, list[str]] = {}
            for table, column in source.execute(
                "SELECT c.table_name, c.column_name FROM information_schema.columns c "
                "JOIN information_schema.tables t ON t.table_name = c.table_name "
                "AND t.table_schema = c.table_schema "
                "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
                "ORDER BY c.table_name, c.ordinal_position"
            ).fetchall():
                if column not in SKIPPED_COLUMNS.get(table, ()):
                    columns.setdefault(str(table), []).append(str(column))
            prints: dict[str, tuple[Any, ...]] = {}
            changed: dict[str, pa.Table] = {}
            for table, names in columns.items():
                listed = ", ".join(names)
                # fetchall: a pending result would block the next statement on this connection
                row = source.execute(
                    f"SELECT count(*), sum(hash({listed})) FROM {table}"
                ).fetchall()[0]
                # The column list is part of the print: a migration that adds a column
                # copies the table even when its rows hash the same.
                prints[table] = (tuple(names), *(row or ()))
                if prints[table] != self._fingerprints.get(table):
                    changed[table] = source.sql(f"SELECT {listed} FROM {table}").to_arrow_table()
        finally:
            source.execute("COMMIT")
        version = self._published[0] + 1
        replica.execute("BEGIN TRANSACTION")
        try:
            for table, rows in changed.items():
                replica.register("_rows", rows)
                replica.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _rows")
                replica.unregister("_rows")
            for table in set(self._fingerprints) - set(prints):
                replica.execute(f"DROP TABLE IF EXISTS {table}")
            replica.execute("UPDATE _replica_version SET v = ?", [version])
        except BaseException:
            replica.execute("ROLLBACK")
            raise
        replica.execute("COMMIT")
        self._published = (version, {})
        self._fingerprints = prints
        self._generation = generation
        self.tables_copied = sorted(changed)
        self.copied_at = time.time()
        self.refreshes += 1
        self.copy_seconds = time.perf_counter() - started
        log.debug("store replica refreshed in %.3f s (%s)", self.copy_seconds, ", ".join(changed))

    # -- PostgreSQL: a pool ----------------------------------------------------------------
    @contextmanager
    def _pooled(self) -> Iterator[Store]:
        with self._lock:
            store = self._idle.pop() if self._idle else None
        if store is None:
            store = Store(self.location, read_only=True)
        try:
            yield store
        except BaseException:
            store.close()  # the connection may be mid-statement or broken
            raise
        with self._lock:
            if len(self._idle) < POOL_IDLE:
                self._idle.append(store)
                return
        store.close()
