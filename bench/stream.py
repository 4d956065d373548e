"""News throughput through each stream transport against the direct file ingest, same run.

For N real Vietnamese news documents (the first N of the shared news file):
  - baseline: ``ingest_news_file`` into a fresh store (read, extract, store);
  - per transport: publish the file (one message per document, confirmed by the broker), then
    consume it into a fresh store (extract, store, acknowledge), each timed.
NATS runs against a local nats-server with JetStream (file storage); Kafka against librdkafka's
mock cluster (in process, 3 brokers), so its figures measure the client path, not a broker.
Medians of --runs runs; the extractor is built once, outside the timings.

    .venv/bin/python bench/stream.py --docs 30000 --runs 3
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import logging
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from ews.catalog import load_catalog
from ews.catalog.sync import sync_catalog
from ews.settings import find_shared_data
from ews.store import Store
from ews.stream.kafka_transport import KafkaTransport
from ews.stream.nats_transport import NatsTransport
from ews.stream.news import consume_news, publish_news_file
from ews.stream.transport import Transport
from ews.text.extract import Extractor
from ews.text.ingest import ingest_news_file, recluster


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_nats(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = Path(sysconfig.get_path("scripts")) / "nats-server"
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(workdir / "js")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"nats://127.0.0.1:{port}"


def fresh_store(path: Path) -> Store:
    st = Store(str(path))
    sync_catalog(st, load_catalog())
    return st


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    shared = find_shared_data()
    if shared is None:
        sys.exit("the shared data folder is absent: nothing to measure")
    source = shared / "news/vi/vi-news-2025-08_2026-08.jsonl.gz"
    catalog = load_catalog()
    extractor = Extractor(catalog)
    logging.getLogger("ews.stream").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        news = work / "vi-news-bench.jsonl"
        with gzip.open(source, "rb") as fh, news.open("wb") as out:
            out.writelines(itertools.islice(fh, args.docs))
        nats_proc, nats_url = start_nats(work)
        import confluent_kafka as ck

        mock = ck.Producer({"test.mock.num.brokers": 3, "logger": logging.getLogger("mock")})
        bootstrap = ",".join(
            f"{b.host}:{b.port}" for b in mock.list_topics(timeout=10).brokers.values()
        )
        counter = itertools.count()
        results: dict[str, list[tuple[float, float]]] = {"direct": [], "nats": [], "kafka": []}
        docs = 0
        try:
            for run in range(args.runs):
                st = fresh_store(work / f"direct-{run}.duckdb")
                t0 = time.perf_counter()
                report = ingest_news_file(st, extractor, news)
                recluster(st, catalog)
                results["direct"].append((time.perf_counter() - t0, 0.0))
                docs = report.documents
                st.close()
                for kind in ("nats", "kafka"):
                    prefix = f"bench{next(counter)}"
                    transport: Transport = (
                        NatsTransport(nats_url, prefix=prefix)
                        if kind == "nats"
                        else KafkaTransport(bootstrap)
                    )
                    st = fresh_store(work / f"{kind}-{run}.duckdb")
                    t0 = time.perf_counter()
                    pub = publish_news_file(transport, catalog, news, prefix=prefix)
                    t1 = time.perf_counter()
                    got = consume_news(
                        transport,
                        st,
                        extractor,
                        prefix=prefix,
                        durable="bench",
                        batch=args.batch,
                    )
                    t2 = time.perf_counter()
                    assert pub.documents == docs == got.store.documents_new, (pub, got.summary())
                    results[kind].append((t1 - t0, t2 - t1))
                    transport.close()
                    st.close()
                print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]}" for k, v in results.items()))
        finally:
            nats_proc.terminate()
            nats_proc.wait(10)
            mock.flush(5)

    base = statistics.median(t for t, _ in results["direct"])
    print(f"\n{docs:,} documents, batch {args.batch}, medians of {args.runs} runs\n")
    print("| path | publish docs/s | consume docs/s | end to end docs/s | ratio to direct |")
    print("|---|---|---|---|---|")
    print(f"| direct file ingest (baseline) | – | – | {docs / base:,.0f} | 1.00 |")
    for kind, label in (("nats", "NATS JetStream"), ("kafka", "Kafka (mock cluster)")):
        pub = statistics.median(p for p, _ in results[kind])
        con = statistics.median(c for _, c in results[kind])
        total = statistics.median(p + c for p, c in results[kind])
        print(
            f"| {label} | {docs / pub:,.0f} | {docs / con:,.0f} | {docs / total:,.0f} | "
            f"{base / total:.2f} |"
        )


if __name__ == "__main__":
    main()
