"""Kafka transport (confluent-kafka): idempotent producer, consumer groups with manual commits.

The producer runs with ``enable.idempotence`` (and so ``acks=all``): a retry after a lost
broker answer is not written twice. A consumer is a member of the group named after its
durable name; it stores offsets only of messages the stage acknowledged and commits them,
synchronously, when the stage asks for the next batch. Nothing is committed automatically,
so a consumer that dies resumes from its last commit: at least once.

Subjects are used as topic names; on a real cluster create the topics (or allow automatic
creation) with the partition count you want (docs/streaming.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import confluent_kafka as ck

from ews.stream.transport import Message, StreamError

log = logging.getLogger("ews.stream")

FETCH_WAIT = 1.0
"""Seconds a poll waits for messages before the consumer checks whether it is done."""
ASSIGN_WAIT = 60.0
"""Seconds a consumer waits to be given partitions by the group coordinator."""


class KafkaTransport:
    """See the module docstring."""

    kind: Literal["kafka"] = "kafka"

    def __init__(
        self,
        bootstrap: str,
        *,
        config: Mapping[str, str] | None = None,
        session_timeout: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        self.bootstrap = bootstrap.removeprefix("kafka://")
        self.timeout = timeout
        # A consumer that stops heartbeating loses its partitions after this long; then its
        # unacknowledged messages go to the next member (JetStream's ack_wait, in Kafka terms).
        # Brokers refuse less than 6 s by default.
        self.session_ms = max(6000, round(session_timeout * 1000))
        self.published = 0
        self.duplicates = 0  # Kafka does not report re-publications; consumers drop them
        self._base: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "client.id": "ews",
            "logger": log,
        }
        self._extra: dict[str, str] = dict(config or {})  # last: the operator's word wins
        self._producer: ck.Producer | None = None
        self._errors: list[str] = []

    # -- publishing -----------------------------------------------------------------------
    @property
    def producer(self) -> ck.Producer:
        if self._producer is None:
            producer = ck.Producer(
                {
                    **self._base,
                    "enable.idempotence": True,
                    "acks": "all",
                    "linger.ms": 20,
                    "compression.type": "lz4",
                    **self._extra,
                }
            )
            try:
                producer.list_topics(timeout=self.timeout)
            except ck.KafkaException as exc:
                raise StreamError(f"cannot reach Kafka at {self.bootstrap}: {exc}") from None
            self._producer = producer
        return self._producer

    def _delivered(self, err: ck.KafkaError | None, _msg: ck.Message) -> None:
        if err is not None:
            self._errors.append(str(err))
        else:
            self.published += 1

    def publish(
        self,
        subject: str,
        key: str,
        payload: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        dedup_id: str | None = None,
    ) -> None:
        hdrs: list[tuple[str, str | bytes | None]] = [
            (k, v.encode("utf-8")) for k, v in (headers or {}).items()
        ]
        while True:
            try:
                self.producer.produce(
                    subject, payload, key.encode("utf-8"), headers=hdrs, on_delivery=self._delivered
                )
                break
            except BufferError:  # local queue full: let deliveries drain
                self.producer.poll(0.1)
        self.producer.poll(0)

    def flush(self) -> None:
        if self._producer is None:
            return
        left = self._producer.flush(self.timeout)
        errors, self._errors = self._errors, []
        if left or errors:
            raise StreamError(
                f"{left + len(errors)} messages not confirmed by Kafka"
                + (f": {errors[0]}" if errors else " in time")
            )

    # -- consuming ------------------------------------------------------------------------
    def consume(
        self, subject: str, durable: str, *, batch: int, follow: bool = False
    ) -> Iterator[list[Message]]:
        consumer = ck.Consumer(
            {
                **self._base,
                "group.id": durable,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": self.session_ms,
                "heartbeat.interval.ms": min(3000, self.session_ms // 6),
                **self._extra,
            }
        )
        try:
            try:
                meta = consumer.list_topics(subject, timeout=self.timeout)
            except ck.KafkaException as exc:
                raise StreamError(f"cannot reach Kafka at {self.bootstrap}: {exc}") from None
            topic = meta.topics.get(subject)
            if (topic is None or topic.error is not None or not topic.partitions) and not follow:
                return  # no such topic yet: nothing to read
            consumer.subscribe([subject])
            started = time.monotonic()
            while True:
                raw = [m for m in consumer.consume(batch, timeout=FETCH_WAIT) if self._ok(m)]
                if not raw:
                    if follow:
                        continue
                    if consumer.assignment():
                        if self._caught_up(consumer):
                            return
                    elif time.monotonic() - started > ASSIGN_WAIT:
                        raise StreamError(f"no partitions of {subject} assigned to {durable}")
                    continue
                messages = [self._message(m) for m in raw]
                yield messages
                acked = [m for m, out in zip(raw, messages, strict=True) if out.acked]
                for m in acked:
                    consumer.store_offsets(message=m)
                if acked:
                    consumer.commit(asynchronous=False)
        finally:
            # Auto-commit is off: closing commits nothing, it only leaves the group.
            consumer.close()

    @staticmethod
    def _ok(msg: ck.Message) -> bool:
        err = msg.error()
        if err is None:
            return True
        if err.fatal():
            raise StreamError(f"Kafka consumer failed: {err}")
        log.warning("kafka: %s", err)
        return False

    def _caught_up(self, consumer: ck.Consumer) -> bool:
        for tp in consumer.assignment():
            low, high = consumer.get_watermark_offsets(tp, timeout=self.timeout)
            pos = consumer.position([tp])[0].offset
            if pos < 0:
                pos = consumer.committed([tp], timeout=self.timeout)[0].offset
            if pos < 0:
                pos = low
            if pos < high:
                return False
        return True

    @staticmethod
    def _message(msg: ck.Message) -> Message:
        raw = msg.headers() or []
        pairs = raw.items() if isinstance(raw, dict) else raw
        headers = {
            k: v.decode("utf-8", "replace") if isinstance(v, bytes) else (v or "") for k, v in pairs
        }
        return Message(
            subject=msg.topic() or "",
            key=(msg.key() or b"").decode("utf-8", "replace"),
            payload=msg.value() or b"",
            headers=headers,
        )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._producer = None
