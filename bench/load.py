"""Load: concurrent reads of the alert board from ``ews serve`` while ingestion runs.

Run by hand (never in unit tests)::

    .venv/bin/python bench/load.py [--rate 200] [--seconds 10] [--runs 3]

Builds a store from the bundled sample (assessed, so the board has alerts), starts
``ews serve`` on a free loopback port, and drives it at a fixed request rate (open loop:
requests start on schedule whether or not earlier ones have answered) with a bounded
number of requests and a bounded time. Three phases per run, in the same server:

1. baseline: ``GET /api/v1/none``, a 404 (routing and middleware only: no key, no store);
2. board: ``GET /api/v1/alerts`` with a read key, nothing else running;
3. board + ingest: the same while ``ews ingest news`` runs on the server's store in
   another process (``--news FILE``; default: the bundled sample).

Reports requests/s achieved, p50/p99 latency and errors per phase; the median over runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_store(path: Path) -> str:
    """A store with the bundled sample ingested and assessed; returns a read token."""
    from ews.api.keys import create_key
    from ews.context import Context
    from ews.risk.run import assess
    from ews.settings import Settings
    from ews.sources.ingest import ingest_file
    from ews.sources.sample import sample_files
    from ews.text.events_file import ingest_events_file

    settings = Settings(store=str(path), env="test")
    with Context.open(settings, store=str(path)) as ctx:
        for kind, file in sample_files():
            if kind in ("prices", "trade"):
                ingest_file(ctx.store, ctx.catalog, file, kind=kind)
            elif kind == "events":
                ingest_events_file(ctx.store, ctx.catalog, file)
        assess(ctx)
        _, token = create_key(ctx.store, "bench", ["read"], 1_000_000)
    return token


async def drive(
    url: str, headers: dict[str, str], rate: float, seconds: float
) -> tuple[float, list[float], int]:
    """Open-loop load: (achieved requests/s, latencies in s, errors)."""
    count = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def one() -> None:
            nonlocal errors
            start = time.perf_counter()
            try:
                answer = await client.get(url, headers=headers)
                if answer.status_code != (404 if url.endswith("/none") else 200):
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - start)

        begin = time.perf_counter()
        tasks = []
        for i in range(count):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 30)
        took = time.perf_counter() - begin
    return count / took, latencies, errors


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
        help="News file ingested during phase 3 (default: the bundled events sample as news).",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ews-load-"))
    try:
        token = build_store(tmp / "ews.duckdb")
        results: dict[str, list[tuple[float, float, float, int]]] = {}
        for run in range(args.runs):
            port = free_port()
            env = dict(os.environ, EWS_STORE=str(tmp / "ews.duckdb"), EWS_ENV="test")
            if args.news is not None:
                env["EWS_BENCH_INGEST"] = str(args.news)
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
                phases = [
                    ("baseline: unknown path (404)", f"{base}/api/v1/none", {}, None),
                    ("alert board", f"{base}/api/v1/alerts", auth, None),
                    ("alert board + ingest", f"{base}/api/v1/alerts", auth, "ingest"),
                ]
                for name, url, headers, extra in phases:
                    ingest = None
                    if extra == "ingest":
                        ingest = start_ingest(tmp, args.news)
                    rps, lat, errors = asyncio.run(drive(url, headers, args.rate, args.seconds))
                    ingest_note = ""
                    if ingest is not None:
                        ingest.wait(timeout=600)
                        ingest_note = f" (ingest exit {ingest.returncode})"
                    results.setdefault(name, []).append(
                        (rps, pct(lat, 0.5), pct(lat, 0.99), errors)
                    )
                    print(
                        f"run {run + 1} {name}: {rps:.0f} req/s, p50 {pct(lat, 0.5):.1f} ms, "
                        f"p99 {pct(lat, 0.99):.1f} ms, errors {errors}{ingest_note}",
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
                f"errors {sum(r[3] for r in rows)}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def start_ingest(tmp: Path, news: Path | None) -> subprocess.Popen[bytes]:
    """``ews ingest news`` on the server's store, in its own process."""
    source = news or next(
        p for p in (ROOT / "ews" / "sample").iterdir() if p.name == "events-vi.jsonl"
    )
    env = dict(os.environ, EWS_STORE=str(tmp / "ews.duckdb"), EWS_PROGRESS="false")
    return subprocess.Popen(
        [sys.executable, "-m", "ews.cli", "ingest", "news", str(source), "--batch", "500"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


if __name__ == "__main__":
    main()
