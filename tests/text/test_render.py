"""English renderings of events: actor, measure, goods, target and date, in five languages.

The sentences here are short ones written for the tests; the real Vietnamese sentence is read
from ../shared/data at test time (skipped when absent) and never copied into the project.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata

import pytest

from ews.catalog import Catalog
from ews.records import Document, Event, Provenance
from ews.text.extract import Extractor
from ews.text.gloss import Glossary
from ews.text.render import (
    UNKNOWN_ACTOR,
    UNSPECIFIED_GOODS,
    evidence_key,
    goods_name,
    render,
    render_event,
)
from tests.conftest import shared_file

PUBLISHED = dt.datetime(2025, 10, 9, 8, 0)
PROV = Provenance(source_id="test", file_name="t.jsonl", file_sha256="0" * 64, row=1)


@pytest.fixture(scope="module")
def glossary(catalog: Catalog) -> Glossary:
    return Glossary(catalog)


@pytest.fixture(scope="module")
def extractor(catalog: Catalog, glossary: Glossary) -> Extractor:
    return Extractor(catalog, lexicon=glossary.lexicon)


def one_event(extractor: Extractor, text: str, lang: str) -> Event:
    doc = Document(
        doc_id="d1", source_id="test", text=text, published=PUBLISHED, lang=lang, provenance=PROV
    )
    events = extractor.extract(doc)
    assert len(events) == 1, events
    return events[0]


@pytest.mark.parametrize(
    ("lang", "text", "target", "stated"),
    [
        # China tightens rare-earth export controls towards the US from 1 December.
        (
            "vi",
            "Trung Quốc siết chặt kiểm soát xuất khẩu đất hiếm sang Mỹ từ ngày 1/12.",
            "United States",
            True,
        ),
        # China says it will control rare-earth exports to the United States.
        ("ko", "중국이 미국에 대한 희토류 수출을 통제한다고 밝혔다.", "United States", False),
        # China announced it will restrict rare-earth exports bound for Japan.
        ("ja", "中国は日本向けのレアアース輸出を規制すると発表した。", "Japan", False),
        ("zh", "中国宣布对美国实施稀土出口管制。", "United States", False),
    ],
)
def test_china_rare_earth_controls_render_in_english(
    extractor: Extractor,
    catalog: Catalog,
    glossary: Glossary,
    lang: str,
    text: str,
    target: str,
    stated: bool,
) -> None:
    event = one_event(extractor, text, lang)
    r = render_event(event, catalog, glossary)
    assert r.actor == "China"
    assert r.measure.startswith("export restriction")
    assert r.goods == "rare earths"
    assert r.target == target
    assert r.date_stated is stated
    assert r.effective == ("2025-12-01" if stated else "2025-10-09")
    assert r.summary() == (
        f"China — {r.measure} on rare earths, targeting {target}, "
        f"{'effective 2025-12-01' if stated else 'reported 2025-10-09'}"
    )


def test_measure_detail_comes_from_the_matched_terms(
    extractor: Extractor, catalog: Catalog, glossary: Glossary
) -> None:
    event = one_event(
        extractor,
        "China requires export licences for rare earths shipped to the United States "
        "from 1 December.",
        "en",
    )
    r = render_event(event, catalog, glossary)
    assert r.measure == "export restriction (licence requirement)"
    assert r.summary() == (
        "China — export restriction (licence requirement) on rare earths, "
        "targeting United States, effective 2025-12-01"
    )
    # Korean: a ban (금지) on urea exports; the measure says "ban", the goods the urea item.
    ko = one_event(extractor, "중국 정부가 요소 수출을 금지했다.", "ko")
    rk = render_event(ko, catalog, glossary)
    assert (rk.actor, rk.measure, rk.target) == ("China", "export restriction (ban)", None)
    assert rk.goods.startswith("urea")


def test_actor_named_twice_is_no_target(catalog: Catalog, glossary: Glossary) -> None:
    # "Beijing" is China too: the actor's own places never become the target.
    r = render(
        catalog,
        glossary,
        event_type="export_restriction",
        country="CN",
        items=("280530",),
        date=dt.date(2025, 10, 9),
        evidence="Trung Quốc siết xuất khẩu đất hiếm, Bắc Kinh cho biết.",
        lang="vi",
    )
    assert r.target is None
    assert r.goods == "rare-earth metals, scandium and yttrium"


def test_missing_fields_are_said_not_invented(catalog: Catalog, glossary: Glossary) -> None:
    r = render(
        catalog,
        glossary,
        event_type="shortage",
        country=None,
        items=(),
        date=dt.date(2025, 3, 1),
        evidence="",
        lang="en",
    )
    assert (r.actor, r.goods, r.target) == (UNKNOWN_ACTOR, UNSPECIFIED_GOODS, None)
    assert r.summary() == "Unknown actor — shortage, reported 2025-03-01"
    # Without stored items (a partner's evidence), goods come from the sentence itself.
    partner = render(
        catalog,
        glossary,
        event_type="export_restriction",
        country="CN",
        items=(),
        date=dt.date(2025, 10, 9),
        evidence="中国宣布对美国实施稀土出口管制。",
        lang="zh",
    )
    assert partner.goods == "rare earths" and partner.target == "United States"


def test_goods_name_families_and_items(catalog: Catalog) -> None:
    assert goods_name(catalog, ["280530", "284610"]) == "rare earths"
    assert goods_name(catalog, []) == UNSPECIFIED_GOODS
    assert goods_name(catalog, ["999999"]) == UNSPECIFIED_GOODS
    assert " and " in goods_name(catalog, ["280530", "310210"])


def test_evidence_key_folds_form_space_and_case() -> None:
    nfd = unicodedata.normalize("NFD", "Trung Quốc  siết\txuất khẩu ĐẤT HIẾM")
    assert evidence_key(nfd) == evidence_key("trung quốc siết xuất khẩu đất hiếm")
    assert evidence_key("A b") != evidence_key("A c")


def test_rendering_is_fast(extractor: Extractor, catalog: Catalog, glossary: Glossary) -> None:
    event = one_event(extractor, "中国宣布对美国实施稀土出口管制。", "zh")
    start = time.perf_counter()
    for _ in range(500):
        render_event(event, catalog, glossary)
    assert time.perf_counter() - start < 2.0  # ~0.1 ms each on a laptop; no model


@pytest.mark.slow
def test_real_vietnamese_sentence_on_china_rare_earth_controls(
    catalog: Catalog, glossary: Glossary, extractor: Extractor
) -> None:
    from ews.text.ingest import open_documents

    path = shared_file("news/vi/vi-news-2025-08_2026-08.jsonl.gz")
    _, _, docs = open_documents(path, catalog, source_id=None, max_bytes=2**31)
    rendered = []
    for doc in docs:
        if "hiếm" not in (doc.title + doc.text).lower() or "Mỹ" not in doc.title + doc.text:
            continue
        for e in extractor.extract(doc):
            if (
                e.event_type == "export_restriction"
                and e.country == "CN"
                and dt.date(2025, 10, 1) <= e.date <= dt.date(2025, 10, 31)
                and "Mỹ" in e.evidence
                and {catalog.items[h].group for h in e.items} == {"rare_earths"}
            ):
                rendered.append(render_event(e, catalog, glossary))
    assert rendered
    assert all(r.actor == "China" and r.goods == "rare earths" for r in rendered)
    assert any(r.target == "United States" for r in rendered)
