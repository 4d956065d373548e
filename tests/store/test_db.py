from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from ews.store import Store
from ews.store.db import _migrations


def _prices(values: list[float], source: str = "s") -> pa.Table:
    n = len(values)
    return pa.table(
        {
            "source_id": [source] * n,
            "series_id": [f"x{i}" for i in range(n)],
            "freq": ["M"] * n,
            "period": pa.array([dt.date(2021, 10, 1)] * n, pa.date32()),
            "series_name": ["X"] * n,
            "hs": pa.array([None] * n, pa.string()),
            "value": values,
            "unit": ["$/mt"] * n,
            "file_name": ["f.xlsx"] * n,
            "file_sha256": ["0" * 64] * n,
            "row_no": pa.array(list(range(1, n + 1)), pa.int64()),
            "col": pa.array(["B"] * n, pa.string()),
            "ingested_at": pa.array([dt.datetime(2026, 1, 1)] * n, pa.timestamp("us")),
        }
    )


KEY = ("source_id", "series_id", "freq", "period")


def test_migrations_apply_once(store_location: str) -> None:
    path = store_location
    with Store(path) as st:
        assert st.schema_version() == max(v for v, _, _ in _migrations())
    with Store(path) as st:  # reopening applies nothing more
        assert st.migrate() == []
        assert st.scalar("SELECT count(*) FROM schema_migrations") == len(_migrations())


def test_upsert_counts_new_changed_unchanged(store_location: str) -> None:
    with Store(store_location) as st:
        with st.transaction():
            first = st.upsert("price_observations", _prices([1.0, 2.0]), key=KEY, compare=["value"])
        assert (first.new, first.changed, first.unchanged) == (2, 0, 0)
        with st.transaction():
            again = st.upsert(
                "price_observations", _prices([1.0, 2.5, 3.0]), key=KEY, compare=["value"]
            )
        assert (again.new, again.changed, again.unchanged) == (1, 1, 1)
        assert st.scalar("SELECT value FROM price_observations WHERE series_id = 'x1'") == 2.5
        assert st.scalar("SELECT count(*) FROM price_observations") == 3


def test_failed_transaction_leaves_nothing(store_location: str) -> None:
    with Store(store_location) as st:
        with pytest.raises(RuntimeError), st.transaction():
            st.upsert("price_observations", _prices([1.0]), key=KEY, compare=["value"])
            raise RuntimeError("killed half-way")
        assert st.scalar("SELECT count(*) FROM price_observations") == 0


def test_audit_chain_detects_tampering(store_location: str) -> None:
    with Store(store_location) as st:
        for i in range(3):
            st.audit("test", "ingest.prices", f"file{i}", {"rows": i})
        assert st.verify_audit() == (True, 3, "")
        st.execute("UPDATE audit_log SET detail = '{\"rows\": 99}' WHERE seq = 2")
        ok, _, problem = st.verify_audit()
        assert not ok
        assert "record 2" in problem


def test_audit_chain_detects_deletion(store_location: str) -> None:
    with Store(store_location) as st:
        for i in range(3):
            st.audit("test", "a", str(i), {})
        st.execute("DELETE FROM audit_log WHERE seq = 2")
        ok, _, problem = st.verify_audit()
        assert not ok
        assert "gap" in problem


def test_locked_or_bad_store_is_a_clear_error(tmp_path: Path) -> None:
    from ews.errors import StoreError

    bad = tmp_path / "not-a-db.duckdb"
    bad.write_bytes(b"this is not a duckdb file" * 100)
    with pytest.raises(StoreError, match="cannot open store"):
        Store(str(bad))
