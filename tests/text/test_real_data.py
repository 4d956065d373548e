"""Extraction on the real documents of ../shared/data (skipped when the folder is absent).

The documents are read where they lie; nothing of their text is copied into the project.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from ews.catalog import Catalog
from ews.records import Event
from ews.text.extract import DISRUPTIONS, Extractor
from ews.text.ingest import open_documents
from tests.conftest import shared_file


def extract_file(path: Path, catalog: Catalog) -> list[Event]:
    extractor = Extractor(catalog)
    _, _, docs = open_documents(path, catalog, source_id=None, max_bytes=2**31)
    return [e for doc in docs for e in extractor.extract(doc)]


def rare_earth(event: Event, catalog: Catalog) -> bool:
    return any(
        (item := catalog.item_for_code(hs)) is not None and item.group == "rare_earths"
        for hs in event.items
    )


@pytest.mark.slow
def test_vietnamese_news_china_rare_earth_controls_and_suspension(catalog: Catalog) -> None:
    path = shared_file("news/vi/vi-news-2025-08_2026-08.jsonl.gz")
    extractor = Extractor(catalog)
    _, _, docs = open_documents(path, catalog, source_id=None, max_bytes=2**31)
    # Only the documents naming rare earths are extracted, to keep the test quick; the
    # benchmark (bench/extract.py) runs the whole set.
    events = [
        e
        for doc in docs
        if "hiếm" in (doc.title + doc.text).lower()
        for e in extractor.extract(doc)
    ]
    cn_re = [e for e in events if e.country == "CN" and rare_earth(e, catalog)]
    restricted = {e.date for e in cn_re if e.event_type == "export_restriction"}
    eased = {e.date for e in cn_re if e.event_type == "restriction_eased"}
    # Announced on 9 October 2025 ...
    assert dt.date(2025, 10, 9) in restricted
    assert min(d for d in restricted if d >= dt.date(2025, 10, 1)) == dt.date(2025, 10, 9)
    # ... suspended for a year in early November 2025.
    assert any(dt.date(2025, 10, 30) <= d <= dt.date(2025, 11, 15) for d in eased)
    # The controls are not "eased" before they exist, nor restricted during the suspension.
    assert not any(dt.date(2025, 10, 1) <= d < dt.date(2025, 10, 25) for d in eased)
    counts = Counter(e.event_type for e in cn_re)
    assert counts["export_restriction"] >= 5 and counts["restriction_eased"] >= 2


def test_policy_notices_subsidies_are_not_disruptions(catalog: Catalog) -> None:
    path = shared_file("policy/critical-minerals-notices.jsonl")
    extractor = Extractor(catalog)
    _, _, docs = open_documents(path, catalog, source_id=None, max_bytes=2**31)
    subsidy_titles = ("subsid", "grant", "funding", "loan", "financing", "state aid")
    checked = 0
    for doc in docs:
        title = doc.title.lower()
        events = extractor.extract(doc)
        if any(w in title for w in subsidy_titles) and "export" not in title:
            checked += 1
            title_events = [e for e in events if e.evidence == doc.title]
            assert not any(e.event_type in DISRUPTIONS for e in title_events), doc.doc_id
        if title.split(": ", 1)[-1].startswith("export ban"):
            assert any(e.event_type == "export_restriction" for e in events), doc.doc_id
    assert checked >= 100


def test_seed_articles_on_dialogues_are_not_disruptions(catalog: Catalog) -> None:
    seeds = shared_file("news/seeds")
    files = sorted(seeds.glob("*.txt"))
    assert len(files) == 5
    for path in files:
        kinds = {e.event_type for e in extract_file(path, catalog)}
        assert kinds <= {"cooperation"}, (path.name, kinds)
