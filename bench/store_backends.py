"""Benchmark: the bundled sample through both store backends, DuckDB file and PostgreSQL.

Run by hand (not in tests):

    .venv/bin/python bench/store_backends.py [--runs 3]

Starts a throw-away PostgreSQL server (scripts/pg-test-server.sh; needs the PostgreSQL
binaries, and root or the postgres user), then for each backend and run: a fresh store (a new
DuckDB file, a new schema), the sample's prices, trade and events ingested, then ``assess``
(indicators and risk). Reported: median wall time of each step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ews.context import Context
from ews.risk.run import assess
from ews.settings import Settings
from ews.sources.ingest import ingest_file
from ews.sources.sample import sample_files
from ews.text.events_file import ingest_events_file
from tests.pg_server import PostgresServer


def one_run(location: str) -> dict[str, float]:
    times: dict[str, float] = {}
    settings = Settings(store=location, env="test")
    t0 = time.perf_counter()
    with Context.open(settings, store=location) as ctx:
        times["open + migrate + catalogue"] = time.perf_counter() - t0
        t = time.perf_counter()
        for kind, file in sample_files():
            if kind in ("prices", "trade"):
                ingest_file(ctx.store, ctx.catalog, file, kind=kind)
            elif kind == "events":
                ingest_events_file(ctx.store, ctx.catalog, file)
        times["ingest sample"] = time.perf_counter() - t
        t = time.perf_counter()
        assess(ctx)
        times["assess (indicators + risk)"] = time.perf_counter() - t
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = PostgresServer()
    try:
        results: dict[str, list[dict[str, float]]] = {"duckdb": [], "postgresql": []}
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.runs):
                results["duckdb"].append(one_run(str(Path(tmp) / f"b{i}.duckdb")))
                results["postgresql"].append(one_run(server.new_location()))
        steps = list(results["duckdb"][0])
        print(f"| step | DuckDB (s) | PostgreSQL (s) | ratio |  ({args.runs} runs, medians)")
        print("|---|---|---|---|")
        for step in steps:
            duck = statistics.median(r[step] for r in results["duckdb"])
            pg = statistics.median(r[step] for r in results["postgresql"])
            print(f"| {step} | {duck:.2f} | {pg:.2f} | {pg / duck:.2f}x |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
