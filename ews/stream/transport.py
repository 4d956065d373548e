"""One small interface over the message transports: publish keyed messages, consume batches.

Delivery is at least once. A consumer gets messages in batches; it writes a batch to the
store, calls :meth:`Message.ack` on each message it is done with, and hands the batch back
by asking for the next one. Only then does the transport confirm the acknowledged messages to
the broker (a JetStream ack, a Kafka offset commit). A consumer that dies between its store
write and that point gets the batch again, so every consumer must be idempotent: the stages
behind it store by natural key (``doc_id``, ``event_id``, ``alert_id#version``).

Subjects are dotted names (``ews.news``, ``ews.alerts.US``); Kafka uses them as topic names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from ews.errors import EwsError
from ews.settings import Settings

TransportKind = Literal["nats", "kafka"]
TRANSPORTS: tuple[TransportKind, ...] = ("nats", "kafka")
DEFAULT_URLS: dict[TransportKind, str] = {
    "nats": "nats://127.0.0.1:4222",
    "kafka": "127.0.0.1:9092",
}
REASON_HEADER = "ews-reason"
"""Header of a dead letter: why the consumer refused the message."""
SUBJECT_HEADER = "ews-subject"
"""Header of a dead letter: the subject the message was read from."""


class StreamError(EwsError):
    """The transport failed (server unreachable, publish not confirmed)."""


@dataclass
class Message:
    """One delivered message. ``ack`` marks it done; the transport confirms it to the broker
    when the consumer asks for the next batch (see the module docstring)."""

    subject: str
    key: str
    payload: bytes
    headers: dict[str, str] = field(default_factory=dict)
    redelivered: bool = False
    acked: bool = field(default=False, init=False)

    def ack(self) -> None:
        self.acked = True


class Transport(Protocol):
    """What the stream stages need from a message transport."""

    @property
    def kind(self) -> TransportKind:
        """Which transport this is."""

    def publish(
        self,
        subject: str,
        key: str,
        payload: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        dedup_id: str | None = None,
    ) -> None:
        """Queue one message; ``dedup_id`` lets a transport drop a re-publication.

        Delivery is confirmed by :meth:`flush`, not by this call."""

    def flush(self) -> None:
        """Wait until every queued message is confirmed by the broker; StreamError if not."""

    def consume(
        self, subject: str, durable: str, *, batch: int, follow: bool = False
    ) -> Iterator[list[Message]]:
        """Batches of messages for the durable consumer ``durable`` (its position survives
        restarts). Ends when nothing is left to read, unless ``follow``."""

    def close(self) -> None:
        """Flush and disconnect; unconfirmed consumed messages will be redelivered."""


def dead_letter_subject(prefix: str, subject: str) -> str:
    """Where refused messages of ``subject`` go: ``<prefix>.dead.<rest of subject>``."""
    rest = subject.removeprefix(prefix + ".")
    return f"{prefix}.dead.{rest}"


def read_properties(path: Path) -> dict[str, str]:
    """``key=value`` lines of a librdkafka properties file (``#`` starts a comment)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StreamError(f"cannot read Kafka properties {path}: {exc}") from None
    props: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise StreamError(f"{path}:{number}: expected key=value")
        props[name.strip()] = value.strip()
    return props


def open_transport(
    kind: str | None,
    url: str | None,
    settings: Settings,
    *,
    kafka_config: Mapping[str, str] | None = None,
) -> Transport:
    """The transport ``kind`` (default ``EWS_STREAM_TRANSPORT``) connected to ``url``
    (default ``EWS_STREAM_URL``, else the transport's local default)."""
    chosen = kind or settings.stream_transport
    if chosen not in TRANSPORTS:
        raise EwsError(f"unknown transport {chosen!r}; use nats or kafka")
    target = url or settings.stream_url or DEFAULT_URLS[chosen]
    if chosen == "nats":
        from ews.stream.nats_transport import NatsTransport

        return NatsTransport(
            target,
            prefix=settings.stream_prefix,
            ack_wait=settings.stream_ack_wait,
            creds=settings.stream_nats_creds,
        )
    from ews.stream.kafka_transport import KafkaTransport

    extra = (
        dict(read_properties(settings.stream_kafka_config)) if settings.stream_kafka_config else {}
    )
    extra.update(kafka_config or {})
    return KafkaTransport(target, config=extra, session_timeout=settings.stream_ack_wait)
