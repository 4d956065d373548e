"""Dependence and concentration on small synthetic tables, and DuckDB == Spark."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import ibis
import pyarrow as pa
import pytest

from ews.catalog import Catalog
from ews.indicators.dependence import (
    check_observations,
    dependence,
    observations_to_flows,
    rows,
)
from ews.indicators.engine import duckdb_backend, register_arrow, spark_backend
from ews.indicators.run import run_dependence, save_run
from ews.store import Store


def flows(*records: tuple[str, str, str, int, float]) -> pa.Table:
    """(exporter, importer, product, year, value) rows as a flows table."""
    cols = list(zip(*records, strict=True))
    return pa.table(
        {
            "exporter": list(cols[0]),
            "importer": list(cols[1]),
            "product": list(cols[2]),
            "year": pa.array(cols[3], pa.int32()),
            "value": pa.array(cols[4], pa.float64()),
        }
    )


def compute(table: pa.Table) -> dict[tuple[str, str, int], dict[str, Any]]:
    backend = ibis.duckdb.connect()
    t = register_arrow(backend, "flows", table)
    return {(r["importer"], r["product"], r["year"]): r for r in rows(dependence(t))}


# Hand-computed cases: (id, flows, (importer, product, year), expected figures).
CASES = [
    (
        "two suppliers 60/40",
        [("CN", "KR", "p", 2022, 60.0), ("AU", "KR", "p", 2022, 40.0)],
        ("KR", "p", 2022),
        {
            "import_value": 100.0,
            "top_supplier": "CN",
            "top_share": 0.6,
            "hhi": 0.52,
            "n_suppliers": 2,
            "korea_rule": True,
        },
    ),
    (
        "four equal suppliers",
        [(s, "JP", "p", 2022, 25.0) for s in ("CN", "AU", "US", "CL")],
        ("JP", "p", 2022),
        {"top_share": 0.25, "hhi": 0.25, "korea_rule": False, "crit_import_hhi": False},
    ),
    (
        "zero flow is no supplier",
        [("CN", "DE", "p", 2022, 90.0), ("AU", "DE", "p", 2022, 0.0)],
        ("DE", "p", 2022),
        {"n_suppliers": 1, "hhi": 1.0, "top_share": 1.0},
    ),
    (
        "tie: the share does not depend on which top supplier is named",
        [("US", "VN", "p", 2022, 50.0), ("CN", "VN", "p", 2022, 50.0)],
        ("VN", "p", 2022),
        {"top_share": 0.5, "korea_rule": True, "hhi": 0.5, "n_suppliers": 2},
    ),
]


@pytest.mark.parametrize(
    ("records", "key", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_concentration_cases(
    records: list[tuple[str, str, str, int, float]],
    key: tuple[str, str, int],
    expected: dict[str, Any],
) -> None:
    got = compute(flows(*records))[key]
    for name, value in expected.items():
        if isinstance(value, float):
            assert got[name] == pytest.approx(value), name
        else:
            assert got[name] == value, name


def test_eu_criteria_and_persistence_two_of_three_years() -> None:
    # KR imports p from CN only (HHI 1); CN is the only exporter to the world (world HHI 1);
    # KR exports nothing (ratio infinite). In 2021 KR also buys from 3 others (HHI < 0.4),
    # and 2020 is absent: persistence counts years, not rows.
    recs = [("CN", "KR", "p", y, 100.0) for y in (2019, 2021, 2022, 2023)]
    recs += [(s, "KR", "p", 2021, 100.0) for s in ("AU", "US", "CL")]
    out = compute(flows(*recs))
    assert out["KR", "p", 2019]["criteria_met"] and out["KR", "p", 2019]["years_met"] == 1
    assert not out["KR", "p", 2021]["crit_import_hhi"]
    assert out["KR", "p", 2021]["hhi"] == pytest.approx(0.25)
    assert out["KR", "p", 2021]["years_met"] == 1  # 2019 met, 2020 absent, 2021 not met
    assert out["KR", "p", 2022]["years_met"] == 1 and not out["KR", "p", 2022]["dependent"]
    assert out["KR", "p", 2023]["years_met"] == 2 and out["KR", "p", 2023]["dependent"]
    assert out["KR", "p", 2023]["import_export_ratio"] is None  # no exports: infinite
    assert out["KR", "p", 2023]["crit_import_export_ratio"]


def test_import_export_ratio_and_world_export_hhi() -> None:
    out = compute(
        flows(
            ("CN", "KR", "p", 2022, 80.0),
            ("US", "KR", "p", 2022, 20.0),
            ("KR", "JP", "p", 2022, 150.0),  # KR exports more than it imports
        )
    )
    kr = out["KR", "p", 2022]
    assert kr["export_value"] == 150.0 and kr["import_export_ratio"] == pytest.approx(100 / 150)
    assert not kr["crit_import_export_ratio"] and not kr["criteria_met"]
    world = (80**2 + 20**2 + 150**2) / 250**2
    assert kr["world_export_hhi"] == pytest.approx(world)


def obs_table(rows_: list[dict[str, Any]]) -> pa.Table:
    base = {
        "source_id": "t",
        "freq": "M",
        "quantity": None,
        "file_name": "f.csv",
        "file_sha256": "0" * 64,
    }
    full = [{**base, **r} for r in rows_]
    for r in full:
        r.setdefault("product_key", "p")
        r.setdefault("item_group", None)
    return pa.Table.from_pylist(
        full,
        schema=pa.schema(
            [
                ("source_id", pa.string()),
                ("reporter", pa.string()),
                ("partner", pa.string()),
                ("flow", pa.string()),
                ("freq", pa.string()),
                ("period", pa.date32()),
                ("product_key", pa.string()),
                ("item_group", pa.string()),
                ("value_usd", pa.float64()),
                ("quantity", pa.float64()),
                ("file_name", pa.string()),
                ("file_sha256", pa.string()),
            ]
        ),
    )


JAN = dt.date(2022, 1, 1)
FEB = dt.date(2022, 2, 1)
MIRROR_ROWS = [
    # CN and AU report exports to KR; KR reports nothing -> mirror.
    {"reporter": "CN", "partner": "KR", "flow": "export", "period": JAN, "value_usd": 30.0},
    {"reporter": "CN", "partner": "KR", "flow": "export", "period": FEB, "value_usd": 30.0},
    {"reporter": "AU", "partner": "KR", "flow": "export", "period": JAN, "value_usd": 40.0},
    # JP reports its imports: CN's export report to JP is not used.
    {"reporter": "JP", "partner": "CN", "flow": "import", "period": JAN, "value_usd": 10.0},
    {"reporter": "CN", "partner": "JP", "flow": "export", "period": JAN, "value_usd": 99.0},
    # Bad input: unknown partner, world aggregate, same flow from a second source.
    {"reporter": "CN", "partner": "XX", "flow": "export", "period": JAN, "value_usd": 5.0},
    {"reporter": "CN", "partner": "WLD", "flow": "export", "period": JAN, "value_usd": 999.0},
    {
        "source_id": "u",
        "reporter": "AU",
        "partner": "KR",
        "flow": "export",
        "period": JAN,
        "value_usd": 41.0,
    },
]


def countries_table() -> pa.Table:
    return pa.table({"iso2": ["CN", "KR", "AU", "JP", "US"]})


def test_mirror_flows_stand_in_when_the_importer_reports_nothing() -> None:
    backend = ibis.duckdb.connect()
    obs = register_arrow(backend, "obs", obs_table(MIRROR_ROWS))
    countries = register_arrow(backend, "countries", countries_table())
    out = {
        (r["importer"], r["year"]): r
        for r in rows(dependence(observations_to_flows(obs, countries)))
    }
    kr = out["KR", 2022]
    assert kr["basis"] == "mirror" and kr["import_value"] == pytest.approx(100.0)
    assert kr["top_supplier"] == "CN" and kr["top_share"] == pytest.approx(0.6)
    assert kr["months"] == 2
    jp = out["JP", 2022]
    assert jp["basis"] == "reported" and jp["import_value"] == pytest.approx(10.0)
    notes = check_observations(obs, countries)
    assert any("unknown partner" in n and "XX" in n for n in notes)
    assert any("more than one source" in n and "1 with different" in n for n in notes)


def test_run_stores_results_with_provenance(store: Store, catalog: Catalog) -> None:
    table = obs_table(MIRROR_ROWS[:5])
    table = table.append_column("hs", pa.array(["250410"] * len(table), pa.string()))
    table = table.set_column(
        table.schema.get_field_index("product_key"),
        "product_key",
        pa.array(["250410"] * len(table)),
    )
    for name, typ, value in (
        ("quantity_unit", pa.string(), None),
        ("row_no", pa.int64(), 2),
        ("col", pa.string(), None),
        ("ingested_at", pa.timestamp("us"), dt.datetime(2024, 1, 1)),
    ):
        table = table.append_column(name, pa.array([value] * len(table), typ))
    with store.transaction():
        store.upsert(
            "trade_observations",
            table,
            key=["source_id", "reporter", "partner", "flow", "freq", "period", "product_key"],
            compare=["value_usd"],
        )
    run = run_dependence(store, country="KR")
    assert [r["importer"] for r in run.dependence] == ["KR"]
    assert run.inputs == [
        {"source_id": "t", "file_name": "f.csv", "file_sha256": "0" * 64, "rows": 5}
    ]
    first = save_run(store, run)
    again = save_run(store, run_dependence(store, country="KR"))
    assert first == again  # same inputs and parameters: the same run, replaced
    assert store.scalar("SELECT count(*) FROM indicator_runs") == 1
    stored = store.query("SELECT * FROM dependence_results WHERE run_id = ?", [first])
    assert stored[0]["basis"] == "mirror" and stored[0]["top_supplier"] == "CN"
    assert store.verify_audit()[0]


@pytest.mark.slow
def test_duckdb_and_spark_give_identical_results(spark: Any) -> None:
    """The same Ibis expressions on both engines, from stored-observation rows to criteria."""
    obs = obs_table(MIRROR_ROWS)
    synth = flows(
        *[
            (e, i, "q", y, float(v))
            for y in (2020, 2021, 2022)
            for (e, i, v) in (
                ("CN", "KR", 70 + y % 7),
                ("AU", "KR", 30),
                ("KR", "US", 5),
                ("CN", "US", 50),
                ("US", "JP", 20),
                ("CN", "JP", 60 - y % 5),
            )
        ]
    )
    results = {}
    for name, backend in (
        ("duckdb", ibis.duckdb.connect()),
        ("spark", spark_backend(spark)),
    ):
        o = register_arrow(backend, "obs_t", obs)
        c = register_arrow(backend, "countries_t", countries_table())
        f = register_arrow(backend, "flows_t", synth)
        results[name] = (
            rows(dependence(observations_to_flows(o, c))) + rows(dependence(f)),
            check_observations(o, c),
        )
    duck, sp = results["duckdb"], results["spark"]
    assert duck[1] == sp[1]
    assert len(duck[0]) == len(sp[0]) > 0
    for a, b in zip(duck[0], sp[0], strict=True):
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(a[k], float):
                assert math.isclose(a[k], b[k], rel_tol=1e-12), k
            else:
                assert a[k] == b[k], k


def test_duckdb_backend_reads_the_store_connection(store: Store) -> None:
    backend = duckdb_backend(store)
    assert backend.table("countries").count().to_pyarrow().as_py() > 200
