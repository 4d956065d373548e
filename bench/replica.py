"""What the API server's copy of a DuckDB store costs as the store grows.

Run by hand (never in unit tests)::

    .venv/bin/python bench/replica.py [--trade-rows 1000000 5000000] [--runs 3]

The server answers from an in-memory copy of the store, made again after every write by
another process (ews/store/reader.py). This measures, on stores of growing size, the time of
the first copy and the memory it holds, and of a refresh after a one-row write (every table's
print is compared, only the changed table copied), against a baseline measured in the same
run: opening the store (what every request cost before the copy existed, twice per request).

Sizes: the demo's store; then with the whole real Vietnamese news set ingested (153,821
documents, from the shared data folder); then with synthetic trade rows added (copies of the
demo's rows under other source ids, so the shape is real). Each measurement runs in a fresh
process (``--child``) so that its memory is its own. Reports medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VI_NEWS = "news/vi/vi-news-2025-08_2026-08.jsonl.gz"  # inside the shared data folder


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(path: str) -> dict[str, float]:
    """One measurement in this (fresh) process: open, then copy."""
    import gc

    from ews.store import Store
    from ews.store.reader import StoreReader

    started = time.perf_counter()
    Store(path).close()
    opened = time.perf_counter() - started
    gc.collect()
    before = rss_mb()
    reader = StoreReader(path)
    copy = reader.copy_seconds
    with reader.read() as store:
        rows = {
            t: int(store.scalar(f"SELECT count(*) FROM {t}"))
            for t in ("documents", "events", "trade_observations", "alerts")
        }
    held = rss_mb() - before
    # A small write (one row of meta): the refresh scans every table's print, copies one.
    copies = reader.refreshes
    with Store(path) as store:
        store.set_meta("bench.replica", str(time.time()))
    deadline = time.monotonic() + 120
    while reader.refreshes == copies and time.monotonic() < deadline:
        time.sleep(0.01)
    small = reader.copy_seconds
    reader.close()
    return {"open_s": opened, "copy_s": copy, "copy_mb": held, "small_s": small, **rows}


def measure(path: Path, runs: int) -> dict[str, float]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def add_trade_rows(path: Path, total: int) -> None:
    """Grow trade_observations to about ``total`` synthetic rows beyond the demo's."""
    from ews.store import Store

    with Store(str(path)) as store:
        base = int(
            store.scalar(
                "SELECT count(*) FROM trade_observations WHERE source_id NOT LIKE 'bench-%'"
            )
        )
        have = int(
            store.scalar("SELECT count(*) FROM trade_observations WHERE source_id LIKE 'bench-%'")
        )
        copies = max(0, (total - have) // max(base, 1))
        start = have // max(base, 1)
        store.execute(
            "INSERT INTO trade_observations SELECT t.* REPLACE ('bench-' || k AS source_id) "
            "FROM trade_observations t, range(?, ?) r(k) WHERE t.source_id NOT LIKE 'bench-%'",
            [start, start + copies],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trade-rows", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return

    from ews.settings import find_shared_data

    tmp = Path(tempfile.mkdtemp(prefix="ews-replica-"))
    path = tmp / "ews.duckdb"
    env = dict(os.environ, EWS_STORE=str(path), EWS_PROGRESS="false")
    try:
        subprocess.run(
            [sys.executable, "-m", "ews.cli", "demo", "--store", str(path)],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        rows = [("demo store", measure(path, args.runs))]
        shared = find_shared_data()
        if shared is not None and (shared / VI_NEWS).exists():
            subprocess.run(
                [sys.executable, "-m", "ews.cli", "ingest", "news", str(shared / VI_NEWS)],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            rows.append(("+ Vietnamese news", measure(path, args.runs)))
        else:
            print("no shared data folder: the news step is skipped", file=sys.stderr)
        for total in args.trade_rows:
            add_trade_rows(path, total)
            rows.append((f"+ {total:,} trade rows", measure(path, args.runs)))
        size_mb = path.stat().st_size / 1024**2
        print(f"\nmedians of {args.runs} runs (file at the end: {size_mb:,.0f} MB)\n")
        print(
            "| store | documents | events | trade rows | open (baseline) | first copy "
            "| copy/open | copy holds | refresh after a small write |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name, r in rows:
            print(
                f"| {name} | {r['documents']:,.0f} | {r['events']:,.0f} | "
                f"{r['trade_observations']:,.0f} | {r['open_s'] * 1000:.0f} ms | "
                f"{r['copy_s'] * 1000:.0f} ms | {r['copy_s'] / r['open_s']:.1f}x | "
                f"{r['copy_mb']:,.0f} MB | {r['small_s'] * 1000:.0f} ms |"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
