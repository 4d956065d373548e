"""News readers: JSONL (plain and gzip), text, RSS/Atom, HTML, live feeds; bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ews.catalog import Catalog
from ews.errors import InputError
from ews.records import Document
from ews.sources.files import open_input
from ews.sources.news import (
    documents_from_lines,
    lang_code,
    parse_published,
    spec_for_file,
    strip_html,
)
from ews.sources.registry import ReadContext, get_spec

FIXTURES = Path(__file__).parent / "fixtures"


def read(
    path: Path, catalog: Catalog, source: str | None = None
) -> tuple[list[Document], ReadContext]:
    file = open_input(path, max_bytes=2**31)
    spec = spec_for_file(path, source)
    ctx = ReadContext(spec=spec, catalog=catalog, file=file)
    return list(spec.read_function()(ctx)), ctx


def line(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


GOOD = [
    line(
        id="1",
        title="Trung Quốc cấm xuất khẩu gali",
        summary="Câu tự soạn.",
        published="2025-10-09T09:00:00+07:00",
        source="Báo Thử",
        link="https://example.invalid/1",
    ),
    line(
        id="2",
        title="China bans gallium exports",
        text="Composed.",
        published="2025-10-09",
        lang="en",
    ),
]


def test_jsonl_plain_and_gzip_read_the_same(tmp_path: Path, catalog: Catalog) -> None:
    plain = tmp_path / "news.jsonl"
    plain.write_text("\n".join(GOOD) + "\n", encoding="utf-8")
    packed = tmp_path / "news.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    docs, ctx = read(plain, catalog)
    docs_gz, _ = read(packed, catalog)
    assert [d.doc_id for d in docs] == ["1", "2"] == [d.doc_id for d in docs_gz]
    assert docs[0].outlet == "Báo Thử" and docs[0].text == "Câu tự soạn."
    assert docs[0].published is not None and docs[0].published.utcoffset() is not None
    assert docs[1].lang == "en" and docs[0].lang is None
    assert docs[0].provenance.row == 1 and docs[1].provenance.row == 2
    assert ctx.skipped == {}


def test_bad_lines_are_skipped_and_counted(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "mixed.jsonl"
    big = line(id="big", title="x", text="a" * (6 * 1024 * 1024))
    with path.open("wb") as fh:
        fh.write((GOOD[0] + "\n").encode())
        fh.write(b'{"id": "broken", "title": \n')
        fh.write(b"[1, 2, 3]\n")
        fh.write((line(id="empty", title="", text="") + "\n").encode())
        fh.write(line(id="latin1", title="caf\u00e9").encode("latin-1") + b"\n")
        fh.write((big + "\n").encode())
        fh.write(b"\n")
        fh.write((GOOD[1] + "\n").encode())
    docs, ctx = read(path, catalog)
    assert [d.doc_id for d in docs] == ["1", "2"]
    assert ctx.skipped == {
        "broken JSON line": 1,
        "JSON line is not an object": 1,
        "empty document": 1,
        "not UTF-8 text": 1,
        "document over the size limit": 1,
    }
    assert any("line 2" in w for w in ctx.warnings)


def test_unknown_fields_are_reported(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "extra.jsonl"
    path.write_text(line(id="1", title="t", text="b", mood="happy") + "\n", encoding="utf-8")
    _, ctx = read(path, catalog)
    assert ctx.warnings == ["fields not read: mood"]


def test_missing_id_gets_a_content_id(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "noid.jsonl"
    path.write_text(line(title="t", text="b") + "\n", encoding="utf-8")
    docs, _ = read(path, catalog)
    assert docs[0].doc_id.startswith("sha256:") and len(docs[0].doc_id) == 23


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path, catalog: Catalog) -> None:
    data = gzip.compress(("\n".join(GOOD * 200) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    docs, ctx = read(path, catalog)
    assert ctx.skipped.get("unreadable rest of file") == 1
    assert len(docs) < 400


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00\x01\x02binary\x00data", "binary data, not text"),
        ("caf\u00e9 na\u00efve".encode("latin-1"), "not UTF-8 text"),
        (b"   \n\n  ", "empty document"),
    ],
)
def test_text_file_problems_are_skipped(
    tmp_path: Path, catalog: Catalog, content: bytes, reason: str
) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(content)
    docs, ctx = read(path, catalog)
    assert docs == [] and ctx.skipped == {reason: 1}


def test_fifty_megabyte_document_is_skipped(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.write(b"China bans gallium exports. " * (50 * 1024 * 1024 // 28 + 1))
    docs, ctx = read(path, catalog)
    assert docs == [] and ctx.skipped == {"document over the size limit": 1}


def test_text_file_first_line_is_title(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "note.txt"
    path.write_text("\ufeffA composed title\nA composed body.\nMore body.", encoding="utf-8")
    docs, _ = read(path, catalog)
    assert docs[0].title == "A composed title"
    assert docs[0].text == "A composed body.\nMore body."


def test_utf16_text_with_bom(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "u16.txt"
    path.write_bytes("중국 희토류\n수출 통제 강화".encode("utf-16"))
    docs, _ = read(path, catalog)
    assert docs[0].title == "중국 희토류"


def test_rss_fixture(catalog: Catalog) -> None:
    docs, ctx = read(FIXTURES / "synthetic-rss.xml", catalog)
    assert [d.doc_id for d in docs] == ["synthetic-a1", "synthetic-a2"]
    assert docs[0].text == "The ministry of an invented country said so."
    assert docs[0].lang == "en" and docs[0].outlet == "Synthetic Wire (test fixture)"
    assert docs[0].published is not None and docs[0].published.isoformat().startswith("2025-11-10")
    assert ctx.skipped == {"empty document": 1}


def test_atom_fixture(catalog: Catalog) -> None:
    docs, _ = read(FIXTURES / "synthetic-atom.xml", catalog)
    assert [d.doc_id for d in docs] == ["urn:example:b1", "urn:example:b2"]
    assert docs[1].text == "Nội dung tự soạn."
    assert all(d.lang == "vi" for d in docs)


def test_not_a_feed_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(b"\x00\x01 this is no feed")
    with pytest.raises(InputError, match="not an RSS or Atom feed"):
        read(path, catalog)


def test_html_fixture(catalog: Catalog) -> None:
    docs, _ = read(FIXTURES / "synthetic-page.html", catalog)
    (doc,) = docs
    assert doc.title == "Synthetic notice page"
    assert "tungsten ore" in doc.text and "Home" not in doc.text
    assert doc.lang == "en"
    assert doc.published is not None and doc.published.date().isoformat() == "2025-03-04"


def test_source_chosen_by_file_name() -> None:
    assert spec_for_file(Path("vi-news-2025-08_2026-08.jsonl.gz")).id == "vi-news"
    assert spec_for_file(Path("critical-minerals-notices.jsonl")).id == "gta-notices"
    assert spec_for_file(Path("x.jsonl.gz")).id == "news-jsonl"
    assert spec_for_file(Path("x.rss")).id == "news-feed"
    assert spec_for_file(Path("x.htm")).id == "news-html"
    assert spec_for_file(Path("x.txt")).id == "news-text"
    with pytest.raises(InputError):
        spec_for_file(Path("x.csv"), "pinksheet")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("vi-VN", "vi"), ("zh-Hant", "zh"), ("EN", "en"), ("fr", None), (3, None)],
)
def test_lang_code(value: object, expected: str | None) -> None:
    assert lang_code(value) == expected


@given(st.one_of(st.none(), st.text(max_size=40), st.integers()))
def test_parse_published_never_raises(value: object) -> None:
    result = parse_published(value)
    assert result is None or result.year >= 1


@given(st.text(max_size=200))
def test_strip_html_never_raises(text: str) -> None:
    assert "<b>" not in strip_html(f"<b>{text}</b>")


@settings(max_examples=60)
@given(st.lists(st.binary(max_size=120), max_size=12))
def test_jsonl_reader_survives_any_bytes(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]
) -> None:
    # Every line is either a document or a counted skip; nothing raises.
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "fuzz.jsonl"
    path.write_bytes(b"x")
    from ews.catalog import load_catalog

    ctx = ReadContext(
        spec=get_spec("news-jsonl"),
        catalog=load_catalog(),
        file=open_input(path, max_bytes=10),
    )
    numbered = [(i, raw.replace(b"\n", b" ")) for i, raw in enumerate(lines, start=1)]
    docs = list(documents_from_lines(numbered, ctx))
    non_blank = sum(1 for _, raw in numbered if raw.strip())
    assert (
        len(docs)
        + sum(ctx.skipped.values())
        - ctx.skipped.get("unreadable published date (kept without date)", 0)
        == non_blank
    )
