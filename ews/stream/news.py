"""News through a stream: one message per document in, documents and events in the store out.

The publisher reads a news file with the text stage's readers and publishes each document as
JSON (the :class:`~ews.records.Document` record) on ``<prefix>.news``, keyed by ``doc_id``.
The consumer stores each batch with the text stage's write path (idempotent by ``doc_id`` and
content hash, and by ``event_id``), then acknowledges it; a batch delivered again after a crash
finds its documents already stored and adds nothing. A message that is not a document (or
names an unknown source) is copied to ``<prefix>.dead.news`` with the reason, written to the
audit log and acknowledged: one bad message never stops the stream.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ews.catalog import Catalog
from ews.errors import EwsError, InputError
from ews.records import Document
from ews.sources.ingest import sync_source
from ews.sources.registry import SourceSpec, get_spec
from ews.store import Store
from ews.stream.transport import (
    REASON_HEADER,
    SUBJECT_HEADER,
    Message,
    Transport,
    dead_letter_subject,
)
from ews.text.extract import Extractor
from ews.text.ingest import FileReport, content_sha256, open_documents, recluster, store_documents

SCHEMA = "1"
"""Version of the document message format (header ``ews-schema``)."""
TYPE_HEADER = "ews-type"
SCHEMA_HEADER = "ews-schema"


def news_subject(prefix: str) -> str:
    return f"{prefix}.news"


def durable_name(prefix: str, what: str, node_id: str) -> str:
    """Default consumer name: one position per node and stream (dots are not allowed)."""
    return f"{prefix}-{what}-{node_id}".replace(".", "_")


def document_message(doc: Document) -> tuple[str, bytes, dict[str, str], str]:
    """Key, payload, headers and deduplication id of one document's message.

    The deduplication id includes the content hash: a corrected document is published
    again, an unchanged one is dropped by a transport that deduplicates."""
    payload = doc.model_dump_json(exclude_none=True).encode("utf-8")
    headers = {TYPE_HEADER: "document", SCHEMA_HEADER: SCHEMA, "ews-source": doc.source_id}
    return doc.doc_id, payload, headers, f"doc:{doc.doc_id}:{content_sha256(doc)[:16]}"


@dataclass
class PublishReport:
    """What publishing one file did."""

    file: str
    source_id: str = ""
    documents: int = 0
    error: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.error:
            return f"{self.file}: skipped: {self.error}"
        text = f"{self.file}: {self.documents:,} documents published from {self.source_id}"
        if self.skipped:
            text += "; skipped " + ", ".join(
                f"{n:,} {why}" for why, n in sorted(self.skipped.items())
            )
        return text


def publish_news_file(
    transport: Transport,
    catalog: Catalog,
    path: str | Path,
    *,
    prefix: str,
    source_id: str | None = None,
    max_bytes: int = 2 * 1024**3,
) -> PublishReport:
    """Publish every document of one news file, one message each, and wait for the broker
    to confirm them. Problems of the file as a whole go to ``PublishReport.error``."""
    report = PublishReport(file=str(path))
    try:
        spec, ctx, docs = open_documents(path, catalog, source_id=source_id, max_bytes=max_bytes)
        report.source_id = spec.id
        subject = news_subject(prefix)
        seen: set[str] = set()
        for doc in docs:
            if doc.doc_id in seen:
                ctx.skip("repeated document id")
                continue
            seen.add(doc.doc_id)
            key, payload, headers, dedup = document_message(doc)
            transport.publish(subject, key, payload, headers, dedup_id=dedup)
            report.documents += 1
    except InputError as exc:
        report.error = exc.message
        return report
    transport.flush()
    report.skipped, report.warnings = ctx.skipped, ctx.warnings
    return report


@dataclass
class ConsumeReport:
    """What a consumer run stored and refused."""

    subject: str
    messages: int = 0
    batches: int = 0
    redelivered: int = 0
    store: FileReport = field(default_factory=lambda: FileReport(file="stream"))
    dead_letters: dict[str, int] = field(default_factory=dict)
    clusters: int | None = None

    def summary(self) -> str:
        s = self.store
        text = (
            f"{self.subject}: {self.messages:,} messages in {self.batches:,} batches "
            f"({self.redelivered:,} redelivered): {s.documents:,} documents "
            f"({s.documents_new:,} new, {s.documents_changed:,} changed, "
            f"{s.stored_before:,} already stored), {s.events:,} events ({s.events_new:,} new)"
        )
        if self.dead_letters:
            text += "; dead letters: " + ", ".join(
                f"{n:,} {why}" for why, n in sorted(self.dead_letters.items())
            )
        return text


def dead_letter(
    transport: Transport, prefix: str, message: Message, reason: str, detail: str
) -> None:
    """Copy a refused message to the dead-letter subject with its reason (not yet flushed)."""
    headers = {
        **message.headers,
        REASON_HEADER: f"{reason}: {detail}"[:500],
        SUBJECT_HEADER: message.subject,
    }
    headers.pop("Nats-Msg-Id", None)
    transport.publish(
        dead_letter_subject(prefix, message.subject), message.key, message.payload, headers
    )


def _decode(
    message: Message, specs: dict[str, SourceSpec]
) -> tuple[Document | None, tuple[str, str] | None]:
    try:
        doc = Document.model_validate_json(message.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        return None, ("bad_document", f"{where}: {first['msg']}" if where else str(first["msg"]))
    if doc.source_id not in specs:
        try:
            spec = get_spec(doc.source_id)
        except EwsError as exc:
            return None, ("unknown_source", str(exc))
        if spec.kind not in ("news", "notices"):
            return None, ("unknown_source", f"{doc.source_id!r} is not a news source")
        specs[doc.source_id] = spec
    return doc, None


def _recluster(store: Store, catalog: Catalog) -> int | None:
    """Recompute clusters when some event has none: new events, or a run that crashed after
    storing events and before clustering them."""
    if not store.scalar("SELECT count(*) FROM events WHERE cluster_id IS NULL"):
        return None
    return recluster(store, catalog)


StoreSource = Store | Callable[[], AbstractContextManager[Store]]
"""A store held open, or a way to open it for each unit of work (see :func:`consume_news`)."""


@contextmanager
def _using(store: StoreSource) -> Iterator[Store]:
    if isinstance(store, Store):
        yield store
    else:
        with store() as opened:
            yield opened


def consume_news(
    transport: Transport,
    store: StoreSource,
    extractor: Extractor,
    *,
    prefix: str,
    durable: str,
    batch: int = 500,
    follow: bool = False,
    today: dt.date | None = None,
    actor: str = "stream",
    after_store: Callable[[ConsumeReport], None] | None = None,
) -> ConsumeReport:
    """Store the documents (and their events) of ``<prefix>.news`` not yet acknowledged by
    the durable consumer ``durable``; see the module docstring.

    ``store`` is a store held for the whole run, or a function that opens it: then it is
    opened for each batch and closed while the consumer waits for messages, so that other
    processes (the API server's copy, ``ews assess``) can use a DuckDB file in between.

    ``after_store`` is called after each batch is stored and before it is acknowledged."""
    subject = news_subject(prefix)
    report = ConsumeReport(subject=subject)
    specs: dict[str, SourceSpec] = {}
    synced: set[str] = set()
    for messages in transport.consume(subject, durable, batch=batch, follow=follow):
        docs: dict[str, Document] = {}
        refused: list[tuple[Message, str, str]] = []
        for message in messages:
            doc, problem = _decode(message, specs)
            if doc is None:
                assert problem is not None
                refused.append((message, *problem))
            else:
                docs[doc.doc_id] = doc  # the same document twice in a batch: the later wins
        for message, reason, detail in refused:
            dead_letter(transport, prefix, message, reason, detail)
            report.dead_letters[reason] = report.dead_letters.get(reason, 0) + 1
        transport.flush()  # dead letters are confirmed before their originals are acked
        new_specs = [specs[s] for s in {d.source_id for d in docs.values()} - synced]
        with _using(store) as st, st.transaction():
            for spec in new_specs:
                sync_source(st, spec)
                synced.add(spec.id)
            store_documents(st, extractor, list(docs.values()), report.store, today=today)
            for message, reason, detail in refused:
                st.audit(
                    actor,
                    "stream.reject",
                    message.key or "-",
                    {"subject": message.subject, "reason": reason, "message": detail},
                )
        report.messages += len(messages)
        report.batches += 1
        report.redelivered += sum(m.redelivered for m in messages)
        if after_store is not None:
            after_store(report)
        for message in messages:
            message.ack()
        if follow and len(messages) < batch:  # caught up: refresh clusters
            with _using(store) as st:
                report.clusters = _recluster(st, extractor.catalog)
    with _using(store) as st:
        report.clusters = _recluster(st, extractor.catalog)
        if report.messages:
            _audit_run(st, actor, durable, subject, report, extractor)
    return report


def _audit_run(
    store: Store,
    actor: str,
    durable: str,
    subject: str,
    report: ConsumeReport,
    extractor: Extractor,
) -> None:
    with store.transaction():
        store.audit(
            actor,
            "stream.consume.news",
            durable,
            {
                "subject": subject,
                "messages": report.messages,
                "documents": report.store.documents,
                "new": report.store.documents_new,
                "changed": report.store.documents_changed,
                "events_new": report.store.events_new,
                "dead_letters": report.dead_letters,
                "extractor": extractor.version,
            },
        )
