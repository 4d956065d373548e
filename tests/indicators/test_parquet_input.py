"""``ews indicators --input PATH.parquet`` on DuckDB and on Spark: the same results."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ews.errors import InputError
from ews.indicators.engine import spark_backend
from ews.indicators.run import run_dependence_file
from tests.indicators.test_dependence import MIRROR_ROWS, countries_table, flows, obs_table

runner = CliRunner()


def synthetic_flows() -> pa.Table:
    """Three years of a small world: concentration, own exports and persistence all vary."""
    return flows(
        *[
            (e, i, p, y, float(v))
            for y in (2021, 2022, 2023)
            for p in ("280530", "810490")
            for (e, i, v) in (
                ("CN", "KR", 70 + y % 7 + len(p)),
                ("AU", "KR", 30),
                ("KR", "US", 5 + y % 3),
                ("CN", "US", 50),
                ("US", "JP", 20),
                ("CN", "JP", 60 - y % 5),
                ("JP", "CN", 3),
            )
        ]
    )


def same_rows(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    assert len(a) == len(b) > 0
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], float):
                assert math.isclose(x[k], y[k], rel_tol=1e-12), k
            else:
                assert x[k] == y[k], k


def test_a_parquet_input_without_known_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"a": [1]}), path)
    with pytest.raises(InputError, match="flows columns"):
        run_dependence_file(ibis.duckdb.connect(), path)


@pytest.mark.slow
def test_duckdb_and_spark_agree_on_parquet_inputs(spark: Any, tmp_path: Path) -> None:
    """Flows on both engines (rows and written files); the observations layout on DuckDB."""
    flows_path = tmp_path / "flows.parquet"
    pq.write_table(synthetic_flows(), flows_path)
    obs_path = tmp_path / "obs.parquet"
    pq.write_table(obs_table(MIRROR_ROWS), obs_path)
    engines = {"duckdb": ibis.duckdb.connect(), "pyspark": spark_backend(spark)}
    got: dict[str, dict[str, Any]] = {}
    for name, backend in engines.items():
        runs = {
            "kr": run_dependence_file(backend, flows_path, country="KR", item="2805"),
            "written": run_dependence_file(
                backend, flows_path, output=tmp_path / f"out-{name}.parquet"
            ),
        }
        assert {r.engine for r in runs.values()} == {name}
        got[name] = runs
    duck, sp = got["duckdb"], got["pyspark"]
    same_rows(duck["kr"].dependence, sp["kr"].dependence)
    duck["flows"] = run_dependence_file(engines["duckdb"], flows_path)
    # The observations layout goes through observations_to_flows (on Spark too: that path is
    # compared in test_dependence.py).
    duck["obs"] = run_dependence_file(engines["duckdb"], obs_path, countries=countries_table())
    assert {(r["importer"], r["product_key"]) for r in duck["kr"].dependence} == {("KR", "280530")}
    # Mirror flows from the observations: KR reports nothing, CN and AU's exports stand in.
    kr = [r for r in duck["obs"].dependence if r["importer"] == "KR"]
    assert kr and all(r["basis"] == "mirror" for r in kr)
    # Written results: same counts, same rows in the files, and the same input provenance.
    assert duck["written"].totals == sp["written"].totals
    assert duck["written"].totals is not None
    assert duck["written"].totals["rows"] == len(duck["flows"].dependence)
    assert duck["written"].totals["dependent"] == sum(
        r["dependent"] for r in duck["flows"].dependence
    )
    order = ["importer", "product", "year"]
    files = [
        pq.read_table(tmp_path / f"out-{n}.parquet").sort_by([(c, "ascending") for c in order])
        for n in engines
    ]
    same_rows(files[0].to_pylist(), files[1].to_pylist())
    assert duck["written"].inputs == sp["written"].inputs == duck["flows"].inputs
    assert duck["flows"].inputs[0]["file_name"] == "flows.parquet"
    assert len(duck["flows"].inputs[0]["file_sha256"]) == 64


@pytest.mark.slow
def test_cli_engine_and_input(spark: Any, tmp_path: Path) -> None:
    """`ews indicators --input` prints the same JSON results on both engines and saves runs
    that say which engine computed them; the store path runs on Spark too."""
    from ews.cli import app

    path = tmp_path / "flows.parquet"
    pq.write_table(synthetic_flows(), path)
    store = str(tmp_path / "s.duckdb")
    outputs = {}
    for engine in ("duckdb", "spark"):
        res = runner.invoke(
            app,
            [
                *("indicators", "--input", str(path), "--engine", engine),
                *("--format", "json", "--store", store),
            ],
        )
        assert res.exit_code == 0, res.output
        outputs[engine] = json.loads(res.stdout)
    same_rows(outputs["duckdb"]["results"], outputs["spark"]["results"])
    assert outputs["duckdb"]["run_id"] != outputs["spark"]["run_id"]
    assert outputs["duckdb"]["summary"] == outputs["spark"]["summary"]
    out = tmp_path / "result"
    res = runner.invoke(
        app,
        [
            *("indicators", "--input", str(path), "--engine", "spark"),
            *("--output", str(out), "--store", store),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "written to" in res.output
    assert pq.read_table(out).num_rows == outputs["spark"]["summary"]["rows"]
    res = runner.invoke(
        app, ["indicators", "--kind", "prices", "--engine", "spark", "--store", store]
    )
    assert res.exit_code == 0, res.output
    bad = runner.invoke(app, ["indicators", "--kind", "trade", "--input", str(path)])
    assert bad.exit_code == 2 and "--input applies" in bad.output
