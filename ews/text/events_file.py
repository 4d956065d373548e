"""Structured events from a file: the ``ews extract`` JSON-lines format, with or without text.

This is how a node takes events extracted elsewhere (a partner node, an analyst's curation,
or the demo's bundled sample, which carries no news text: only ids, dates, types, countries,
items, matched lexicon terms and links). Every line is validated; a bad line is refused with
its line number and nothing of the file is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from ews.catalog import Catalog
from ews.errors import InputError
from ews.records import EVENT_TYPES, Event
from ews.sources.files import open_input
from ews.store import Store
from ews.store.db import utcnow
from ews.text.ingest import events_table

SOURCE_ID = "events-file"


@dataclass
class EventsReport:
    file: str
    events: int = 0
    new: int = 0
    already_ingested: bool = False

    def summary(self) -> str:
        if self.already_ingested:
            return f"{self.file}: already ingested ({SOURCE_ID}); nothing changed"
        return f"{self.file}: {self.events:,} events ({self.new:,} new)"


def _field(row: dict[str, Any], name: str, kind: type, path: Path, line: int) -> Any:
    value = row.get(name)
    if not isinstance(value, kind):
        raise InputError(f"expected {kind.__name__}", file=path, row=line, field=name)
    return value


def _gunzip(raw: bytes, max_bytes: int, path: Path) -> bytes:
    """The gzip's content, refused when it is broken or larger than ``max_bytes``.

    Decompressed in bounded steps: ``gzip.decompress`` would expand a small gzip bomb to its
    full size in memory before any check could run.
    """
    data = bytearray()
    rest = raw
    while rest:  # a gzip file may hold several members, one after the other
        unpack = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
        try:
            data += unpack.decompress(rest, max_bytes + 1 - len(data))
        except zlib.error as exc:
            raise InputError(f"broken gzip: {exc}", file=path) from exc
        if len(data) > max_bytes:
            raise InputError(
                f"gzip content is over the limit of {max_bytes:,} bytes (a gzip bomb?)",
                file=path,
            )
        if not unpack.eof:
            raise InputError("broken gzip: the file ends inside the compressed data", file=path)
        rest = unpack.unused_data.lstrip(b"\x00")  # gzip allows zero padding at the end
    return bytes(data)


def read_events(
    path: Path, catalog: Catalog, *, max_bytes: int
) -> list[tuple[Event, dict[str, Any]]]:
    """Validated (event, extra fields) pairs; refuses the file at the first bad line."""
    file = open_input(path, max_bytes=max_bytes)
    raw = file.path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw, max_bytes, path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            "not UTF-8 text", file=path, row=raw.count(b"\n", 0, exc.start) + 1
        ) from exc
    out: list[tuple[Event, dict[str, Any]]] = []
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            row = json.loads(content)
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc.msg}", file=path, row=line) from exc
        if not isinstance(row, dict):
            raise InputError("a line must be a JSON object", file=path, row=line)
        event_type = _field(row, "event_type", str, path, line)
        if event_type not in EVENT_TYPES:
            raise InputError(
                f"unknown event type {event_type!r}", file=path, row=line, field="event_type"
            )
        items = _field(row, "items", list, path, line)
        unknown = [h for h in items if not isinstance(h, str) or h not in catalog.items]
        if unknown:
            raise InputError(f"not catalogue items: {unknown}", file=path, row=line, field="items")
        country = row.get("country")
        # isinstance first: a JSON list or object is unhashable and would raise TypeError.
        if country is not None and (
            not isinstance(country, str) or country not in catalog.countries
        ):
            raise InputError(f"unknown country {country!r}", file=path, row=line, field="country")
        target = row.get("target")
        if target is not None and (not isinstance(target, str) or target not in catalog.countries):
            raise InputError(f"unknown country {target!r}", file=path, row=line, field="target")
        try:
            day = dt.date.fromisoformat(_field(row, "date", str, path, line))
            published = (
                dt.datetime.fromisoformat(row["published"]) if row.get("published") else None
            )
            event = Event(
                event_id=_field(row, "event_id", str, path, line),
                doc_id=_field(row, "doc_id", str, path, line),
                lang=row.get("lang"),
                event_type=event_type,
                items=tuple(items),
                country=country,
                date=day,
                evidence=str(row.get("evidence") or ""),
                confidence=float(row.get("confidence", 0.0)),
                matched=tuple(str(m) for m in row.get("matched") or ()),
                target=target,
            )
        except (ValueError, TypeError) as exc:
            raise InputError(f"invalid event: {exc}".splitlines()[0], file=path, row=line) from exc
        link = row.get("link")
        if link is not None and not isinstance(link, str):  # would fail later, in the write
            raise InputError("expected str", file=path, row=line, field="link")
        extra = {
            "published": published,
            "link": link,
            "source_id": str(row.get("source_id") or SOURCE_ID),
        }
        out.append((event, extra))
    return out


def ingest_events_file(
    store: Store, catalog: Catalog, path: str | Path, *, max_bytes: int = 2 * 1024**3
) -> EventsReport:
    """Store a file of events (and stub documents carrying their date and link), idempotently."""
    p = Path(path)
    file = open_input(p, max_bytes=max_bytes)
    report = EventsReport(file=str(p))
    if store.is_ingested(file.sha256, SOURCE_ID):
        report.already_ingested = True
        return report
    pairs = read_events(p, catalog, max_bytes=max_bytes)
    now = utcnow()
    docs: dict[str, dict[str, Any]] = {}
    for event, extra in pairs:
        docs.setdefault(event.doc_id, {"lang": event.lang, **extra})
    doc_ids = list(docs)
    documents = pa.table(
        {
            "doc_id": doc_ids,
            "source_id": [docs[d]["source_id"] for d in doc_ids],
            "lang": pa.array([docs[d]["lang"] for d in doc_ids], pa.string()),
            "title": [""] * len(doc_ids),
            "body": [""] * len(doc_ids),
            "published": pa.array(
                [_naive(docs[d]["published"]) for d in doc_ids], pa.timestamp("us")
            ),
            "link": pa.array([docs[d]["link"] for d in doc_ids], pa.string()),
            "content_sha256": ["" for _ in doc_ids],
            "file_name": [p.name] * len(doc_ids),
            "file_sha256": [file.sha256] * len(doc_ids),
            "row_no": pa.array(list(range(1, len(doc_ids) + 1)), pa.int64()),
            "ingested_at": pa.array([now] * len(doc_ids), pa.timestamp("us")),
        }
    )
    events = [e for e, _ in pairs]
    source_of = {e.doc_id: docs[e.doc_id]["source_id"] for e in events}
    table = events_table(events, source_of, "imported", now)
    items = [(e.event_id, hs) for e in events for hs in e.items]
    with store.transaction():
        store.upsert("documents", documents, key=("doc_id",), compare=())
        counts = store.upsert("events", table, key=("event_id",), compare=())
        if items:
            store.upsert(
                "event_items",
                pa.table({"event_id": [i[0] for i in items], "hs": [i[1] for i in items]}),
                key=("event_id", "hs"),
                compare=(),
            )
        store.record_file(
            file_sha256=file.sha256,
            source_id=SOURCE_ID,
            file_name=p.name,
            size=file.size,
            rows=len(events),
            counts=counts,
            at=now,
        )
        store.audit("cli", "ingest.events", p.name, {"sha256": file.sha256, "events": len(events)})
    report.events, report.new = len(events), counts.new
    return report


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)
