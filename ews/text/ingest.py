"""Reading news files and storing their documents and events, in batches, idempotently.

A file is read as a stream of documents and written in batches, one transaction each: a kill
loses at most the batch in flight, and a re-run skips documents already stored with the same
content (the ``content_sha256`` column) without extracting them again. When a whole file is
done it is recorded in ``ingested_files`` and later runs skip it at once. Events carry a
cluster id, recomputed over the stored events after each run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import pyarrow as pa

from ews.catalog import Catalog
from ews.errors import InputError
from ews.records import Document, Event
from ews.sources.files import open_input
from ews.sources.ingest import sync_source
from ews.sources.news import spec_for_file
from ews.sources.registry import ReadContext, SourceSpec
from ews.store import Store, UpsertCounts
from ews.store.db import utcnow
from ews.text.cluster import cluster_events
from ews.text.extract import Extractor

BATCH = 2000
"""Documents per transaction: small enough that a kill loses little, big enough to be fast."""


@dataclass
class FileReport:
    """What reading (and storing) one file did."""

    file: str
    source_id: str = ""
    documents: int = 0
    stored_before: int = 0
    documents_new: int = 0
    documents_changed: int = 0
    events: int = 0
    events_new: int = 0
    already_ingested: bool = False
    error: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        if self.error:
            return f"{self.file}: not ingested: {self.error}"
        if self.already_ingested:
            return f"{self.file}: already ingested ({self.source_id}); nothing changed"
        text = (
            f"{self.file}: {self.documents:,} documents from {self.source_id} "
            f"({self.documents_new:,} new, {self.documents_changed:,} changed, "
            f"{self.stored_before:,} already stored), {self.events:,} events "
            f"({self.events_new:,} new)"
        )
        if self.skipped:
            text += "; skipped " + ", ".join(
                f"{n:,} {why}" for why, n in sorted(self.skipped.items())
            )
        return text


def open_documents(
    path: str | Path, catalog: Catalog, *, source_id: str | None, max_bytes: int
) -> tuple[SourceSpec, ReadContext, Iterator[Document]]:
    """The spec, the read context (warnings, skip counts) and the documents of one file."""
    file = open_input(path, max_bytes=max_bytes)
    spec = spec_for_file(file.path, source_id)
    ctx = ReadContext(spec=spec, catalog=catalog, file=file)
    docs: Iterator[Document] = spec.read_function()(ctx)
    return spec, ctx, docs


def content_sha256(doc: Document) -> str:
    """Hash of what extraction reads, so a changed document is extracted again."""
    payload = "\x1f".join(
        (doc.title, doc.text, doc.published.isoformat() if doc.published else "", doc.lang or "")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    it = iter(docs)
    while batch := list(islice(it, size)):
        yield batch


def _naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _documents_table(
    docs: Sequence[Document], hashes: Sequence[str], langs: Sequence[str | None], now: dt.datetime
) -> pa.Table:
    return pa.table(
        {
            "doc_id": [d.doc_id for d in docs],
            "source_id": [d.source_id for d in docs],
            "lang": pa.array(list(langs), pa.string()),
            "title": [d.title for d in docs],
            "body": [d.text for d in docs],
            "published": pa.array([_naive_utc(d.published) for d in docs], pa.timestamp("us")),
            "link": pa.array([d.link for d in docs], pa.string()),
            "content_sha256": list(hashes),
            "file_name": [d.provenance.file_name for d in docs],
            "file_sha256": [d.provenance.file_sha256 for d in docs],
            "row_no": pa.array([d.provenance.row for d in docs], pa.int64()),
            "ingested_at": pa.array([now] * len(docs), pa.timestamp("us")),
        }
    )


def events_table(
    events: Sequence[Event], source_of: dict[str, str], version: str, now: dt.datetime
) -> pa.Table:
    """Events as rows of the ``events`` table (cluster ids are set later by recluster)."""
    return pa.table(
        {
            "event_id": [e.event_id for e in events],
            "doc_id": [e.doc_id for e in events],
            "source_id": [source_of[e.doc_id] for e in events],
            "lang": [e.lang for e in events],
            "event_type": [e.event_type for e in events],
            "country": pa.array([e.country for e in events], pa.string()),
            "event_date": pa.array([e.date for e in events], pa.date32()),
            "evidence": [e.evidence for e in events],
            "confidence": pa.array([e.confidence for e in events], pa.float64()),
            "cluster_id": pa.array([None] * len(events), pa.string()),
            "extractor_version": [version] * len(events),
            "created_at": pa.array([now] * len(events), pa.timestamp("us")),
            "matched": [json.dumps(list(e.matched), ensure_ascii=False) for e in events],
            "target": pa.array([e.target for e in events], pa.string()),
        }
    )


def _stored_hashes(store: Store, ids: Sequence[str]) -> dict[str, str]:
    table = pa.table({"doc_id": list(ids)})
    with store.arrow_view("_batch_ids", table):
        rows = store.execute(
            "SELECT d.doc_id, d.content_sha256 FROM documents d JOIN _batch_ids b USING (doc_id)"
        ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def stored_ids(store: Store, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are stored documents already (to tell new items from known ones)."""
    return set(_stored_hashes(store, ids)) if ids else set()


def ingest_news_file(
    store: Store,
    extractor: Extractor,
    path: str | Path,
    *,
    source_id: str | None = None,
    max_bytes: int = 2 * 1024**3,
    batch_size: int = BATCH,
    today: dt.date | None = None,
    actor: str = "cli",
    on_batch: Callable[[int], None] | None = None,
) -> FileReport:
    """Store one file's documents and events (see the module docstring).

    Input problems of the file as a whole (missing, empty, binary feed, over the size limit)
    are reported in ``FileReport.error`` rather than raised, so a batch of files goes on.
    """
    report = FileReport(file=str(path))
    try:
        spec, ctx, docs = open_documents(
            path, extractor.catalog, source_id=source_id, max_bytes=max_bytes
        )
    except InputError as exc:
        report.error = exc.message
        return report
    report.source_id = spec.id
    file = ctx.file
    if store.is_ingested(file.sha256, spec.id):
        report.already_ingested = True
        return report
    with store.transaction():
        sync_source(store, spec)
    seen: set[str] = set()
    try:
        for batch in _batches(docs, batch_size):
            unique = []
            for doc in batch:
                if doc.doc_id in seen:
                    ctx.skip("repeated document id")
                    continue
                seen.add(doc.doc_id)
                unique.append(doc)
            report.documents += len(unique)
            _store_batch(store, extractor, unique, report, today)
            if on_batch is not None:
                on_batch(len(batch))
    except InputError as exc:
        report.error = exc.message
        report.skipped, report.warnings = ctx.skipped, ctx.warnings
        return report
    report.skipped, report.warnings = ctx.skipped, ctx.warnings
    if report.documents == 0 and report.skipped:
        # Nothing in the file could be read (binary, wrong encoding, broken JSON): an error,
        # and the file is not recorded, so a repaired copy under the same name is read anew.
        reasons = ", ".join(f"{n:,} {why}" for why, n in sorted(report.skipped.items()))
        report.error = f"nothing readable ({reasons})"
        return report
    with store.transaction():
        store.record_file(
            file_sha256=file.sha256,
            source_id=spec.id,
            file_name=file.name,
            size=file.size,
            rows=report.documents,
            counts=UpsertCounts(
                report.documents_new, report.documents_changed, report.stored_before
            ),
        )
        store.audit(
            actor,
            "ingest.news",
            file.name,
            {
                "sha256": file.sha256,
                "source": spec.id,
                "documents": report.documents,
                "new": report.documents_new,
                "changed": report.documents_changed,
                "events": report.events,
                "skipped": report.skipped,
                "extractor": extractor.version,
            },
        )
    return report


def _store_batch(
    store: Store,
    extractor: Extractor,
    docs: Sequence[Document],
    report: FileReport,
    today: dt.date | None,
) -> None:
    if not docs:
        return
    hashes = [content_sha256(d) for d in docs]
    stored = _stored_hashes(store, [d.doc_id for d in docs])
    todo = [(d, h) for d, h in zip(docs, hashes, strict=True) if stored.get(d.doc_id) != h]
    report.stored_before += len(docs) - len(todo)
    if not todo:
        return
    changed = [d.doc_id for d, _ in todo if d.doc_id in stored]
    langs: list[str | None] = []
    events: dict[str, Event] = {}
    for doc, _ in todo:
        lang, found = extractor.extract_with_lang(doc, default_date=today)
        langs.append(lang)
        for event in found:
            events.setdefault(event.event_id, event)
    now = utcnow()
    event_list = list(events.values())
    source_of = {d.doc_id: d.source_id for d, _ in todo}
    with store.transaction():
        if changed:
            # A changed document's old events go; its new ones are written below.
            ids = pa.table({"doc_id": changed})
            with store.arrow_view("_changed", ids):
                store.execute(
                    "DELETE FROM event_items WHERE event_id IN (SELECT e.event_id FROM events e "
                    "JOIN _changed c USING (doc_id))"
                )
                store.execute("DELETE FROM events WHERE doc_id IN (SELECT doc_id FROM _changed)")
        counts = store.upsert(
            "documents",
            _documents_table([d for d, _ in todo], [h for _, h in todo], langs, now),
            key=("doc_id",),
            compare=("content_sha256", "lang", "source_id", "link"),
        )
        report.documents_new += counts.new
        report.documents_changed += counts.changed
        if event_list:
            ev_counts = store.upsert(
                "events",
                events_table(event_list, source_of, extractor.version, now),
                key=("event_id",),
                compare=("event_type", "country", "event_date", "evidence", "confidence", "lang"),
            )
            report.events += len(event_list)
            report.events_new += ev_counts.new
            pairs = [(e.event_id, hs) for e in event_list for hs in e.items]
            if pairs:
                store.upsert(
                    "event_items",
                    pa.table({"event_id": [p[0] for p in pairs], "hs": [p[1] for p in pairs]}),
                    key=("event_id", "hs"),
                    compare=(),
                )


def stored_events(store: Store) -> list[Event]:
    """Every stored event as a record."""
    rows = store.execute(
        "SELECT e.event_id, e.doc_id, e.lang, e.event_type, e.country, e.event_date, e.evidence, "
        "e.confidence, array_agg(i.hs ORDER BY i.hs) FILTER (WHERE i.hs IS NOT NULL), "
        "e.matched, e.target "
        "FROM events e LEFT JOIN event_items i USING (event_id) "
        "GROUP BY ALL ORDER BY e.event_date, e.event_id"
    ).fetchall()
    return [
        Event(
            event_id=r[0],
            doc_id=r[1],
            lang=r[2],
            event_type=r[3],
            country=r[4],
            date=r[5],
            evidence=r[6],
            confidence=r[7],
            items=tuple(r[8] or ()),
            matched=tuple(json.loads(r[9])) if r[9] else (),
            target=r[10],
        )
        for r in rows
    ]


def recluster(store: Store, catalog: Catalog) -> int:
    """Recompute every stored event's cluster id; returns the number of clusters."""
    events = stored_events(store)
    if not events:
        return 0
    sources = {
        str(r[0]): str(r[1])
        for r in store.execute(
            "SELECT d.doc_id, coalesce(d.link, d.source_id) FROM documents d "
            "WHERE d.doc_id IN (SELECT doc_id FROM events)"
        ).fetchall()
    }
    # The outlet is the link's host where there is a link: the same story from two sites of
    # one source counts twice, a story repeated by one site counts once.
    outlet = {doc: outlet_of(value) for doc, value in sources.items()}
    clusters = cluster_events(events, catalog, sources=outlet)
    table = pa.table(
        {
            "event_id": [eid for c in clusters for eid in c.event_ids],
            "cluster_id": [c.cluster_id for c in clusters for _ in c.event_ids],
        }
    )
    with store.transaction(), store.arrow_view("_clusters", table):
        store.execute(
            "UPDATE events AS e SET cluster_id = c.cluster_id FROM _clusters c "
            "WHERE e.event_id = c.event_id AND e.cluster_id IS DISTINCT FROM c.cluster_id"
        )
    return len(clusters)


def outlet_of(value: str) -> str:
    """The outlet behind a link (its host, without www.), or the value itself (a source id).

    Two items of one outlet are one source, however many of its pages tell the story."""
    if "://" not in value:
        return value
    return value.split("://", 1)[1].split("/", 1)[0].lower().removeprefix("www.")


# Datelines and credits of news agencies, whose copy many outlets print word for word: a story
# an agency wrote is one witness however many sites carry it. Matched only in a document's
# first lines, where a dateline or credit stands ("LONDON, Aug 30 (Reuters) -", "[東京 13日
# ロイター]", "(서울=연합뉴스)", "新华社北京7月3日电"), not "according to Reuters" further down,
# which a newsroom writes itself.
_WIRES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "reuters",
        re.compile(r"\(Reuters\)|ロイター\]|\[[^\]]{0,30}ロイター|路透社[^。]{0,12}电"),
    ),
    ("ap", re.compile(r"\((?:AP|The Associated Press)\)\s*[-—–]")),
    ("afp", re.compile(r"\(AFP\)\s*[-—–]|\[[^\]]{0,30}AFP\]")),
    ("bloomberg", re.compile(r"\(Bloomberg\)\s*[-—–]|\[[^\]]{0,30}ブルームバーグ")),
    ("xinhua", re.compile(r"\(Xinhua\)|新华社[^。]{0,16}电|新華社[^。]{0,16}電")),
    ("yonhap", re.compile(r"\(Yonhap\)|=\s*연합뉴스\)")),
    ("kyodo", re.compile(r"\(Kyodo\)|【共同】|（共同）")),
    ("jiji", re.compile(r"（時事）|【時事】")),
    ("vna", re.compile(r"\(TTXVN\)|\(VNA\)")),
)


def wire_of(lead: str | None) -> str | None:
    """The news agency whose copy a document is, from its dateline or credit in the first
    300 characters; None for a newsroom's own story."""
    if not lead:
        return None
    head = lead[:300]
    for name, pattern in _WIRES:
        if pattern.search(head):
            return name
    return None


def event_json(event: Event) -> str:
    """One event as a JSON line (the ``ews extract`` output format)."""
    return json.dumps(
        {
            "event_id": event.event_id,
            "doc_id": event.doc_id,
            "lang": event.lang,
            "event_type": event.event_type,
            "items": list(event.items),
            "country": event.country,
            "date": event.date.isoformat(),
            "evidence": event.evidence,
            "confidence": event.confidence,
            "matched": list(event.matched),
            **({"target": event.target} if event.target else {}),
        },
        ensure_ascii=False,
    )


def store_documents(
    store: Store,
    extractor: Extractor,
    docs: Sequence[Document],
    report: FileReport,
    *,
    today: dt.date | None = None,
) -> None:
    """Store documents (distinct ids) and their events in one transaction, counting into
    ``report``; documents already stored with the same content are skipped unread.

    Idempotent by ``doc_id`` and content hash, and by ``event_id``: the write path of every
    reader that may see a document twice (file re-runs, stream redeliveries)."""
    report.documents += len(docs)
    _store_batch(store, extractor, docs, report, today)
