"""Load: concurrent reads of the alert board from ``ews serve`` while ingestion runs.

Run by hand (never in unit tests)::

    .venv/bin/python bench/load.py [--rate 200] [--seconds 10] [--runs 3]

Builds the demo's store (the bundled sample, assessed: 55 alerts), starts
``ews serve`` on a free loopback port, and drives it at a fixed request rate (open loop:
requests start on schedule whether or not earlier ones have answered) with a bounded
number of requests and a bounded time. Three phases per run, in the same server:

1. baseline: ``GET /api/v1/none``, a 404 (routing and middleware only: no key, no store);
2. board: ``GET /api/v1/alerts?include_cancelled=true`` (the first 50 of every alert,
   open or closed) with a read key, nothing else running;
3. board + ingest: the same while ``ews ingest news`` writes the server's store from
   another process: each run ingests its own slice of ``--news-docs`` documents of the
   real Vietnamese news set (``--news FILE`` for another), so every run writes new rows.

Each phase first runs one second uncounted (the client opens its keep-alive connections).
Reports requests/s achieved, p50/p99 latency, errors (a failed ingestion counts as one)
and the server's CPU time per request, per phase; then the median over runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import httpx

from ews.settings import find_shared_data
from ews.store import Store

ROOT = Path(__file__).resolve().parent.parent
VI_NEWS = "news/vi/vi-news-2025-08_2026-08.jsonl.gz"  # inside the shared data folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_store(path: Path, existing: Path | None) -> str:
    """The demo's store (the bundled sample ingested and assessed, so the board has alerts),
    or a copy of ``existing``; returns a read token for it."""
    from ews.access.keys import create_key

    if existing is not None:
        shutil.copy(existing, path)
    else:
        subprocess.run(
            [sys.executable, "-m", "ews.cli", "demo", "--store", str(path)],
            env=dict(os.environ, EWS_PROGRESS="false"),
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    with Store(str(path)) as store:
        _, token = create_key(store, "bench", ["read"], 1_000_000)
        alerts = store.scalar("SELECT count(DISTINCT alert_id) FROM alerts")
    print(f"store: {alerts} alerts on the board", flush=True)
    return token


async def drive(
    url: str, headers: dict[str, str], rate: float, seconds: float, warmup: float = 1.0
) -> tuple[float, list[float], int]:
    """Open-loop load: (achieved requests/s, latencies in s, errors).

    The first ``warmup`` seconds run at the same rate but are not counted: they open the
    keep-alive connections a steady client would already hold.
    """
    expected = 404 if url.endswith("/none") else 200
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(counted: bool) -> None:
            nonlocal errors
            start = time.perf_counter()
            try:
                async with session.get(url, headers=headers) as answer:
                    await answer.read()
                    ok = answer.status == expected
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if counted:
                latencies.append(time.perf_counter() - start)
                errors += not ok

        total = int(rate * (warmup + seconds))
        skip = int(rate * warmup)
        begin = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if i == skip:
                counted_from = time.perf_counter()
            tasks.append(asyncio.create_task(one(i >= skip)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + warmup + 60)
        took = time.perf_counter() - counted_from
    return len(latencies) / took, latencies, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--news",
        type=Path,
        default=None,
        help="News (JSONL, may be gzipped) ingested during phase 3: each run ingests its own "
        "slice, so every run writes new documents (default: the real Vietnamese set).",
    )
    parser.add_argument("--news-docs", type=int, default=20000, help="Documents per slice.")
    parser.add_argument(
        "--ingest-nice", type=int, default=0, help="Run the ingestion at this nice level."
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        help="Serve a copy of this DuckDB store (say, a backtest's) instead of the demo's.",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ews-load-"))
    try:
        news = args.news
        if news is None:
            shared = find_shared_data()
            if shared is None:
                sys.exit("no shared data folder (../shared/data) for the news; pass --news FILE")
            news = shared / VI_NEWS
        token = build_store(tmp / "ews.duckdb", args.store)
        slices = news_slices(news, tmp, args.runs, args.news_docs)
        results: dict[str, list[tuple[float, float, float, int, float]]] = {}
        for run in range(args.runs):
            port = free_port()
            env = dict(os.environ, EWS_STORE=str(tmp / "ews.duckdb"), EWS_ENV="test")
            server = subprocess.Popen(
                [sys.executable, "-m", "ews.cli", "serve", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                for _ in range(300):
                    try:
                        httpx.get(f"{base}/openapi.json", timeout=1)
                        break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                auth = {"Authorization": f"Bearer {token}"}
                board = f"{base}/api/v1/alerts?include_cancelled=true"
                phases = [
                    ("baseline: unknown path (404)", f"{base}/api/v1/none", {}, False),
                    ("alert board", board, auth, False),
                    ("alert board + ingest", board, auth, True),
                ]
                for name, url, headers, with_ingest in phases:
                    ingest, ended = None, []
                    if with_ingest:
                        ingest = start_ingest(tmp, slices[run], args.ingest_nice)
                        threading.Thread(target=note_end, args=(ingest, ended)).start()
                    phase_start = time.perf_counter()
                    server_cpu = cpu_seconds(server.pid)
                    rps, lat, errors = asyncio.run(drive(url, headers, args.rate, args.seconds))
                    per_request = (cpu_seconds(server.pid) - server_cpu) / max(len(lat), 1) * 1000
                    ingest_note = ""
                    if ingest is not None:
                        ingest.wait(timeout=600)
                        time.sleep(0.01)
                        status = httpx.get(f"{base}/api/v1/status", headers=auth).json()
                        ingest_note = (
                            f"; ingestion of {args.news_docs} documents: exit {ingest.returncode}, "
                            f"took {ended[0] - phase_start:.1f} s of the phase's "
                            f"{time.perf_counter() - phase_start:.1f} s; the server's copy of "
                            f"the store: {status['copies']} refreshes, the last in "
                            f"{status['last_copy_seconds'] * 1000:.0f} ms "
                            f"({', '.join(status['last_copy_tables'])})"
                        )
                        errors += ingest.returncode != 0
                    results.setdefault(name, []).append(
                        (rps, pct(lat, 0.5), pct(lat, 0.99), errors, per_request)
                    )
                    print(
                        f"run {run + 1} {name}: {rps:.0f} req/s, p50 {pct(lat, 0.5):.1f} ms, "
                        f"p99 {pct(lat, 0.99):.1f} ms, errors {errors}, "
                        f"server CPU {per_request:.2f} ms/request{ingest_note}",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(timeout=10)
        print(f"\nmedian of {args.runs} runs at {args.rate:.0f} req/s for {args.seconds:.0f} s:")
        for name, rows in results.items():
            print(
                f"  {name}: {statistics.median(r[0] for r in rows):.0f} req/s, "
                f"p50 {statistics.median(r[1] for r in rows):.1f} ms, "
                f"p99 {statistics.median(r[2] for r in rows):.1f} ms, "
                f"errors {sum(r[3] for r in rows)}, "
                f"server CPU {statistics.median(r[4] for r in rows):.2f} ms/request"
            )
        with Store(str(tmp / "ews.duckdb"), read_only=True) as store:
            docs = store.scalar("SELECT count(*) FROM documents")
        print(f"documents in the store at the end: {docs:,}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def note_end(process: subprocess.Popen[bytes], ended: list[float]) -> None:
    """Wait for ``process``; append the time it ended to ``ended``."""
    process.wait()
    ended.append(time.perf_counter())


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def news_slices(news: Path, tmp: Path, runs: int, size: int) -> list[Path]:
    """One file of ``size`` documents per run, each different, so that every run's
    ingestion writes new documents (the ledger skips a file seen before)."""
    if not news.exists():
        sys.exit(f"no news file {news}; pass --news FILE")
    opener = gzip.open if news.suffix == ".gz" else open
    slices = [tmp / f"news-{run + 1}.jsonl" for run in range(runs)]
    with opener(news, "rt", encoding="utf-8") as source:
        for path in slices:
            lines = list(itertools.islice(source, size))
            if len(lines) < size:
                sys.exit(f"{news} has fewer than {runs} x {size} documents")
            path.write_text("".join(lines), encoding="utf-8")
    return slices


def start_ingest(tmp: Path, news: Path, nice: int = 0) -> subprocess.Popen[bytes]:
    """``ews ingest news`` on the server's store, in its own process (at ``nice``)."""
    env = dict(os.environ, EWS_STORE=str(tmp / "ews.duckdb"), EWS_PROGRESS="false")
    return subprocess.Popen(
        [
            *(["nice", "-n", str(nice)] if nice else []),
            sys.executable,
            "-m",
            "ews.cli",
            "ingest",
            "news",
            str(news),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


if __name__ == "__main__":
    main()
