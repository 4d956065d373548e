"""Normalisation and language identification."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ews.text.langid import detect
from ews.text.normalize import clean, fold_latin, match_form, vi_tones


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoà bình", "hòa bình"),
        ("Thuỷ điện", "Thủy điện"),
        ("khoẻ mạnh", "khỏe mạnh"),
        ("HOÀ", "HÒA"),
        ("hoàn thành", "hoàn thành"),  # closed syllable: unchanged
        ("quý", "quý"),  # qu- is a consonant
        ("ngoài", "ngoài"),
        ("hòa", "hòa"),
    ],
)
def test_vietnamese_tone_placement(text: str, expected: str) -> None:
    assert vi_tones(text) == expected


def test_clean_composes_and_widens() -> None:
    decomposed = unicodedata.normalize("NFD", "Đất hiếm")
    assert clean(decomposed, "vi") == "Đất hiếm"
    assert clean("ＡＢＣ　１２月１日", "ja") == "ABC 12月1日"


@pytest.mark.parametrize(
    ("term", "folded"),
    [("Đất hiếm", "dat hiem"), ("cấm xuất khẩu", "cam xuat khau"), ("稀土", "稀土")],
)
def test_fold_latin(term: str, folded: str) -> None:
    assert fold_latin(term) == folded


@given(st.text(max_size=200))
def test_match_form_keeps_offsets(text: str) -> None:
    cleaned = clean(text)
    assert len(match_form(cleaned)) == len(cleaned)
    assert vi_tones(vi_tones(cleaned)) == vi_tones(cleaned)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("China imposes export controls on gallium", "en"),
        ("Trung Quốc siết xuất khẩu đất hiếm", "vi"),
        ("Trung Quoc siet xuat khau dat hiem cua nuoc nay trong nam", "vi"),
        ("中国宣布对稀土实施出口管制", "zh"),
        ("中國宣布對稀土實施出口管制", "zh"),
        ("中国がレアアースの輸出を規制", "ja"),
        ("중국이 희토류 수출을 통제한다", "ko"),
        ("", None),
        ("12345 !!!", None),
    ],
)
def test_detect(text: str, lang: str | None) -> None:
    assert detect(text) == lang


@given(st.text(max_size=300))
def test_detect_never_fails(text: str) -> None:
    assert detect(text) in (None, "en", "vi", "zh", "ja", "ko")
