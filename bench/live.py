"""Live sources, end to end and at scale (issue 16's benchmark; run by hand, not a test).

1. Latency: a real Vietnamese news item (China's rare-earth controls, 9 Oct 2025, from
   ../shared/data) appears on a loopback feed at a random moment of the 15-s poll cycle; a node
   running `ews run`'s loop (every source polled every 15 s) fetches it, extracts, assesses,
   raises an alert and pushes it signed to a partner node (a separate `ews node serve` process
   on loopback). Measured: from the item's appearance to the signed alert stored in the
   partner's store. Each trial is a new node (its own id, key and store) so each alert is new.
2. Polling cost: one cycle over N loopback feeds (served by another process, so only the
   node's work is counted), CPU seconds of the node's process, for unchanged feeds (304) and
   for feeds that each changed (20 new real items each), and the share of one core that
   polling every 15 minutes costs.

    .venv/bin/python bench/live.py --trials 20 --sources 200
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ews.alerts.signing import generate_key, public_key_text, save_private_key
from ews.federation.partners import add_partner
from ews.run.cycle import CycleReport, RunOptions, run_cycle, run_forever
from ews.run.metrics import RunMetrics
from ews.settings import Settings, get_settings, project_root
from ews.sources.live.registry import LiveSource, add_source
from ews.store.db import open_waiting
from tests.live.feeds import rss, vi_items
from tests.live.loopback import Answer, loopback

POLL_S = 15


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _partner(tmp: Path) -> tuple[subprocess.Popen[bytes], str, str, Path]:
    key = tmp / "us.pem"
    save_private_key(generate_key(), key)
    store = tmp / "us.duckdb"
    port = free_port()
    env = dict(
        os.environ,
        EWS_STORE=str(store),
        EWS_NODE_ID="US",
        EWS_NODE_KEY=str(key),
        EWS_ENV="test",
    )
    log = (tmp / "us.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ews.cli", "node", "serve", "--port", str(port)],
        env=env,
        cwd=project_root(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"{url}/federation/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        raise SystemExit("partner node did not start: " + (tmp / "us.log").read_text())
    from ews.alerts.signing import load_private_key

    return proc, url, public_key_text(load_private_key(key)), store


def _partner_has(store: Path, origin: str) -> bool:
    st = open_waiting(str(store), timeout=30)
    try:
        row = st.execute("SELECT count(*) FROM alerts WHERE origin_node = ?", [origin]).fetchone()
        return bool(row and row[0])
    finally:
        st.close()


def latency(trials: int) -> list[float]:
    items = [
        i
        for i in vi_items(("đất hiếm",), since="2025-10-09", until="2025-10-12", limit=12)
        if "xuất khẩu" in i["title"].lower() or "kiểm soát" in i["title"].lower()
    ]
    tmp = Path(tempfile.mkdtemp(prefix="ews-bench-live-"))
    partner, partner_url, partner_key, partner_store = _partner(tmp)
    waits: list[float] = []
    try:
        with loopback() as server:
            for trial in range(trials):
                node_id = f"KR{trial:02d}"
                key_path = tmp / f"{node_id}.pem"
                save_private_key(generate_key(), key_path)
                from ews.alerts.signing import load_private_key

                my_key = public_key_text(load_private_key(key_path))
                settings = Settings(
                    store=str(tmp / f"{node_id}.duckdb"),
                    raw_dir=tmp / "raw",
                    node_id=node_id,
                    node_key=key_path,
                    fetch_host_interval=0,
                )
                os.environ.update(EWS_NODE_ID=node_id, EWS_NODE_KEY=str(key_path))
                os.environ["EWS_STORE"] = settings.store
                get_settings.cache_clear()
                path = f"/feed-{trial}.rss"
                feed = server.route(path, Answer(rss([])))
                st = open_waiting(settings.store, timeout=30)
                try:
                    add_source(
                        st,
                        LiveSource(id="vi", kind="rss", url=feed, lang="vi", every_seconds=POLL_S),
                        actor="bench",
                    )
                    add_partner(st, "US", partner_url, partner_key, self_id=node_id)
                finally:
                    st.close()
                pst = open_waiting(str(partner_store), timeout=30)
                try:
                    add_partner(pst, node_id, "http://127.0.0.1:9", my_key, self_id="US")
                finally:
                    pst.close()
                stop = threading.Event()
                cycles: list[CycleReport] = []
                loop = threading.Thread(
                    target=run_forever,
                    args=(settings, RunOptions()),
                    kwargs={
                        "every": 1.0,
                        "metrics": RunMetrics(),
                        "stop": stop,
                        "on_cycle": cycles.append,
                    },
                    daemon=True,
                )
                loop.start()
                while not cycles:
                    time.sleep(0.05)
                time.sleep(random.uniform(0, POLL_S))  # a moment of the cycle
                item = items[trial % len(items)]
                published = dt.datetime.now(dt.UTC)
                server.route(path, Answer(rss([item], published=published)))
                appeared = time.monotonic()
                while not _partner_has(partner_store, node_id):
                    if time.monotonic() - appeared > 180:
                        raise SystemExit(f"trial {trial}: no alert at the partner after 180 s")
                    time.sleep(0.25)
                waits.append(time.monotonic() - appeared)
                stop.set()
                loop.join(timeout=60)
                print(f"trial {trial + 1:2d}: {waits[-1]:5.1f} s", flush=True)
    finally:
        partner.terminate()
        partner.wait(timeout=10)
    return waits


def _serve_feeds(count: int, ready: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    items = vi_items(("trung quốc",), since="2025-10-09", until="2025-10-12", limit=20)
    with loopback() as server:
        for n in range(count):
            server.route(f"/feed-{n}.rss", Answer(rss(items), headers={"ETag": f'"{n}"'}))
        ready.put(server.base)
        stop.wait()


def polling_cost(count: int) -> None:
    ready: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    stop = multiprocessing.Event()
    proc = multiprocessing.Process(target=_serve_feeds, args=(count, ready, stop), daemon=True)
    proc.start()
    base = ready.get(timeout=120)
    tmp = Path(tempfile.mkdtemp(prefix="ews-bench-poll-"))
    settings = Settings(store=str(tmp / "poll.duckdb"), raw_dir=tmp / "raw", fetch_host_interval=0)
    st = open_waiting(settings.store, timeout=30)
    try:
        for n in range(count):
            add_source(
                st,
                LiveSource(
                    id=f"f{n:03d}", kind="rss", url=f"{base}/feed-{n}.rss", every_seconds=900
                ),
                actor="bench",
            )
    finally:
        st.close()
    try:
        for label in ("changed (20 new items each)", "unchanged (304 each)"):
            cpu, wall = time.process_time(), time.perf_counter()
            report = run_cycle(settings, RunOptions(force=True, assess=False, push=False))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(
                f"{count} feeds, {label}: {cpu:.2f} s CPU, {wall:.2f} s wall "
                f"({report.documents_new} new documents, {report.not_modified} unchanged, "
                f"{report.failed} failed); every 15 min: {100 * cpu / 900:.2f} % of one core"
            )
    finally:
        stop.set()
        proc.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--sources", type=int, default=200)
    args = parser.parse_args()
    if args.sources:
        polling_cost(args.sources)
    if args.trials:
        waits = latency(args.trials)
        print(
            f"item on feed -> signed alert stored at the partner, {len(waits)} trials, "
            f"poll every {POLL_S} s: median {statistics.median(waits):.1f} s, "
            f"p95 {percentile(waits, 0.95):.1f} s, max {max(waits):.1f} s"
        )


if __name__ == "__main__":
    main()
