"""Benchmark: news extraction over the whole Vietnamese set on 1 and 2 workers, embedded and Spark.

Run by hand (not in tests):

    .venv/bin/python bench/news_scaling.py [--runs 3] [--configs embedded-1 ... spark-2]

The Vietnamese set (../shared/data/news/vi, 153,821 items) is written once as Parquet documents
(the layout `ews documents` writes, row groups of 10,000) in the system temp folder. Each
configuration then runs in its own process, from that Parquet file to the list of events:

* ``embedded-1``, ``embedded-2``: :func:`ews.text.batch.extract_batches` with 1 or 2 processes
  (what ``ews extract docs.parquet --workers N`` does). Each run pays for building the
  extractor, and with 2 workers for starting the pool (spawned processes), as a command does.
* ``spark-1``, ``spark-2``: :func:`ews.text.spark.extract_job` on ``local[1]`` / ``local[2]``,
  events collected to the driver (what ``ews extract --engine spark`` does). The session is
  started before timing and Spark reuses its Python workers, so after the warm-up run neither
  the JVM start nor the extractor build is in the times.

Reported: median of ``--runs`` runs after one warm-up, documents/s and MB/s (UTF-8 bytes of
title + body), and the speed-up of 2 workers over 1 within each engine. Every configuration
must find the same events (same ids), or the script says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CONFIGS = ("embedded-1", "embedded-2", "spark-1", "spark-2")
VI_NEWS = "news/vi/vi-news-2025-08_2026-08.jsonl.gz"


def docs_path() -> Path:
    return Path(tempfile.gettempdir()) / "ews-bench" / "vi-news-documents.parquet"


def prepare(path: Path) -> None:
    """Write the Vietnamese set as Parquet documents (row groups of 10,000)."""
    import pyarrow.parquet as pq

    from ews.catalog import load_catalog
    from ews.settings import find_shared_data
    from ews.text.batch import DOCUMENT_SCHEMA, document_batches
    from ews.text.ingest import open_documents

    shared = find_shared_data()
    if shared is None:
        raise SystemExit("the real data folder ../shared/data is not on this machine")
    _, _, docs = open_documents(shared / VI_NEWS, load_catalog(), source_id=None, max_bytes=2**31)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, DOCUMENT_SCHEMA) as writer:
        for batch in document_batches(docs, 10_000):
            writer.write_batch(batch, row_group_size=10_000)
    tmp.rename(path)


def corpus_size(path: Path) -> tuple[int, int]:
    """Documents and UTF-8 bytes of title + body."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["title", "body"])
    size = 0
    for name in ("title", "body"):
        col = pc.fill_null(table.column(name), "")
        size += int(pc.sum(pc.binary_length(col.cast("binary"))).as_py() or 0)
    return table.num_rows, size


def _digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def child(config: str, path: Path, runs: int) -> dict[str, Any]:
    """Run one configuration ``runs`` times after a warm-up, in this process."""
    import pyarrow as pa

    engine, workers = config.split("-")
    n = int(workers)
    if engine == "embedded":
        from ews.text.batch import extract_batches, process_extractor, read_parquet_batches

        def once() -> pa.Table:
            process_extractor.cache_clear()  # a command builds its extractor each time
            return pa.Table.from_batches(
                list(extract_batches(read_parquet_batches(path), workers=n))
            )
    else:
        from ews.indicators.engine import spark_session
        from ews.text.spark import collect_events, extract_job

        session = spark_session(f"local[{n}]", "ews-bench-news")
        session.sparkContext.setLogLevel("ERROR")

        def once() -> pa.Table:
            return collect_events(extract_job(session, [str(path)]))

    t0 = time.perf_counter()
    check = once()
    warmup = time.perf_counter() - t0
    digest = _digest(check.column("event_id").to_pylist())
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        got = once()
        times.append(time.perf_counter() - t0)
        if _digest(got.column("event_id").to_pylist()) != digest:
            raise SystemExit(f"{config}: events differ between runs")
    out: dict[str, Any] = {
        "config": config,
        "times": times,
        "median": statistics.median(times),
        "warmup": warmup,
        "events": check.num_rows,
        "digest": digest,
    }
    if engine == "spark":
        out["partitions"] = extract_job(session, [str(path)]).rdd.getNumPartitions()
        session.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=CONFIGS)
    parser.add_argument("--child", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = docs_path()
    if args.child:
        print(json.dumps(child(args.child, path, args.runs)))
        return
    if not path.exists():
        t0 = time.perf_counter()
        prepare(path)
        print(f"wrote {path} in {time.perf_counter() - t0:.1f}s")
    docs, size = corpus_size(path)
    print(f"{docs:,} documents, {size / 1e6:.1f} MB of text, {path.stat().st_size / 1e6:.0f} MB")
    results = []
    for config in args.configs:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", config, "--runs", str(args.runs)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"{config}: failed\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(r)
        print(
            f"{config}: median {r['median']:.2f}s  warm-up {r['warmup']:.1f}s  "
            f"{r['events']:,} events"
            + (f"  {r['partitions']} partitions" if "partitions" in r else "")
        )
    if not results:
        return
    one = {r["config"].split("-")[0]: r["median"] for r in results if r["config"].endswith("-1")}
    print()
    print(f"| configuration | median of {args.runs} (s) | runs (s) | docs/s | MB/s | speed-up |")
    print("|---|---|---|---|---|---|")
    for r in results:
        engine = r["config"].split("-")[0]
        speedup = one[engine] / r["median"] if engine in one else float("nan")
        print(
            f"| {r['config']} | {r['median']:.2f} | {', '.join(f'{t:.2f}' for t in r['times'])} "
            f"| {docs / r['median']:,.0f} | {size / 1e6 / r['median']:.2f} | {speedup:.2f}x |"
        )
    digests = {r["digest"] for r in results}
    same = "identical in every configuration" if len(digests) == 1 else "DIFFERENT events!"
    print(f"\n{results[0]['events']:,} events, {same}")


if __name__ == "__main__":
    main()
