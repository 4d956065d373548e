"""News and notices -> :class:`~ews.records.Document`: plain text, JSONL (gzip too), RSS/Atom, HTML.

One small reader per format, each described by a spec in ``specs/news_*.yaml``. Readers are
lenient about single documents and strict about shapes: a broken JSON line, an empty, binary,
oversized or wrongly encoded document is skipped and counted under its reason
(``ReadContext.skipped``) so the rest of the batch goes through; a file that is not what its
format says (not a feed, binary where text was expected) raises :class:`InputError`.

Live feeds (``ews run``, :mod:`ews.sources.live`) go through the same parsers as files.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import html
import importlib
import io
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ews.errors import InputError
from ews.records import Document, Lang, Provenance
from ews.sources.files import InputFile
from ews.sources.registry import ReadContext, SourceSpec, get_spec, load_specs

LANGS: frozenset[str] = frozenset({"en", "ko", "ja", "zh", "vi"})
DEFAULT_MAX_DOC_BYTES = 5 * 1024 * 1024
"""A single news item or notice is at most a few hundred kB; 5 MB means the input is wrong."""

_JSONL_FIELDS = frozenset(
    {"id", "title", "text", "summary", "published", "lang", "source", "link", "category"}
)
_TAG = re.compile(r"<[^>]+>")
_HTML_LANG = re.compile(rb"<html[^>]*\blang=[\"']?([A-Za-z]{2})", re.IGNORECASE)


# -- helpers -------------------------------------------------------------------------------
def content_id(*parts: str) -> str:
    """A document id from content when the source gives none: 16 hex digits of SHA-256."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"sha256:{digest[:16]}"


def lang_code(value: Any) -> Lang | None:
    """One of our five language codes from a tag like 'vi-VN', 'zh-Hant' or 'EN'; else None."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGS else None  # type: ignore[return-value]


def parse_published(value: Any) -> dt.datetime | None:
    """An ISO date or date-time (a date alone is midnight); None for empty or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text[:10]), dt.time())
    except ValueError:
        return None


def strip_html(text: str) -> str:
    """Text of an HTML fragment (feed summaries): tags removed, entities decoded."""
    if "<" not in text and "&" not in text:
        return text.strip()
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def decode_document(data: bytes) -> str | None:
    """UTF-8 (BOM allowed) or BOM-marked UTF-16 text; None for anything else."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _max_doc_bytes(spec: SourceSpec) -> int:
    return int(spec.get("max_doc_bytes", DEFAULT_MAX_DOC_BYTES))


def _provenance(ctx: ReadContext, row: int) -> Provenance:
    return Provenance(
        source_id=ctx.spec.id, file_name=ctx.file.name, file_sha256=ctx.file.sha256, row=row
    )


def _read_bytes(file: InputFile) -> bytes:
    try:
        return file.path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=file.path) from exc


# -- plain text ----------------------------------------------------------------------------
def read_text(ctx: ReadContext) -> Iterator[Document]:
    """One document per file: the first line is the title when it is short, the rest the body."""
    data = _read_bytes(ctx.file)
    if len(data) > _max_doc_bytes(ctx.spec):
        ctx.skip("document over the size limit")
        return
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        ctx.skip("binary data, not text")
        return
    text = decode_document(data)
    if text is None:
        ctx.skip("not UTF-8 text")
        return
    text = text.strip()
    if not text:
        ctx.skip("empty document")
        return
    first, _, rest = text.partition("\n")
    title, body = (
        (first.strip(), rest.strip())
        if len(first) <= 200 and rest.strip()
        else (
            "",
            text,
        )
    )
    yield Document(
        doc_id=content_id(text),
        source_id=ctx.spec.id,
        title=title,
        text=body,
        lang=lang_code(ctx.spec.get("lang")),
        provenance=_provenance(ctx, 1),
    )


# -- JSON lines ----------------------------------------------------------------------------
def _bounded_lines(stream: io.BufferedIOBase, limit: int) -> Iterator[bytes]:
    """The stream's lines, none longer than ``limit + 1`` bytes in memory.

    A longer line is yielded as its first ``limit + 1`` bytes (the reader then skips it as
    over the size limit) and the rest of it is read and dropped in pieces. Iterating the
    stream directly would hold a whole line in memory: one endless line in a small gzip file
    (a gzip bomb) would exhaust it.
    """
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
        yield line


def _open_lines(path: Path, limit: int = DEFAULT_MAX_DOC_BYTES) -> Iterator[bytes]:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as packed:
            yield from _bounded_lines(packed, limit)
    else:
        with path.open("rb") as plain:
            yield from _bounded_lines(plain, limit)


def read_jsonl(ctx: ReadContext) -> Iterator[Document]:
    """One document per line: ``id``, ``title``, ``text`` or ``summary``, ``published``, and
    optional ``lang``, ``source`` (the outlet), ``link``. gzip when the name ends in ``.gz``."""
    yield from documents_from_lines(
        _lines_checked(ctx), ctx, default_lang=lang_code(ctx.spec.get("lang"))
    )


def _lines_checked(ctx: ReadContext) -> Iterator[tuple[int, bytes]]:
    try:
        yield from enumerate(_open_lines(ctx.file.path, _max_doc_bytes(ctx.spec)), start=1)
    except (OSError, EOFError, zlib.error) as exc:
        # A truncated or corrupt gzip: what was read so far stands, the rest is reported.
        ctx.warn(f"stopped reading: {exc}")
        ctx.skip("unreadable rest of file")


def documents_from_lines(
    lines: Iterable[tuple[int, bytes]], ctx: ReadContext, *, default_lang: Lang | None = None
) -> Iterator[Document]:
    """Documents from numbered JSON lines; bad lines are skipped and counted in ``ctx``."""
    limit = _max_doc_bytes(ctx.spec)
    unknown: set[str] = set()
    for number, raw in lines:
        if not raw.strip():
            continue
        if len(raw) > limit:
            ctx.skip("document over the size limit")
            continue
        try:
            line = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            ctx.skip("not UTF-8 text")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            ctx.skip("broken JSON line")
            if ctx.skipped["broken JSON line"] <= 3:
                ctx.warn(f"line {number}: broken JSON")
            continue
        if not isinstance(record, dict):
            ctx.skip("JSON line is not an object")
            continue
        doc = _document_from_record(record, ctx, number, default_lang, unknown)
        if doc is not None:
            yield doc
    if unknown:
        ctx.warn(f"fields not read: {', '.join(sorted(unknown))}")


def _text_field(record: dict[str, Any], name: str) -> str:
    value = record.pop(name, None)
    return value.strip() if isinstance(value, str) else ""


def _document_from_record(
    record: dict[str, Any],
    ctx: ReadContext,
    number: int,
    default_lang: Lang | None,
    unknown: set[str],
) -> Document | None:
    # Strict interpretation: pop every field used, report the rest once per file.
    title = _text_field(record, "title")
    text = _text_field(record, "text")
    summary = _text_field(record, "summary")
    body = text or summary
    link = _text_field(record, "link") or None
    raw_id = record.pop("id", None)
    published_raw = record.pop("published", None)
    lang_raw = record.pop("lang", None)
    outlet = _text_field(record, "source") or None
    record.pop("category", None)
    unknown.update(k for k in record if k not in _JSONL_FIELDS)
    if not title and not body:
        ctx.skip("empty document")
        return None
    doc_id = str(raw_id).strip() if raw_id not in (None, "") else ""
    if not doc_id:
        doc_id = content_id(link) if link else content_id(title, body)
    published = parse_published(published_raw)
    if published_raw and published is None:
        ctx.skip("unreadable published date (kept without date)")
    lang = lang_code(lang_raw) or default_lang
    return Document(
        doc_id=doc_id,
        source_id=ctx.spec.id,
        title=strip_html(title),
        text=strip_html(body),
        published=published,
        lang=lang,
        link=link,
        outlet=outlet,
        provenance=_provenance(ctx, number),
    )


# -- RSS / Atom ----------------------------------------------------------------------------
def _struct_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in value[:6])
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return None


def parse_feed(
    data: bytes, *, source_id: str, file_name: str, file_sha256: str, skipped: dict[str, int]
) -> list[Document]:
    """Documents of an RSS or Atom feed; raises InputError when ``data`` is not a feed."""
    # Imported here (only feed sources need it), by name: feedparser ships no type hints.
    feedparser = importlib.import_module("feedparser")
    try:
        parsed = feedparser.parse(data)
    except (ValueError, LookupError) as exc:
        # feedparser raises on some broken encodings (a declared encoding with a NUL byte,
        # undecodable bytes after a BOM) instead of flagging the feed as bozo.
        raise InputError(f"not an RSS or Atom feed: {exc}", file=file_name) from None
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("feed")):
        reason = parsed.get("bozo_exception") or "no feed elements"
        raise InputError(f"not an RSS or Atom feed: {reason}", file=file_name)
    feed_lang = lang_code(parsed.get("feed", {}).get("language"))
    outlet = parsed.get("feed", {}).get("title") or None
    docs = []
    for index, entry in enumerate(entries, start=1):
        title = strip_html(entry.get("title", "") or "")
        content = entry.get("content") or []
        body_html = (content[0].get("value") if content else None) or entry.get("summary", "")
        body = strip_html(body_html or "")
        if not title and not body:
            skipped["empty document"] = skipped.get("empty document", 0) + 1
            continue
        link = entry.get("link") or None
        doc_id = entry.get("id") or (content_id(link) if link else content_id(title, body))
        published = _struct_time(entry.get("published_parsed")) or _struct_time(
            entry.get("updated_parsed")
        )
        docs.append(
            Document(
                doc_id=str(doc_id),
                source_id=source_id,
                title=title,
                text=body,
                published=published,
                lang=lang_code(entry.get("language")) or feed_lang,
                link=link,
                outlet=outlet,
                provenance=Provenance(
                    source_id=source_id, file_name=file_name, file_sha256=file_sha256, row=index
                ),
            )
        )
    return docs


def read_feed(ctx: ReadContext) -> Iterator[Document]:
    """One document per feed entry (title, summary or content, date, link)."""
    data = _read_bytes(ctx.file)
    yield from parse_feed(
        data,
        source_id=ctx.spec.id,
        file_name=ctx.file.name,
        file_sha256=ctx.file.sha256,
        skipped=ctx.skipped,
    )


# -- HTML ----------------------------------------------------------------------------------
def html_document(
    data: bytes,
    *,
    source_id: str,
    provenance: Provenance,
    skip: Callable[[str], None],
    lang: str | None = None,
    link: str | None = None,
    title: str | None = None,
    max_bytes: int = DEFAULT_MAX_DOC_BYTES,
) -> Document | None:
    """One page as a document: main text, title and date as found by trafilatura; None (and
    the reason counted through ``skip``) when the page holds no text to read. ``lang``,
    ``link`` and ``title`` are used where the page itself says nothing."""
    if len(data) > max_bytes:
        skip("document over the size limit")
        return None
    if b"\x00" in data[:8192]:
        skip("binary data, not text")
        return None
    import trafilatura  # imported here: heavy, and only HTML sources need it

    result = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    meta: dict[str, Any] = {}
    if result is not None:
        meta = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    text = str(meta.get("text") or "").strip()
    found_title = str(meta.get("title") or "").strip() or (title or "").strip()
    if not text:
        skip("no main text in page")
        return None
    if found_title and text.startswith(found_title):
        text = text[len(found_title) :].strip()
    found = _HTML_LANG.search(data[:4096])
    page_lang = lang_code(found.group(1).decode("ascii")) if found else None
    url = link or (str(meta.get("url")) if meta.get("url") else None)
    return Document(
        doc_id=content_id(link) if link else content_id(found_title, text),
        source_id=source_id,
        title=found_title,
        text=text,
        published=parse_published(meta.get("date")),
        lang=page_lang or lang_code(lang),
        link=url,
        outlet=str(meta.get("sitename")) if meta.get("sitename") else None,
        provenance=provenance,
    )


def read_html(ctx: ReadContext) -> Iterator[Document]:
    """One document per HTML page: main text, title and date as found by trafilatura."""
    data = _read_bytes(ctx.file)
    doc = html_document(
        data,
        source_id=ctx.spec.id,
        provenance=_provenance(ctx, 1),
        skip=ctx.skip,
        lang=ctx.spec.get("lang"),
        max_bytes=_max_doc_bytes(ctx.spec),
    )
    if doc is not None:
        yield doc


# -- choosing a source for a file ----------------------------------------------------------
_BY_SUFFIX = (
    ((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json.gz"), "news-jsonl"),
    ((".xml", ".rss", ".atom"), "news-feed"),
    ((".html", ".htm", ".xhtml"), "news-html"),
)


def news_specs() -> list[SourceSpec]:
    """Specs of every news or notices source."""
    return [s for s in load_specs().values() if s.kind in ("news", "notices")]


def spec_for_file(path: Path, source_id: str | None = None) -> SourceSpec:
    """The source of a news file: named, else the spec whose ``files`` pattern matches the
    name, else the generic reader for the file's suffix (plain text for anything else)."""
    if source_id is not None:
        spec = get_spec(source_id)
        if spec.kind not in ("news", "notices"):
            raise InputError(f"source {source_id!r} is a {spec.kind} source, not news", file=path)
        return spec
    name = path.name
    for spec in news_specs():
        for pattern in spec.get("files", []) or []:
            if Path(name).match(str(pattern)):
                return spec
    lowered = name.lower()
    for suffixes, sid in _BY_SUFFIX:
        if lowered.endswith(suffixes):
            return get_spec(sid)
    return get_spec("news-text")
