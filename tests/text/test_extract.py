"""Event extraction on short sentences composed for these tests, in all five languages."""

from __future__ import annotations

import datetime as dt

import pytest

from ews.catalog import Catalog
from ews.records import Document, Provenance
from ews.text.extract import Extractor, event_id, split_sentences

PROV = Provenance(source_id="test", file_name="t.jsonl", file_sha256="0" * 64, row=1)
PUBLISHED = dt.datetime(2025, 10, 9, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def extractor(catalog: Catalog) -> Extractor:
    return Extractor(catalog)


def doc(title: str, text: str = "", *, lang: str | None = None, doc_id: str = "d1") -> Document:
    return Document(
        doc_id=doc_id,
        source_id="test",
        title=title,
        text=text,
        published=PUBLISHED,
        lang=lang,  # type: ignore[arg-type]
        provenance=PROV,
    )


def groups(catalog: Catalog, items: tuple[str, ...]) -> set[str]:
    return {catalog.items[hs].group for hs in items if hs in catalog.items}


# (title, expected event type, country, item group). Sentences written for the tests.
POSITIVE = [
    # English
    (
        "China bans exports of gallium and germanium",
        "export_restriction",
        "CN",
        "gallium_germanium",
    ),
    ("Indonesia imposes an export tax on nickel ore", "export_restriction", "ID", "nickel"),
    ("China lifts its export ban on graphite", "restriction_eased", "CN", "graphite"),
    (
        "China suspends rare earth export controls for a year",
        "restriction_eased",
        "CN",
        "rare_earths",
    ),
    ("Fire halts production at a Chilean copper smelter", "production_disruption", "CL", "copper"),
    # Vietnamese (accented and unaccented)
    ("Trung Quốc cấm xuất khẩu đất hiếm sang Mỹ", "export_restriction", "CN", "rare_earths"),
    ("Trung Quoc cam xuat khau dat hiem", "export_restriction", "CN", "rare_earths"),
    (
        "Trung Quốc tạm dừng áp dụng biện pháp kiểm soát xuất khẩu đất hiếm",
        "restriction_eased",
        "CN",
        "rare_earths",
    ),
    ("Indonesia dỡ bỏ lệnh cấm xuất khẩu quặng niken", "restriction_eased", "ID", "nickel"),
    # Chinese (simplified and traditional)
    ("中国对镓和锗实施出口管制", "export_restriction", "CN", "gallium_germanium"),
    ("中國宣布禁止出口稀土", "export_restriction", "CN", "rare_earths"),
    ("中国宣布暂停实施稀土出口管制措施", "restriction_eased", "CN", "rare_earths"),
    # Japanese
    ("中国がガリウムの輸出規制を強化", "export_restriction", "CN", "gallium_germanium"),
    ("インドネシア政府はニッケル鉱石の輸出禁止を解除した", "restriction_eased", "ID", "nickel"),
    # Korean
    ("중국, 희토류 수출 통제 강화", "export_restriction", "CN", "rare_earths"),
    ("중국이 요소 수출을 제한했다", "export_restriction", "CN", "nitrogen_fertilisers"),
    ("중국 정부, 흑연 수출 통제 유예", "restriction_eased", "CN", "graphite"),
]


@pytest.mark.parametrize(("title", "etype", "country", "group"), POSITIVE)
def test_disruptions_and_easings(
    extractor: Extractor, catalog: Catalog, *, title: str, etype: str, country: str, group: str
) -> None:
    events = extractor.extract(doc(title))
    found = {(e.event_type, e.country) for e in events}
    assert (etype, country) in found, (title, [(e.event_type, e.country) for e in events])
    match = next(e for e in events if (e.event_type, e.country) == (etype, country))
    assert group in groups(catalog, match.items)
    assert match.evidence and 0.5 <= match.confidence <= 1.0 and match.matched


# Negations, hypotheticals and cooperation: no disruption event.
NO_DISRUPTION = [
    "China has no plan to restrict exports of rare earths",
    "Beijing could restrict gallium exports if talks fail",
    "Trung Quốc không có kế hoạch hạn chế xuất khẩu đất hiếm",
    "Trung Quốc có thể hạn chế xuất khẩu gali",
    "中国没有限制出口稀土的计划",
    "中国可能考虑限制锂出口",
    "中国はレアアースを輸出制限する予定はない",
    "中国がガリウムの輸出規制を検討",
    "정부는 요소 수출을 제한할 계획이 없다고 밝혔다",
    "중국이 희토류 수출을 제한할 수 있다는 우려가 나온다",
    "Korea, the US and Japan signed an agreement on critical minerals supply chains",
    "Hàn Quốc và Mỹ ký thỏa thuận hợp tác về khoáng sản đất hiếm",
    "韩美日就稀土供应链合作举行对话",
    "日米韓、重要鉱物の協力で合意",
    "한미일, 핵심광물 공급망 협력 대화 개최",
    "The government announced USD 20 million in grants for a lithium refinery",
]


@pytest.mark.parametrize("title", NO_DISRUPTION)
def test_negation_hypothesis_and_cooperation_make_no_disruption(
    extractor: Extractor, title: str
) -> None:
    events = extractor.extract(doc(title))
    kinds = {e.event_type for e in events}
    assert kinds <= {"cooperation"}, (title, kinds)


@pytest.mark.parametrize(
    "title",
    [
        "Hàn Quốc và Mỹ ký thỏa thuận hợp tác về khoáng sản đất hiếm",
        "The government announced USD 20 million in grants for a lithium refinery",
        "日米韓、レアアースの協力で合意",
    ],
)
def test_cooperation_is_reported_as_context(extractor: Extractor, title: str) -> None:
    assert {e.event_type for e in extractor.extract(doc(title))} == {"cooperation"}


@pytest.mark.parametrize(
    ("title", "lang", "expected"),
    [
        ("China bans gallium exports from 1 December", "en", dt.date(2025, 12, 1)),
        ("Trung Quốc cấm xuất khẩu gali kể từ ngày 1/12", "vi", dt.date(2025, 12, 1)),
        ("中国自12月1日起禁止出口镓", "zh", dt.date(2025, 12, 1)),
        ("中国は12月1日からガリウムの輸出を禁止", "ja", dt.date(2025, 12, 1)),
        ("중국은 12월 1일부터 갈륨 수출을 금지한다", "ko", dt.date(2025, 12, 1)),
        ("China bans gallium exports", "en", dt.date(2025, 10, 9)),
    ],
)
def test_effective_date_else_publication(
    extractor: Extractor, title: str, lang: str, expected: dt.date
) -> None:
    events = [e for e in extractor.extract(doc(title)) if e.event_type == "export_restriction"]
    assert events, title
    assert events[0].date == expected
    assert events[0].lang == lang


def test_event_id_is_stable_and_order_free(extractor: Extractor) -> None:
    assert event_id("d", "export_restriction", "CN", ["b", "a"]) == event_id(
        "d", "export_restriction", "CN", ["a", "b"]
    )
    assert len(event_id("d", "sanction", None, [])) == 16
    first = extractor.extract(doc("China bans exports of gallium"))
    again = extractor.extract(doc("China bans exports of gallium"))
    assert [e.event_id for e in first] == [e.event_id for e in again]
    e = first[0]
    assert e.event_id == event_id(e.doc_id, e.event_type, e.country, e.items)


def test_target_country_is_not_the_actor(extractor: Extractor) -> None:
    events = extractor.extract(doc("일본, 한국에 대한 반도체 소재 수출 규제 강화"))
    assert {e.country for e in events} == {"JP"}
    events = extractor.extract(doc("中国对美国实施镓出口管制"))
    assert {e.country for e in events} == {"CN"}


def test_title_supplies_country_and_items_to_the_body(extractor: Extractor) -> None:
    events = extractor.extract(
        doc(
            "Trung Quốc siết xuất khẩu đất hiếm",
            "Bộ Thương mại thông báo mở rộng biện pháp kiểm soát xuất khẩu.",
        )
    )
    assert events and all(e.country == "CN" for e in events)


@pytest.mark.parametrize(
    "title",
    [
        "   ",
        "Nhà hàng mở cửa đón khách dịp cuối tuần",
        "The weather was pleasant in the capital on Sunday",
        "한국 축구 대표팀이 경기에서 승리했다",
    ],
)
def test_unrelated_or_empty_text_gives_nothing(extractor: Extractor, title: str) -> None:
    assert extractor.extract(doc(title)) == []


def test_empty_document_gives_nothing(extractor: Extractor) -> None:
    assert extractor.extract(doc("", "")) == []


def test_ambiguous_item_needs_context(extractor: Extractor) -> None:
    # "đồng" is copper only near trade words; as money it is not an item.
    money = extractor.extract(doc("Nhà máy bị cháy, thiệt hại 500 triệu đồng"))
    assert all("7403" not in e.items for e in money)
    metal = extractor.extract(doc("Chile tạm dừng xuất khẩu quặng đồng"))
    assert any(e.items for e in metal)


def test_sentence_splitting_keeps_abbreviations() -> None:
    text = "The U.S. Department said so. China replied on 9.10 with controls! Done"
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        "The U.S. Department said so.",
        "China replied on 9.10 with controls!",
        "Done",
    ]


# A measure aimed at one country keeps its target (sentences written for the tests).
AIMED = [
    ("China bans exports of gallium and antimony to the US", "en", "CN", "US"),
    ("Trung Quốc cấm xuất khẩu gali sang Mỹ", "vi", "CN", "US"),
    ("中国、日本向けのデュアルユース品目の輸出を禁止", "ja", "CN", "JP"),
    ("중국, 일본에 대한 이중용도 물자 수출 금지", "ko", "CN", "JP"),
    ("China restricts gallium exports", "en", "CN", None),
]


@pytest.mark.parametrize(("title", "lang", "actor", "target"), AIMED)
def test_a_measure_keeps_the_country_it_is_aimed_at(
    extractor: Extractor, title: str, lang: str, actor: str, target: str | None
) -> None:
    (event,) = [e for e in extractor.extract(doc(title, lang=lang)) if e.event_type != "sanction"]
    assert (event.event_type, event.country, event.target) == ("export_restriction", actor, target)


@pytest.mark.parametrize(
    ("title", "lang", "group"),
    [
        ("日 정부, 반도체 등 핵심소재 韓 수출 규제 공식화", "ko", "semiconductor_materials"),
        ("日本、半導体製造に必要な化学製品の輸出管理を強化", "ja", "semiconductor_materials"),
        ("US curbs exports of chips to China", "en", "chips"),
    ],
)
def test_a_product_named_before_a_materials_word_stands_for_its_materials(
    extractor: Extractor, catalog: Catalog, title: str, lang: str, group: str
) -> None:
    (event,) = extractor.extract(doc(title, lang=lang))
    assert groups(catalog, event.items) == {group}


def test_the_body_of_an_easing_does_not_retell_the_ban_as_news(extractor: Extractor) -> None:
    events = extractor.extract(
        doc(
            "Indonesia: Government removed the export ban on copper concentrate",
            "In March the Minister of Energy and Mineral Resources of Indonesia issued a "
            "regulation establishing the export ban on copper concentrate.",
            lang="en",
        )
    )
    assert [(e.event_type, e.country) for e in events] == [("restriction_eased", "ID")]


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("산업통상자원부가 중국의 희토류 수출 통제에 따른 수급 동향을 점검했다", "ko"),
        ("美国商务部回应中国的稀土出口管制", "zh"),
    ],
)
def test_the_owner_of_a_measure_is_its_actor(extractor: Extractor, title: str, lang: str) -> None:
    (event,) = extractor.extract(doc(title, lang=lang))
    assert (event.event_type, event.country) == ("export_restriction", "CN")
