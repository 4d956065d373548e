from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ews.catalog import Catalog
from ews.errors import InputError
from ews.sources.ingest import ingest_file
from ews.store import Store
from tests.sources.helpers import sample

HS6 = "period_dt,partner_name,hs6,val,qty,uv\n"
TRADE_KEY = "source_id, reporter, partner, flow, freq, period, product_key"


def counts(store: Store) -> tuple[int, int, int, int]:
    return (
        store.scalar("SELECT count(*) FROM price_observations"),
        store.scalar("SELECT count(*) FROM trade_observations"),
        store.scalar("SELECT count(*) FROM ingested_files"),
        store.scalar("SELECT count(*) FROM audit_log"),
    )


def test_same_file_twice_changes_nothing(store: Store, catalog: Catalog) -> None:
    path = sample("china-exports-hs6.csv")
    first = ingest_file(store, catalog, path, kind="trade")
    assert first.counts.new == first.rows_read == 6442
    before = counts(store)
    snapshot = store.query(f"SELECT * FROM trade_observations ORDER BY {TRADE_KEY}")
    second = ingest_file(store, catalog, path, kind="trade")
    assert second.already_ingested
    assert counts(store) == before
    assert store.query(f"SELECT * FROM trade_observations ORDER BY {TRADE_KEY}") == snapshot


def test_same_rows_in_another_file_are_unchanged(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    path = sample("china-exports-hs6.csv")
    ingest_file(store, catalog, path, kind="trade")
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes() + b"\n")  # new file hash, same rows
    report = ingest_file(store, catalog, copy, kind="trade")
    assert (report.counts.new, report.counts.changed, report.counts.unchanged) == (0, 0, 6442)
    # provenance still points at the first file: unchanged rows are not rewritten
    assert store.scalar("SELECT count(DISTINCT file_name) FROM trade_observations") == 1


def test_revised_value_updates_row_and_provenance(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    a = tmp_path / "a.csv"
    a.write_text(HS6 + "2023-08-01,Japan,811292,100,1,100\n2023-09-01,Japan,811292,50,1,50\n")
    b = tmp_path / "b.csv"
    b.write_text(HS6 + "2023-08-01,Japan,811292,120,1,120\n2023-09-01,Japan,811292,50,1,50\n")
    ingest_file(store, catalog, a, kind="trade")
    report = ingest_file(store, catalog, b, kind="trade")
    assert (report.counts.new, report.counts.changed, report.counts.unchanged) == (0, 1, 1)
    row = store.query(
        "SELECT value_usd, file_name FROM trade_observations WHERE period = '2023-08-01'"
    )
    assert row == [{"value_usd": 120.0, "file_name": "b.csv"}]


def test_bad_row_late_in_file_writes_nothing(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    good = sample("china-exports-hs6.csv").read_text(encoding="utf-8")
    path = tmp_path / "late-error.csv"
    path.write_text(good + "2024-12-01,Japan,250410,-1,1,1\n", encoding="utf-8")
    before = counts(store)
    with pytest.raises(InputError, match="negative"):
        ingest_file(store, catalog, path, kind="trade")
    assert counts(store) == before


def test_duplicate_rows(store: Store, catalog: Catalog, tmp_path: Path) -> None:
    same = tmp_path / "dupe.csv"
    same.write_text(HS6 + "2023-08-01,Japan,811292,100,1,100\n2023-08-01,Japan,811292,100,1,100\n")
    report = ingest_file(store, catalog, same, kind="trade")
    assert report.duplicates == 1 and report.counts.new == 1
    clash = tmp_path / "clash.csv"
    clash.write_text(HS6 + "2023-08-01,Korea,811292,100,1,100\n2023-08-01,Korea,811292,7,1,7\n")
    with pytest.raises(InputError, match="repeats the key of row 2") as exc:
        ingest_file(store, catalog, clash, kind="trade")
    assert exc.value.row == 3


def test_prices_ingest_and_provenance(store: Store, catalog: Catalog) -> None:
    report = ingest_file(store, catalog, sample("pinksheet-2000.xlsx"), kind="prices")
    assert report.counts.new > 15000
    row = store.query(
        "SELECT value, unit, hs, file_name, row_no, col FROM price_observations "
        "WHERE series_id = 'urea' AND period = '2021-10-01'"
    )[0]
    assert row["value"] == 695.0 and row["hs"] == "310210" and row["unit"] == "$/mt"
    assert row["file_name"] == "pinksheet-2000.xlsx" and row["row_no"] > 6 and row["col"]
    ok, n, _ = store.verify_audit()
    assert ok and n == 1


def test_store_survives_a_reopen_after_a_failed_ingest(
    tmp_path: Path, catalog: Catalog, store_location: str
) -> None:
    location = store_location
    bad = tmp_path / "bad.csv"
    bad.write_text(HS6 + "2023-08-01,Japan,811292,x,1,1\n")
    with Store(location) as st, pytest.raises(InputError):
        ingest_file(st, catalog, bad, kind="trade")
    with Store(location) as st:
        assert st.scalar("SELECT count(*) FROM ingested_files") == 0
        ingest_file(st, catalog, sample("china-exports-overview.csv"), kind="trade")
        assert st.scalar("SELECT count(*) FROM trade_observations") == 384


def test_wrong_source_kind(store: Store, catalog: Catalog) -> None:
    with pytest.raises(InputError, match="is a prices source"):
        ingest_file(
            store, catalog, sample("china-exports-hs6.csv"), kind="trade", source_id="pinksheet"
        )


def test_real_full_pinksheet(
    store: Store, catalog: Catalog, pinksheet: Path, tmp_path: Path
) -> None:
    shutil.copy(pinksheet, tmp_path / "cmo.xlsx")
    report = ingest_file(store, catalog, tmp_path / "cmo.xlsx", kind="prices")
    assert report.counts.new == report.rows_read > 40000
    assert store.scalar("SELECT min(period) FROM price_observations").year == 1960
