"""Structured event files (``ews ingest events``): validated, idempotent, all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ews.catalog import Catalog
from ews.errors import InputError
from ews.sources.sample import sample_files
from ews.store import Store
from ews.text.events_file import ingest_events_file

GOOD = {
    "event_id": "e1",
    "doc_id": "d1",
    "lang": "zh",
    "event_type": "export_restriction",
    "items": ["811292"],
    "country": "CN",
    "date": "2023-08-01",
    "confidence": 0.9,
    "matched": ["出口管制", "镓"],
    "published": "2023-07-03T10:00:00+08:00",
    "link": "https://example.org/notice",
    "source_id": "partner-feed",
}


def write(tmp: Path, rows: list[object]) -> Path:
    path = tmp / "events.jsonl"
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def test_ingest_is_idempotent(store: Store, catalog: Catalog, tmp_path: Path) -> None:
    path = write(tmp_path, [GOOD, {**GOOD, "event_id": "e2", "items": ["282560"]}])
    report = ingest_events_file(store, catalog, path)
    assert (report.events, report.new) == (2, 2)
    assert ingest_events_file(store, catalog, path).already_ingested
    row = store.query("SELECT published, link, source_id FROM documents WHERE doc_id = 'd1'")[0]
    assert row["link"] == GOOD["link"] and row["source_id"] == "partner-feed"
    assert row["published"].hour == 2  # stored in UTC
    assert store.scalar("SELECT count(*) FROM event_items") == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_type": "ban"}, "event_type"),
        ({"items": ["999999"]}, "items"),
        ({"country": "XQ"}, "country"),
        ({"items": "811292"}, "items"),
        ({"event_id": 5}, "event_id"),
    ],
)
def test_bad_line_refuses_the_file(
    store: Store, catalog: Catalog, tmp_path: Path, change: dict[str, object], field: str
) -> None:
    path = write(tmp_path, [GOOD, {**GOOD, **change, "event_id": change.get("event_id", "e9")}])
    with pytest.raises(InputError) as exc:
        ingest_events_file(store, catalog, path)
    assert exc.value.row == 2 and exc.value.field == field
    assert store.scalar("SELECT count(*) FROM events") == 0


def test_broken_json_and_encoding(store: Store, catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(GOOD) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        ingest_events_file(store, catalog, path)
    path.write_bytes(b'{"event_id": "\xff"}\n')
    with pytest.raises(InputError, match="not UTF-8"):
        ingest_events_file(store, catalog, path)


def test_bundled_sample_has_no_news_text(catalog: Catalog) -> None:
    path = next(p for _, p in sample_files() if p.name == "events-vi.jsonl")
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert "evidence" not in row and "title" not in row and "summary" not in row
        assert row["items"] and all(h in catalog.items for h in row["items"])
