from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ews.catalog.names import fold


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Đất hiếm", "dat hiem"),
        ("dat hiem", "dat hiem"),
        ("Phân  URÊ", "phan ure"),
        ("hoà", "hoa"),
        ("hòa", "hoa"),
        ("ＧＡＬＬＩＵＭ", "gallium"),  # full-width Latin
        ("희토류", "희토류"),  # Hangul survives NFD/NFC
        ("レアアース", "レアアース"),
        ("稀土", "稀土"),
        ("ｶﾞﾘｳﾑ", "ガリウム"),  # half-width katakana -> full-width
        ("ガリウム", "ガリウム"),  # voicing marks are not diacritics: gallium is not カリウム
        ("ジスプロシウム", "ジスプロシウム"),
        ("Ça va", "ca va"),
    ],
)
def test_fold(text: str, key: str) -> None:
    assert fold(text) == key


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_fold_of_ascii_is_casefold_with_single_spaces(text: str) -> None:
    assert fold(text) == " ".join(text.casefold().split())
