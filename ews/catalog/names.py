"""Folding of names for search: any script, with or without Vietnamese diacritics.

``fold`` maps text to a search key: NFKC (full-width forms and CJK compatibility characters
become their ordinary forms), case-folded, Latin diacritics removed (so "Đất hiếm" and
"dat hiem" meet) while Hangul, kana and Han characters stay intact.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Letters that are not a base letter plus a combining mark, so NFD alone cannot strip them.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "ß": "ss"})


def _strip_latin_marks(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFD", text):
        # Only the Latin combining diacritics (U+0300-U+036F, which hold every Vietnamese tone
        # and vowel mark) go: kana voicing marks (U+3099/U+309A) must stay, or ガリウム (gallium)
        # would fold to カリウム (potassium). Hangul jamo from NFD recompose below.
        if not "\u0300" <= ch <= "\u036f":
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Search key for ``text``: NFKC, casefold, no Latin diacritics, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_SPECIAL).casefold()
    if not text.isascii():
        text = _strip_latin_marks(text)
    return " ".join(text.split())
