"""Fixtures of the text tests: a sample of real Vietnamese news (skipped when absent)."""

from __future__ import annotations

from itertools import islice

import pytest

from ews.catalog import Catalog
from ews.records import Document
from ews.text.ingest import open_documents
from tests.conftest import shared_file

VI_NEWS = "news/vi/vi-news-2025-08_2026-08.jsonl.gz"
# Words that make an event likely, so a few hundred documents hold a few dozen events (the
# rest of the sample is ordinary news, where extraction must find nothing on every engine).
_LIKELY = ("xuất khẩu", "nhập khẩu", "đất hiếm", "trừng phạt", "thiếu hụt", "tăng vọt", "cấm")


@pytest.fixture(scope="session")
def vi_sample(catalog: Catalog) -> list[Document]:
    """About 400 real documents from the first 40,000 Vietnamese items (Aug-Oct 2025, with
    China's rare-earth controls of 9 Oct): those naming rare earths (at most 100), 200 spread
    over those with another likely event word, and 100 without any."""
    path = shared_file(VI_NEWS)
    _, _, docs = open_documents(path, catalog, source_id=None, max_bytes=2**31)
    rare: list[Document] = []
    likely: list[Document] = []
    other: list[Document] = []
    for doc in islice(docs, 40_000):
        text = f"{doc.title} {doc.text}".lower()
        if "đất hiếm" in text:
            rare.append(doc)
        elif any(w in text for w in _LIKELY):
            likely.append(doc)
        elif len(other) < 100:
            other.append(doc)
    step = max(1, len(likely) // 200)
    sample = rare[:100] + likely[::step][:200] + other
    sample.sort(key=lambda d: d.provenance.row)
    return sample
