"""Matched terms read back from the lexicon in English, in all five languages."""

from __future__ import annotations

import pytest

from ews.catalog import Catalog
from ews.text.gloss import Glossary


@pytest.fixture(scope="module")
def glossary(catalog: Catalog) -> Glossary:
    return Glossary(catalog)


@pytest.mark.parametrize(
    ("term", "english", "kind"),
    [
        ("xuất khẩu", "export", "concept"),
        ("xuat khau", "export", "concept"),  # Vietnamese typed without diacritics
        ("수출", "export", "concept"),
        ("輸出", "export", "concept"),
        ("cấm", "restrict", "concept"),
        ("火灾", "outage", "concept"),
        ("停产", "production disruption", "trigger"),  # "production stopped" is the event
        ("稀土", "Rare earths", "item"),  # a family term names the family
        ("요소수", "Urea (incl. aqueous solution)", "item"),
        ("trung quốc", "China", "country"),
        ("中国", "China", "country"),
        ("đánh bom", "conflict", "trigger"),
    ],
)
def test_glosses(glossary: Glossary, term: str, english: str, kind: str) -> None:
    g = glossary.gloss(term)
    assert (g.english, g.kind) == (english, kind)
    assert g.term == term  # the reader sees the word as it was written


def test_unknown_terms_are_not_invented(glossary: Glossary) -> None:
    assert glossary.gloss("không có trong từ điển").english == ""
    assert glossary.gloss("").kind == "unknown"
