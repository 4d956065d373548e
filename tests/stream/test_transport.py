"""The transport interface's small parts: configuration, names, unreachable servers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import ValidationError

from ews.errors import EwsError
from ews.settings import Settings
from ews.stream.kafka_transport import KafkaTransport
from ews.stream.nats_transport import NatsTransport
from ews.stream.news import durable_name
from ews.stream.transport import (
    StreamError,
    dead_letter_subject,
    open_transport,
    read_properties,
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


@pytest.mark.parametrize(
    ("prefix", "subject", "dead"),
    [
        ("ews", "ews.news", "ews.dead.news"),
        ("ews", "ews.alerts.US", "ews.dead.alerts.US"),
        ("node-2", "node-2.news", "node-2.dead.news"),
    ],
)
def test_dead_letter_subjects(prefix: str, subject: str, dead: str) -> None:
    assert dead_letter_subject(prefix, subject) == dead


def test_durable_names_have_no_dots() -> None:
    assert durable_name("ews", "news", "kr.seoul") == "ews-news-kr_seoul"


def test_kafka_properties_file(tmp_path: Path) -> None:
    path = tmp_path / "client.properties"
    path.write_text(
        "# a real cluster\nsecurity.protocol = SASL_SSL\n\nsasl.mechanisms=PLAIN\n"
        "sasl.password=a=b\n",
        encoding="utf-8",
    )
    assert read_properties(path) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "PLAIN",
        "sasl.password": "a=b",
    }
    path.write_text("security.protocol\n", encoding="utf-8")
    with pytest.raises(StreamError, match=":1: expected key=value"):
        read_properties(path)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EWS_STREAM_TRANSPORT", "redis"),
        ("EWS_STREAM_PREFIX", "has.dot"),
        ("EWS_STREAM_BATCH", "0"),
        ("EWS_STREAM_ACK_WAIT", "-1"),
    ],
)
def test_invalid_stream_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_unknown_transport_is_refused() -> None:
    with pytest.raises(EwsError, match="unknown transport 'redis'"):
        open_transport("redis", None, Settings())


def test_unreachable_nats_is_one_clear_error() -> None:
    with pytest.raises(StreamError, match="cannot connect to NATS"):
        NatsTransport(f"nats://127.0.0.1:{_closed_port()}", connect_timeout=1)


def test_unreachable_kafka_is_one_clear_error() -> None:
    transport = KafkaTransport(f"127.0.0.1:{_closed_port()}", timeout=1)
    with pytest.raises(StreamError, match="cannot reach Kafka"):
        transport.publish("ews.news", "k", b"v")
