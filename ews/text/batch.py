"""Extraction over Arrow batches of documents: the unit of work of the process pool and Spark.

A batch of documents is an Arrow record batch in the layout of :data:`DOCUMENT_SCHEMA` (the
columns of the store's ``documents`` table, plus the publisher's UTC offset); its events
come back as a record batch in the layout of :data:`EVENT_SCHEMA`, each row carrying the
input row it came from (``doc_row``) and its rank among that document's events (``seq``), so
results computed in any order can be put back in input order.

The :class:`~ews.text.extract.Extractor` is built once per process (:func:`process_extractor`)
and reused for every batch that process gets: a pool worker or a Spark Python worker pays the
lexicon build (a fraction of a second) once, never per document.

Parquet layout of documents (what ``ews documents`` writes and ``ews extract`` reads):

* required: ``doc_id`` and at least one of ``title`` and ``body`` (null counts as empty);
* optional: ``source_id``, ``lang`` (declared; anything but en/ko/ja/zh/vi means 'detect'),
  ``published`` (a timestamp; without a time zone it is read as UTC, the store's convention),
  ``utc_offset_min`` (the publisher's offset from UTC in minutes: with it the publication date
  is the publisher's own, as when reading the original file; the store keeps UTC only), and
  ``link``, ``file_name``, ``file_sha256``, ``row_no`` (provenance).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pyarrow as pa

from ews.catalog import load_catalog
from ews.errors import InputError
from ews.records import Document, Event, Provenance
from ews.text.extract import MIN_CONFIDENCE, Extractor

LANGS = frozenset({"en", "ko", "ja", "zh", "vi"})

DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("source_id", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("title", pa.string()),
        pa.field("body", pa.string()),
        pa.field("published", pa.timestamp("us", tz="UTC")),
        pa.field("utc_offset_min", pa.int32()),
        pa.field("link", pa.string()),
        pa.field("file_name", pa.string()),
        pa.field("file_sha256", pa.string()),
        pa.field("row_no", pa.int64()),
    ]
)
"""Documents as Arrow / Parquet (see the module docstring)."""

EVENT_SCHEMA = pa.schema(
    [
        pa.field("doc_row", pa.int64()),
        pa.field("seq", pa.int32()),
        pa.field("event_id", pa.string()),
        pa.field("doc_id", pa.string()),
        pa.field("source_id", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("event_type", pa.string()),
        pa.field("items", pa.list_(pa.string())),
        pa.field("country", pa.string()),
        pa.field("event_date", pa.date32()),
        pa.field("evidence", pa.string()),
        pa.field("confidence", pa.float64()),
        pa.field("matched", pa.list_(pa.string())),
        pa.field("extractor_version", pa.string()),
        pa.field("target", pa.string()),
    ]
)
"""Events as Arrow / Parquet: the ``events`` table's columns, items and matched terms as lists,
plus the input row (``doc_row``) and the event's rank within its document (``seq``)."""

ROW_COLUMN = "_row"
"""Optional input column numbering the documents (Spark adds it); else rows count from 0."""

BATCH_DOCS = 1000
"""Documents per task sent to a pool worker: big enough that pickling is cheap per document."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NO_FILE = "0" * 64


@lru_cache(maxsize=4)
def process_extractor(min_confidence: float = MIN_CONFIDENCE) -> Extractor:
    """This process's extractor (built on first use, then reused by every batch)."""
    return Extractor(load_catalog(), min_confidence=min_confidence)


# -- documents <-> Arrow ---------------------------------------------------------------------
def documents_to_arrow(docs: Sequence[Document]) -> pa.RecordBatch:
    """Documents as a record batch of :data:`DOCUMENT_SCHEMA` (offsets kept, see module doc)."""
    published: list[dt.datetime | None] = []
    offsets: list[int | None] = []
    for d in docs:
        p = d.published
        if p is None:
            published.append(None)
            offsets.append(None)
            continue
        off = p.utcoffset()
        published.append(p.astimezone(dt.UTC) if off is not None else p.replace(tzinfo=dt.UTC))
        offsets.append(None if off is None else int(off.total_seconds() // 60))
    return pa.RecordBatch.from_arrays(
        [
            pa.array([d.doc_id for d in docs], pa.string()),
            pa.array([d.source_id for d in docs], pa.string()),
            pa.array([d.lang for d in docs], pa.string()),
            pa.array([d.title for d in docs], pa.string()),
            pa.array([d.text for d in docs], pa.string()),
            pa.array(published, pa.timestamp("us", tz="UTC")),
            pa.array(offsets, pa.int32()),
            pa.array([d.link for d in docs], pa.string()),
            pa.array([d.provenance.file_name for d in docs], pa.string()),
            pa.array([d.provenance.file_sha256 for d in docs], pa.string()),
            pa.array([d.provenance.row for d in docs], pa.int64()),
        ],
        schema=DOCUMENT_SCHEMA,
    )


def check_document_columns(names: Iterable[str], where: str) -> None:
    """Refuse a documents table without the columns extraction needs, naming what is missing."""
    cols = set(names)
    if "doc_id" not in cols or not cols & {"title", "body"}:
        raise InputError(
            "a documents file needs the columns doc_id and title and/or body "
            f"(has: {', '.join(sorted(cols)) or 'none'})",
            file=where,
        )


def _column(batch: pa.RecordBatch, name: str) -> list[Any]:
    idx = batch.schema.get_field_index(name)
    if idx < 0:
        return [None] * batch.num_rows
    col = batch.column(idx)
    if pa.types.is_timestamp(col.type):
        # Epoch microseconds: UTC for a zoned timestamp, the wall clock of a naive one (which
        # the store's convention says is UTC too); independent of any session time zone.
        col = col.cast(pa.timestamp("us", tz=col.type.tz), safe=False).view(pa.int64())
    return list(col.to_pylist())


def arrow_to_documents(batch: pa.RecordBatch, source_id: str = "parquet") -> list[Document]:
    """The documents of a record batch (layout of the module docstring), in row order.

    Rows were validated when first read, so records are built without validating again; a
    language outside the five is dropped (the extractor detects it).
    """
    check_document_columns(batch.schema.names, "documents batch")
    ids = _column(batch, "doc_id")
    sources = _column(batch, "source_id")
    langs = _column(batch, "lang")
    titles = _column(batch, "title")
    bodies = _column(batch, "body")
    micros = _column(batch, "published")
    offsets = _column(batch, "utc_offset_min")
    links = _column(batch, "link")
    names = _column(batch, "file_name")
    shas = _column(batch, "file_sha256")
    rows = _column(batch, "row_no")
    docs = []
    for i in range(batch.num_rows):
        published = None
        if micros[i] is not None:
            published = _EPOCH + dt.timedelta(microseconds=micros[i])
            if offsets[i] is not None:
                published = published.astimezone(dt.timezone(dt.timedelta(minutes=offsets[i])))
        lang = langs[i] if langs[i] in LANGS else None
        source = sources[i] or source_id
        sha = shas[i] if isinstance(shas[i], str) and len(shas[i]) == 64 else _NO_FILE
        prov = Provenance.model_construct(
            source_id=source,
            file_name=names[i] or source_id,
            file_sha256=sha,
            row=rows[i] or i + 1,
            column=None,
        )
        docs.append(
            Document.model_construct(
                doc_id=str(ids[i]),
                source_id=source,
                title=titles[i] or "",
                text=bodies[i] or "",
                published=published,
                lang=lang,
                link=links[i],
                outlet=None,
                provenance=prov,
            )
        )
    return docs


# -- events <-> Arrow ------------------------------------------------------------------------
def events_to_arrow(
    found: Sequence[tuple[int, Document, list[Event]]], version: str
) -> pa.RecordBatch:
    """(input row, document, events) triples as a record batch of :data:`EVENT_SCHEMA`."""
    cols: dict[str, list[Any]] = {name: [] for name in EVENT_SCHEMA.names}
    for row, doc, events in found:
        for seq, e in enumerate(events):
            cols["doc_row"].append(row)
            cols["seq"].append(seq)
            cols["event_id"].append(e.event_id)
            cols["doc_id"].append(e.doc_id)
            cols["source_id"].append(doc.source_id)
            cols["lang"].append(e.lang)
            cols["event_type"].append(e.event_type)
            cols["items"].append(list(e.items))
            cols["country"].append(e.country)
            cols["event_date"].append(e.date)
            cols["evidence"].append(e.evidence)
            cols["confidence"].append(e.confidence)
            cols["matched"].append(list(e.matched))
            cols["extractor_version"].append(version)
            cols["target"].append(e.target)
    return pa.RecordBatch.from_pydict(cols, schema=EVENT_SCHEMA)


def arrow_to_events(table: pa.Table | pa.RecordBatch) -> list[Event]:
    """Events from rows of :data:`EVENT_SCHEMA` (extra columns ignored), in row order."""
    return [
        Event.model_construct(
            event_id=r["event_id"],
            doc_id=r["doc_id"],
            lang=r["lang"],
            event_type=r["event_type"],
            items=tuple(r["items"] or ()),
            country=r["country"],
            date=r["event_date"],
            evidence=r["evidence"],
            confidence=r["confidence"],
            matched=tuple(r["matched"] or ()),
            target=r.get("target"),
        )
        for r in table.to_pylist()
    ]


def sort_events(table: pa.Table) -> pa.Table:
    """Events in input order: by input row, then rank within the document."""
    return table.sort_by([("doc_row", "ascending"), ("seq", "ascending")])


# -- extraction ------------------------------------------------------------------------------
def extract_batch(
    batch: pa.RecordBatch,
    *,
    first_row: int = 0,
    min_confidence: float = MIN_CONFIDENCE,
    default_date: dt.date | None = None,
) -> pa.RecordBatch:
    """The events of one batch of documents, with this process's extractor.

    Input rows are numbered by the batch's ``_row`` column when it has one (Spark), else from
    ``first_row``.
    """
    extractor = process_extractor(min_confidence)
    docs = arrow_to_documents(batch)
    if ROW_COLUMN in batch.schema.names:
        rows = [int(r) for r in _column(batch, ROW_COLUMN)]
    else:
        rows = list(range(first_row, first_row + len(docs)))
    found = []
    for row, doc in zip(rows, docs, strict=True):
        events = extractor.extract(doc, default_date=default_date)
        if events:
            found.append((row, doc, events))
    return events_to_arrow(found, extractor.version)


def _pool_task(args: tuple[pa.RecordBatch, int, float, dt.date | None]) -> pa.RecordBatch:
    batch, first_row, min_confidence, default_date = args
    return extract_batch(
        batch, first_row=first_row, min_confidence=min_confidence, default_date=default_date
    )


def _numbered(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[pa.RecordBatch, int]]:
    row = 0
    for batch in batches:
        yield batch, row
        row += batch.num_rows


def _compact(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A copy holding only its own rows: a slice of a bigger batch (a Parquet row group cut
    into batches) would otherwise pickle its parent's whole buffers, 10 times the data."""
    return batch.take(pa.array(range(batch.num_rows), pa.int64()))


def extract_batches(
    batches: Iterable[pa.RecordBatch],
    *,
    workers: int = 1,
    min_confidence: float = MIN_CONFIDENCE,
    default_date: dt.date | None = None,
) -> Iterator[pa.RecordBatch]:
    """Events of each batch, in input order, on ``workers`` processes (1: in this process).

    Workers are started fresh (``spawn``: nothing inherited from this process's threads) and
    each builds its extractor once; at most ``4 * workers`` batches are in flight, so memory
    stays bounded however long the input.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    numbered = _numbered(batches)
    if workers == 1:
        for batch, first in numbered:
            yield extract_batch(
                batch, first_row=first, min_confidence=min_confidence, default_date=default_date
            )
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        it = iter(numbered)

        def submit(batch: pa.RecordBatch, first: int) -> Future[pa.RecordBatch]:
            return pool.submit(_pool_task, (_compact(batch), first, min_confidence, default_date))

        pending = [submit(batch, first) for batch, first in islice(it, 4 * workers)]
        while pending:
            result = pending.pop(0).result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(submit(*nxt))
            yield result


def document_batches(docs: Iterable[Document], size: int = BATCH_DOCS) -> Iterator[pa.RecordBatch]:
    """Documents as record batches of at most ``size`` rows."""
    it = iter(docs)
    while chunk := list(islice(it, size)):
        yield documents_to_arrow(chunk)


def read_parquet_batches(path: Path, size: int = BATCH_DOCS) -> Iterator[pa.RecordBatch]:
    """A Parquet file (or a directory of part files) of documents, in batches of ``size``."""
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(str(path), format="parquet")
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"not a readable Parquet file or folder: {exc}", file=path) from exc
    check_document_columns(dataset.schema.names, str(path))
    wanted = [n for n in (*DOCUMENT_SCHEMA.names, ROW_COLUMN) if n in dataset.schema.names]
    yield from dataset.to_batches(columns=wanted, batch_size=size)
