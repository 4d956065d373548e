"""Benchmark: import HHI and dependence for one BACI-scale synthetic year on four engines.

Run by hand (not in tests):

    .venv/bin/python bench/indicators.py [--rows 10000000 50000000] [--runs 3] [--engines ...]

A synthetic BACI-like year (exporter, importer, hs6, value, quantity; unique triples, skewed
country sizes, lognormal values) is generated with numpy once and cached as Parquet in the
system temp folder (not in the project). Each engine runs in its own process so its peak RSS
is its own: DuckDB through Ibis (the project's code path, :func:`ews.indicators.dependence.
dependence`), DuckDB with hand-written SQL, Polars (native lazy API), and Spark through Ibis
(the same expression as DuckDB). Reported: median wall time of ``--runs`` runs after one
warm-up, ratio to the fastest engine, and peak RSS (for Spark, Python plus the JVM).

With several ``--rows`` sizes (e.g. 10M and 50M, the same generator and seed) each engine runs
on each, and a last table says how cost grows with size: the ratio of medians largest/smallest
against the ratio of rows, and the cost per million input rows. ``--runs`` and ``--warmup`` can
be given per size (``--runs 3 1``) so that a long run is not repeated.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENGINES = ("duckdb-ibis", "duckdb-sql", "polars", "spark-ibis")


def data_path(rows: int) -> Path:
    return Path(tempfile.gettempdir()) / "ews-bench" / f"baci-synthetic-{rows}.parquet"


def generate(rows: int, path: Path, seed: int = 2024) -> None:
    """A BACI-like year: unique (exporter, importer, hs6) triples with skewed sizes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n_countries, n_products = 220, 5000
    # Zipf-like country weights: a few big traders, a long tail.
    weights = 1.0 / np.arange(1, n_countries + 1) ** 0.9
    weights /= weights.sum()
    # Popular pairs repeat: draw until enough unique triples. The set of triples drawn so far
    # is a bitmap over the whole key space (242 MB), not a re-sorted array: the same draws and
    # the same keys as sorting them, without an O(n log n) pass per round (50M rows needs
    # dozens of rounds).
    seen = np.zeros(n_countries * n_countries * n_products, dtype=bool)
    count = 0
    while count < rows:
        draw = int((rows - count) * 1.5) + 1000
        exp_ = rng.choice(n_countries, size=draw, p=weights)
        imp_ = rng.choice(n_countries, size=draw, p=weights)
        hs = rng.integers(0, n_products, size=draw)
        keep = exp_ != imp_
        new = (exp_[keep].astype(np.int64) * n_countries + imp_[keep]) * n_products + hs[keep]
        seen[new] = True
        count = int(np.count_nonzero(seen))
    key = rng.permutation(np.flatnonzero(seen).astype(np.int64))[:rows]
    hs_i = key % n_products
    pair = key // n_products
    e_i, i_i = pair // n_countries, pair % n_countries
    codes = np.array([f"C{i:03d}" for i in range(n_countries)])
    products = np.array([f"{100000 + i * 17:06d}" for i in range(n_products)])
    value = np.round(rng.lognormal(mean=10, sigma=2.5, size=rows), 3)
    quantity = np.round(value / rng.lognormal(mean=1, sigma=1, size=rows), 3)
    table = pa.table(
        {
            "exporter": pa.array(codes[e_i]).dictionary_encode().cast(pa.string()),
            "importer": pa.array(codes[i_i]).cast(pa.string()),
            "product": pa.array(products[hs_i]).cast(pa.string()),
            "year": pa.array(np.full(rows, 2023, dtype=np.int32)),
            "value": pa.array(value),
            "quantity": pa.array(quantity),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=1_000_000)


# -- engines (each returns (row count, sum of import HHI) as a cross-check) --------------------
RAW_SQL = """
WITH f AS (SELECT * FROM read_parquet('{path}') WHERE value > 0),
imp AS (
  SELECT importer, product, year, sum(value) AS import_value, count(DISTINCT exporter) AS n,
         sum(value * value) AS sum_sq, max(value) AS top_value
  FROM f GROUP BY ALL),
top AS (
  SELECT importer, product, year, arg_max(exporter, value) AS top_supplier FROM f GROUP BY ALL),
ex AS (SELECT exporter, product, year, sum(value) AS x FROM f GROUP BY ALL),
w AS (SELECT product, year, sum(x) AS wx, sum(x * x) AS wsq FROM ex GROUP BY ALL)
SELECT imp.importer, imp.product, imp.year, import_value, n, top_supplier,
       top_value / import_value AS top_share, sum_sq / (import_value * import_value) AS hhi,
       wsq / (wx * wx) AS world_hhi, coalesce(ex.x, 0) AS export_value,
       (sum_sq / (import_value * import_value) > 0.4) AND (wsq / (wx * wx) > 0.4)
         AND (coalesce(ex.x, 0) <= 0 OR import_value > coalesce(ex.x, 0)) AS criteria_met,
       top_value / import_value >= 0.5 AS korea_rule
FROM imp JOIN top USING (importer, product, year) JOIN w USING (product, year)
LEFT JOIN ex ON ex.exporter = imp.importer AND ex.product = imp.product AND ex.year = imp.year
"""


def run_duckdb_sql(path: Path) -> tuple[int, float]:
    import duckdb

    con = duckdb.connect()
    row = con.execute(f"SELECT count(*), sum(hhi) FROM ({RAW_SQL.format(path=path)})").fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


def _ibis_summary(expr: Any) -> tuple[int, float]:
    out = expr.aggregate(n=expr.count(), s=expr.hhi.sum()).to_pyarrow().to_pylist()[0]
    return int(out["n"]), float(out["s"])


def run_duckdb_ibis(path: Path, state: dict[str, Any]) -> tuple[int, float]:
    import ibis

    from ews.indicators.dependence import dependence

    backend = state.setdefault("backend", ibis.duckdb.connect())
    flows = backend.read_parquet(str(path))
    return _ibis_summary(dependence(flows))


def run_spark_ibis(path: Path, state: dict[str, Any]) -> tuple[int, float]:
    from ews.indicators.dependence import dependence
    from ews.indicators.engine import local_spark_session, spark_backend

    if "backend" not in state:
        session = local_spark_session("ews-bench")
        session.sparkContext.setLogLevel("ERROR")
        state["session"] = session
        state["backend"] = spark_backend(session)
    flows = state["backend"].read_parquet(str(path))
    return _ibis_summary(dependence(flows))


def run_polars(path: Path) -> tuple[int, float]:
    import polars as pl

    f = pl.scan_parquet(path).filter(pl.col("value") > 0)
    by = ["importer", "product", "year"]
    imp = f.group_by(by).agg(
        import_value=pl.col("value").sum(),
        n=pl.col("exporter").n_unique(),
        sum_sq=(pl.col("value") ** 2).sum(),
        top_value=pl.col("value").max(),
        top_supplier=pl.col("exporter")
        .sort_by(["value", "exporter"], descending=[True, False])
        .first(),
    )
    ex = f.group_by(["exporter", "product", "year"]).agg(x=pl.col("value").sum())
    w = ex.group_by(["product", "year"]).agg(wx=pl.col("x").sum(), wsq=(pl.col("x") ** 2).sum())
    own = ex.rename({"exporter": "importer", "x": "export_value"})
    r = (
        imp.join(w, on=["product", "year"])
        .join(own, on=by, how="left")
        .with_columns(
            hhi=pl.col("sum_sq") / pl.col("import_value") ** 2,
            world_hhi=pl.col("wsq") / pl.col("wx") ** 2,
            top_share=pl.col("top_value") / pl.col("import_value"),
            export_value=pl.col("export_value").fill_null(0.0),
        )
        .with_columns(
            criteria_met=(pl.col("hhi") > 0.4)
            & (pl.col("world_hhi") > 0.4)
            & ((pl.col("export_value") <= 0) | (pl.col("import_value") > pl.col("export_value"))),
            korea_rule=pl.col("top_share") >= 0.5,
        )
    )
    out = r.select(n=pl.len(), s=pl.col("hhi").sum()).collect()
    return int(out["n"][0]), float(out["s"][0])


def _peak_kb(pid: str) -> int:
    """Peak resident set size (VmHWM) of a process, in kB (Linux); ru_maxrss as a fallback."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if pid == "self" else 0


def child(engine: str, path: Path, runs: int, warmup_runs: int = 1) -> dict[str, Any]:
    """Run one engine ``runs`` times after ``warmup_runs`` warm-ups, in this process."""
    state: dict[str, Any] = {}
    fns = {
        "duckdb-ibis": lambda: run_duckdb_ibis(path, state),
        "duckdb-sql": lambda: run_duckdb_sql(path),
        "polars": lambda: run_polars(path),
        "spark-ibis": lambda: run_spark_ibis(path, state),
    }
    fn = fns[engine]
    warmup = 0.0
    check = None
    for _ in range(warmup_runs):
        t0 = time.perf_counter()
        check = fn()  # warm-up: imports, JVM start, file cache
        warmup = time.perf_counter() - t0
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        got = fn()
        times.append(time.perf_counter() - t0)
        check = check or got
        if got[0] != check[0] or abs(got[1] - check[1]) > 1e-6 * abs(check[1]):
            raise SystemExit(f"{engine}: results differ between runs: {got} vs {check}")
    assert check is not None
    peak_kb = _peak_kb("self")
    if "session" in state:
        # The JVM is a separate process: add its own peak before stopping it.
        peak_kb += _peak_kb(str(state["session"].sparkContext._gateway.proc.pid))
        state["session"].stop()
    return {
        "engine": engine,
        "times": times,
        "median": statistics.median(times),
        "warmup": warmup,
        "rows": check[0],
        "hhi_sum": check[1],
        "peak_rss_mb": peak_kb / 1024,
    }


def run_size(rows: int, runs: int, warmup: int, engines: list[str]) -> list[dict[str, Any]]:
    """Every engine on one size, each in its own process; prints the per-size table."""
    path = data_path(rows)
    if not path.exists():
        t0 = time.perf_counter()
        generate(rows, path)
        print(f"generated {rows:,} rows in {time.perf_counter() - t0:.1f}s -> {path}")
    else:
        print(f"using cached {path}")
    print(f"{path.stat().st_size / 1e6:.0f} MB parquet")
    results = []
    for engine in engines:
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                engine,
                "--rows",
                str(rows),
                "--runs",
                str(runs),
                "--warmup",
                str(warmup),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"{engine}: failed\n{proc.stderr[-2000:]}")
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(
            f"{engine}: median {r['median']:.2f}s  warm-up {r['warmup']:.1f}s  "
            f"peak RSS {r['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    if not results:
        return results
    fastest = min(r["median"] for r in results)
    ref = results[0]
    print()
    print(f"{rows:,} rows")
    print(f"| engine | median of {runs} (s) | runs (s) | ratio to fastest | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for r in results:
        same = (
            r["rows"] == ref["rows"] and abs(r["hhi_sum"] - ref["hhi_sum"]) < 1e-6 * ref["hhi_sum"]
        )
        print(
            f"| {r['engine']} | {r['median']:.2f} | {', '.join(f'{t:.2f}' for t in r['times'])} "
            f"| {r['median'] / fastest:.2f}x | {r['peak_rss_mb']:.0f} |"
            + ("" if same else " (results differ!)")
        )
    print(f"\n{ref['rows']:,} importer x product rows; sum of HHI {ref['hhi_sum']:.6f}\n")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--runs", type=int, nargs="+", default=[3], help="per size, or one")
    parser.add_argument("--warmup", type=int, nargs="+", default=[1], help="per size, or one")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()

    def per_size(values: list[int]) -> list[int]:
        if len(values) == 1:
            return values * len(args.rows)
        if len(values) != len(args.rows):
            raise SystemExit("--runs and --warmup take one value or one per --rows size")
        return values

    runs, warmups = per_size(args.runs), per_size(args.warmup)
    if args.child:
        print(json.dumps(child(args.child, data_path(args.rows[0]), runs[0], warmups[0])))
        return
    by_size = {
        rows: run_size(rows, r, w, args.engines)
        for rows, r, w in zip(args.rows, runs, warmups, strict=True)
    }
    if len(by_size) < 2:
        return
    small, large = min(by_size), max(by_size)
    print(f"How cost grows from {small:,} to {large:,} rows ({large / small:.1f}x the rows):")
    print("| engine | median small (s) | median large (s) | ratio | s per 1M rows (small, large) |")
    print("|---|---|---|---|---|")
    for engine in args.engines:
        a = next((r for r in by_size[small] if r["engine"] == engine), None)
        b = next((r for r in by_size[large] if r["engine"] == engine), None)
        if a is None or b is None:
            continue
        print(
            f"| {engine} | {a['median']:.2f} | {b['median']:.2f} | "
            f"{b['median'] / a['median']:.2f}x | {a['median'] / small * 1e6:.2f}, "
            f"{b['median'] / large * 1e6:.2f} |"
        )


if __name__ == "__main__":
    main()
