"""NATS JetStream transport: one file-backed stream, durable pull consumers, explicit acks.

The stream (named after ``EWS_STREAM_PREFIX``, upper case) holds every subject under the
prefix. It is created when missing and left as it is when an operator created it. Publishing
sets ``Nats-Msg-Id``, so the server drops a message published again within the duplicate
window (a retried publish, a publisher re-run). A consumer is a durable pull consumer with
explicit acks: what it has not acknowledged within ``ack_wait`` is delivered again.

nats-py is asynchronous; this class runs its own event loop so the stages stay synchronous.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import api

from ews.stream.transport import Message, StreamError

T = TypeVar("T")
log = logging.getLogger("ews.stream")

KEY_HEADER = "ews-key"
"""JetStream messages have no key field; the key travels in this header."""
DUPLICATE_WINDOW = 24 * 3600.0
"""Seconds the server remembers message ids: a publisher re-run within a day adds nothing."""
PUBLISH_WINDOW = 2000
"""Publications in flight before the publisher waits for their acknowledgements."""
FETCH_WAIT = 1.0
"""Seconds a fetch waits for messages before the consumer checks whether it is done."""


class NatsTransport:
    """See the module docstring."""

    kind: Literal["nats"] = "nats"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ews",
        ack_wait: float = 30.0,
        creds: Path | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.prefix = prefix
        self.stream = prefix.upper().replace("-", "_")
        self.ack_wait = ack_wait
        self.published = 0
        self.duplicates = 0
        self._queued: list[tuple[str, bytes, dict[str, str]]] = []
        self._loop = asyncio.new_event_loop()
        servers = [s.strip() for s in url.split(",") if s.strip()]
        try:
            self._nc = self._run(
                nats.connect(
                    servers=servers,
                    connect_timeout=max(1, round(connect_timeout)),
                    max_reconnect_attempts=3,
                    reconnect_time_wait=0.5,
                    user_credentials=str(creds) if creds else None,
                    error_cb=self._on_error,
                )
            )
        except Exception as exc:  # NoServersError, OSError, TimeoutError, auth errors
            self._loop.close()
            raise StreamError(
                f"cannot connect to NATS at {url}: {exc or type(exc).__name__}"
            ) from None
        self._js = self._nc.jetstream()
        self._run(self._ensure_stream())

    async def _on_error(self, exc: Exception) -> None:
        log.warning("nats: %s", exc)

    def _run(self, aw: Awaitable[T] | Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(aw)

    async def _ensure_stream(self) -> None:
        try:
            await self._js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(
                api.StreamConfig(
                    name=self.stream,
                    subjects=[f"{self.prefix}.>"],
                    storage=api.StorageType.FILE,
                    duplicate_window=DUPLICATE_WINDOW,
                )
            )

    # -- publishing -----------------------------------------------------------------------
    def publish(
        self,
        subject: str,
        key: str,
        payload: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        dedup_id: str | None = None,
    ) -> None:
        hdrs = {**(headers or {}), KEY_HEADER: key}
        if dedup_id is not None:
            hdrs["Nats-Msg-Id"] = dedup_id
        self._queued.append((subject, payload, hdrs))
        if len(self._queued) >= PUBLISH_WINDOW:
            self.flush()

    async def _publish_all(
        self, queued: list[tuple[str, bytes, dict[str, str]]]
    ) -> list[api.PubAck | BaseException]:
        # One pass of the event loop for a whole window: publish all, then gather the acks.
        futures = [
            await self._js.publish_async(subject, payload, headers=hdrs, stream=self.stream)
            for subject, payload, hdrs in queued
        ]
        return await asyncio.gather(*futures, return_exceptions=True)

    def flush(self) -> None:
        if not self._queued:
            return
        queued, self._queued = self._queued, []
        results = self._run(self._publish_all(queued))
        failed = [r for r in results if isinstance(r, BaseException)]
        for r in results:
            if isinstance(r, api.PubAck):
                self.published += 1
                self.duplicates += bool(r.duplicate)
        if failed:
            raise StreamError(
                f"{len(failed)} of {len(results)} publications not confirmed by JetStream: "
                f"{failed[0]!r}"
            )

    # -- consuming ------------------------------------------------------------------------
    def consume(
        self, subject: str, durable: str, *, batch: int, follow: bool = False
    ) -> Iterator[list[Message]]:
        config = api.ConsumerConfig(
            durable_name=durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            max_ack_pending=max(1000, 4 * batch),
            filter_subject=subject,
        )
        try:
            sub = self._run(
                self._js.pull_subscribe(subject, durable=durable, stream=self.stream, config=config)
            )
        except nats.errors.Error as exc:
            raise StreamError(f"cannot subscribe {durable} to {subject}: {exc}") from None
        try:
            while True:
                try:
                    raw = self._run(sub.fetch(batch, timeout=FETCH_WAIT))
                except nats.errors.TimeoutError:
                    raw = []
                if not raw:
                    if follow:
                        continue
                    info = self._run(sub.consumer_info())
                    # Messages delivered to a consumer that died unacknowledged come back
                    # after ack_wait: not done until those are through too.
                    if info.num_pending == 0 and info.num_ack_pending == 0:
                        return
                    continue
                messages = [self._message(m) for m in raw]
                yield messages
                self._run(self._ack([m for m, out in zip(raw, messages, strict=True) if out.acked]))
        finally:
            # Leaves the durable consumer (and its position) on the server.
            self._run(sub.unsubscribe())

    @staticmethod
    def _message(msg: Msg) -> Message:
        headers = dict(msg.headers or {})
        return Message(
            subject=msg.subject,
            key=headers.get(KEY_HEADER, ""),
            payload=msg.data,
            headers=headers,
            redelivered=msg.metadata.num_delivered > 1,
        )

    async def _ack(self, msgs: list[Msg]) -> None:
        for msg in msgs:
            await msg.ack()
        await self._nc.flush()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self.flush()
        finally:
            try:
                self._run(self._nc.close())
            finally:
                self._loop.close()
