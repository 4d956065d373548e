from __future__ import annotations

import unicodedata
from collections import Counter

import pytest

from ews.catalog import Catalog
from ews.records import NAME_KEYS

SECTORS = {"critical_minerals", "semiconductors", "batteries", "fertilisers", "pharmaceuticals"}


def test_at_least_sixty_items_across_all_sectors(catalog: Catalog) -> None:
    assert len(catalog.items) >= 60
    counts = Counter(i.sector for i in catalog.items.values())
    assert set(counts) >= SECTORS, counts


def test_every_item_is_a_real_hs_code_of_4_or_6_digits(catalog: Catalog) -> None:
    for item in catalog.items.values():
        assert item.hs in catalog.hs
        assert catalog.hs[item.hs].level in (4, 6)
        assert item.hs_description == catalog.hs[item.hs].description


def test_every_name_is_present_and_nfc(catalog: Catalog) -> None:
    for entry in [*catalog.items.values(), *catalog.groups.values()]:
        assert set(entry.names) == set(NAME_KEYS)
        for text in entry.names.values():
            assert text and unicodedata.is_normalized("NFC", text)


@pytest.mark.parametrize(
    ("query", "hs"),
    [
        ("urea", "310210"),
        ("요소", "310210"),
        ("尿素", "310210"),
        ("urê", "310210"),
        ("ure", "310210"),  # Vietnamese without diacritics
        ("3102", "310210"),
        ("ガリウム", "811292"),
        ("镓", "811292"),
        ("鎵", "811292"),  # traditional Chinese
        ("gali", "811292"),
        ("đất hiếm", "280530"),
        ("dat hiem", "280530"),
        ("희토류", "280530"),
        ("稀土", "280530"),
        ("lithium-ion", "850760"),
        ("than chì", "250410"),
    ],
)
def test_search_finds_items_in_any_language(catalog: Catalog, query: str, hs: str) -> None:
    assert hs in {i.hs for i in catalog.search_items(query)}


def test_search_with_no_query_lists_all(catalog: Catalog) -> None:
    assert len(catalog.search_items("")) == len(catalog.items)


def test_all_iso_countries_with_five_language_names(catalog: Catalog) -> None:
    assert len(catalog.countries) == 249
    assert "NA" in catalog.countries  # Namibia, not a missing value
    for country in catalog.countries.values():
        assert all(country.names[k] for k in NAME_KEYS)


@pytest.mark.parametrize(
    ("name", "iso2"),
    [
        ("South Korea", "KR"),
        ("Rep. of Korea", "KR"),
        ("한국", "KR"),
        ("韓国", "KR"),
        ("Hàn Quốc", "KR"),
        ("Han Quoc", "KR"),
        ("USA", "US"),
        ("미국", "US"),
        ("Hoa Kỳ", "US"),
        ("中国", "CN"),
        ("中國", "CN"),
        ("Trung Quốc", "CN"),
        ("日本", "JP"),
        ("Nhật Bản", "JP"),
        ("Viet Nam", "VN"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("UAE", "AE"),
        ("Hong Kong", "HK"),
        ("Czech Republic", "CZ"),
        ("Russia", "RU"),
        ("Taiwan", "TW"),
        ("KOR", "KR"),
        ("410", "KR"),
    ],
)
def test_country_names_resolve(catalog: Catalog, name: str, iso2: str) -> None:
    assert catalog.country_code(name) == iso2


def test_unknown_country_is_none(catalog: Catalog) -> None:
    assert catalog.country_code("Atlantis") is None
    assert catalog.country_code("") is None


def test_item_for_code_falls_back_to_heading(catalog: Catalog) -> None:
    exact = catalog.item_for_code("3102.10")
    assert exact is not None and exact.hs == "310210"
    # 750110 is not in the catalogue; its heading 7501 is.
    assert "750110" not in catalog.items
    heading = catalog.item_for_code("7501.10")
    assert heading is not None and heading.hs == "7501"
    assert catalog.item_for_code("999999") is None
