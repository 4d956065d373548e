"""The server's reader: current reads without opening the store per request, and never
waiting for a writer in another process."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ews.errors import StoreError
from ews.store import Store, open_waiting
from ews.store.db import utcnow
from ews.store.reader import RETRY_AFTER, ReplicaStore, StoreReader


def _put(store: Store, key: str, value: str) -> None:
    store.set_meta(key, value)


def _get(reader: StoreReader, key: str) -> str | None:
    with reader.read() as store:
        return store.get_meta(key)


def test_a_read_after_a_committed_write_sees_it(store: Store, store_location: str) -> None:
    reader = StoreReader(store_location, fresh_wait=30)
    try:
        assert _get(reader, "probe") is None
        _put(store, "probe", "one")
        assert _get(reader, "probe") == "one"
        _put(store, "probe", "two")
        assert _get(reader, "probe") == "two"
    finally:
        reader.close()


def test_many_threads_read_at_once(store: Store, store_location: str) -> None:
    _put(store, "probe", "x")
    reader = StoreReader(store_location)
    seen: list[str | None] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                seen.append(_get(reader, "probe"))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader.close()
    assert not failures
    assert seen == ["x"] * 160


def test_without_waiting_a_write_shows_within_a_copy(tmp_path: Path) -> None:
    """The default: reads never wait; the copy catches up in the background."""
    location = str(tmp_path / "ews.duckdb")
    reader = StoreReader(location)
    try:
        with Store(location) as st:
            st.set_meta("probe", "new")
        deadline = time.monotonic() + 30
        while _get(reader, "probe") != "new":
            assert time.monotonic() < deadline, "the copy never caught up"
            time.sleep(0.01)
    finally:
        reader.close()


def test_a_dropped_reader_stops_its_thread(tmp_path: Path) -> None:
    reader = StoreReader(str(tmp_path / "ews.duckdb"))
    thread = reader._thread
    assert thread is not None and thread.is_alive()
    del reader
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_replica_refuses_writes(tmp_path: Path) -> None:
    reader = StoreReader(str(tmp_path / "ews.duckdb"))
    try:
        with reader.read() as store:
            assert isinstance(store, ReplicaStore)
            with pytest.raises(StoreError, match="read-only"):
                store.set_meta("k", "v")
            with pytest.raises(StoreError, match="read-only"):
                store.audit("test", "write", "replica", {})
    finally:
        reader.close()


def test_document_bodies_are_not_copied(tmp_path: Path) -> None:
    """The server shows titles and links; bodies stay in the file (memory)."""
    location = str(tmp_path / "ews.duckdb")
    with Store(location) as st:
        st.execute(
            "INSERT INTO documents VALUES ('d1', 's', 'en', 'Title', 'a long body', NULL, "
            "'https://example.org/1', 'c', 'f.jsonl', 'fs', 1, ?)",
            [utcnow()],
        )
    reader = StoreReader(location)
    try:
        with reader.read() as store:
            row = store.query("SELECT * FROM documents")[0]
        assert row["title"] == "Title" and row["link"] == "https://example.org/1"
        assert "body" not in row
    finally:
        reader.close()


HOLD = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("UPDATE meta SET value = 'written by the writer' WHERE key = 'probe'")
    print("holding", flush=True)
    sys.stdin.readline()  # hold the file until told to stop
    """
)


@contextmanager
def _holding(location: str) -> Iterator[subprocess.Popen[str]]:
    """Another process that has written the store and holds it until :func:`_release`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, location],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=30)


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("\n")
    holder.stdin.flush()


def test_reads_do_not_wait_for_a_writer_in_another_process(tmp_path: Path) -> None:
    location = str(tmp_path / "ews.duckdb")
    with Store(location) as st:
        st.set_meta("probe", "before")
    # Even a reader that may wait for fresh data does not wait for another process's lock.
    reader = StoreReader(location, fresh_wait=30)
    try:
        with _holding(location) as writer:
            # The file changed and is locked: answered from the copy at once, many times.
            started = time.perf_counter()
            answers = {_get(reader, "probe") for _ in range(50)}
            assert answers == {"before"}
            assert time.perf_counter() - started < 5  # generous: no read waited for the lock
            _release(writer)
            assert writer.wait(timeout=30) == 0
        time.sleep(RETRY_AFTER)  # the reader retries the file after this pause
        assert _get(reader, "probe") == "written by the writer"
    finally:
        reader.close()


def test_a_writer_waits_for_the_file_then_gives_up_clearly(tmp_path: Path) -> None:
    location = str(tmp_path / "ews.duckdb")
    with Store(location) as st:
        st.set_meta("probe", "before")
    with _holding(location) as holder:
        with pytest.raises(StoreError, match="lock"):
            open_waiting(location, timeout=0.2)
        threading.Timer(0.5, _release, args=(holder,)).start()
        with open_waiting(location, timeout=60) as st:
            assert st.get_meta("probe") == "written by the writer"


def test_a_closed_reader_opens_again_on_the_next_read(store: Store, store_location: str) -> None:
    """An app's lifespan closes the reader at shutdown; a test client may start it again."""
    _put(store, "probe", "kept")
    reader = StoreReader(store_location, fresh_wait=30)
    reader.close()
    assert _get(reader, "probe") == "kept"
    reader.close()


def test_only_changed_tables_are_copied_and_a_read_sees_one_version(tmp_path: Path) -> None:
    location = str(tmp_path / "ews.duckdb")
    with Store(location) as st:
        st.set_meta("probe", "one")
    reader = StoreReader(location, fresh_wait=30)
    try:
        assert "meta" in reader.tables_copied and "alerts" in reader.tables_copied  # all, first
        with reader.read() as held:
            assert held.get_meta("probe") == "one"
            with Store(location) as st:
                st.set_meta("probe", "two")
            assert _get(reader, "probe") == "two"  # a new read waits for the copy
            assert reader.tables_copied == ["meta"]  # nothing else changed
            assert held.get_meta("probe") == "one"  # the read in progress keeps its version
    finally:
        reader.close()


def test_a_memo_is_never_stored_under_an_older_version(tmp_path: Path) -> None:
    """A read handed version N's memos whose first statement already sees N+1 (a refresh
    landed in between) must not leave N+1's data in N's memos."""
    location = str(tmp_path / "ews.duckdb")
    with Store(location) as st:
        st.set_meta("probe", "one")
    reader = StoreReader(location, fresh_wait=30)
    try:
        with reader.read() as late:
            version, memos = reader._published
            with Store(location) as st:
                st.set_meta("probe", "two")
            assert _get(reader, "probe") == "two"  # the refresh to N+1 is in
            assert late.memo("probe", lambda s: s.get_meta("probe")) == "two"
            assert "probe" not in memos  # N's memos hold nothing of N+1
        with reader.read() as fresh:
            assert fresh.memo("probe", lambda s: s.get_meta("probe")) == "two"
        assert reader._published[0] == version + 1 and "probe" in reader._published[1]
    finally:
        reader.close()
