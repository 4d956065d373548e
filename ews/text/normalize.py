"""Text normalisation for matching and display, in en, ko, ja, zh and vi.

Two forms of a text are used:

* the *clean* form (:func:`clean`): NFC, Vietnamese tone marks placed one way, NFKC for
  CJK text (full-width letters and digits become ordinary ones), whitespace runs collapsed.
  Evidence sentences are cut from this form.
* the *match* form (:func:`match_form`): the clean form lower-cased, character for character
  (same length, so an offset in one is the same offset in the other).

Unaccented Vietnamese ("cam xuat khau dat hiem") is matched by adding a diacritic-free copy
of each Latin lexicon term to the automaton (:func:`fold_latin`) rather than by folding the
text: folding the text would make "cấm" (ban) equal to "cam" (orange) and "cảm" (feel) in
the accented news that makes up nearly all real Vietnamese text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# -- Vietnamese tone placement -------------------------------------------------------------
# Real news mixes the two conventions: "hoà"/"hòa", "thuỷ"/"thủy", "khoẻ"/"khỏe". In an open
# syllable with the nucleus oa, oe or uy the tone goes on the first vowel in the more common
# ("old") style, which we keep; when a consonant follows ("hoàn", "khuyến") it stays on the
# second vowel in both styles, so only open syllables are rewritten. "qu" is a consonant:
# "quý" is never rewritten.
_TONES = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # grave, acute, hook, tilde, dot
_PAIRS = (("o", "a"), ("o", "e"), ("u", "y"))


def _compose(base: str, mark: str) -> str:
    return unicodedata.normalize("NFC", base + mark)


def _tone_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for first, second in _PAIRS:
        for f_case in (first, first.upper()):
            for s_case in (second, second.upper()):
                for mark in _TONES:
                    table[f_case + _compose(s_case, mark)] = _compose(f_case, mark) + s_case
    return table


_TONE_TABLE = _tone_table()
_VI_LOWER = "a-zàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
_VI_LETTER = _VI_LOWER + _VI_LOWER.upper()
# A whole syllable: any onset letters (lazily), the nucleus, and no letter after it.
_TONE_RE = re.compile(
    rf"(?<![{_VI_LETTER}])([{_VI_LETTER}]*?)({'|'.join(_TONE_TABLE)})(?![{_VI_LETTER}])"
)
_TONE_QUICK = re.compile("|".join(_TONE_TABLE))


def _fix_tone(match: re.Match[str]) -> str:
    onset, nucleus = match.group(1), match.group(2)
    if onset[-1:] in ("q", "Q"):
        return match.group(0)
    return onset + _TONE_TABLE[nucleus]


def vi_tones(text: str) -> str:
    """Vietnamese text with tone marks of open oa/oe/uy syllables on the first vowel.

    "hoà" -> "hòa", "thuỷ" -> "thủy", "khoẻ" -> "khỏe"; "hoàn", "quý" and "ngoài" are
    unchanged. Expects NFC input; the result has the same length.
    """
    if not _TONE_QUICK.search(text):
        return text
    return _TONE_RE.sub(_fix_tone, text)


# -- scripts -------------------------------------------------------------------------------
CJK_LANGS = frozenset({"ko", "ja", "zh"})
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")


def clean(text: str, lang: str | None = None) -> str:
    """The clean form of ``text`` (see the module docstring); never changes its meaning."""
    if lang in CJK_LANGS or (lang is None and has_fullwidth(text)):
        text = unicodedata.normalize("NFKC", text)
    elif not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if lang == "vi" or lang is None:
        text = vi_tones(text)
    # U+0130 is the one character whose lower case is two characters long; replacing it keeps
    # the match form the same length as the clean form.
    text = text.replace("\u0130", "I")
    return _SPACES.sub(" ", text)


def has_fullwidth(text: str) -> bool:
    """Whether the text holds full-width ASCII forms ('（', 'Ａ'), read in NFKC."""
    return any("\uff01" <= ch <= "\uff5e" for ch in text)


def match_form(clean_text: str) -> str:
    """Lower-cased clean text, the same length as its input (offsets carry over)."""
    return clean_text.lower()


# -- folding of lexicon terms --------------------------------------------------------------
_SPECIAL = str.maketrans({"đ": "d", "Đ": "D"})


@lru_cache(maxsize=16384)
def fold_latin(term: str) -> str:
    """``term`` lower-cased without Latin diacritics ("Đất hiếm" -> "dat hiem").

    Hangul, kana and Han are left intact (NFD would split Hangul syllables; they are
    recomposed). Used to add unaccented copies of Vietnamese lexicon terms.
    """
    out = [
        ch
        for ch in unicodedata.normalize("NFD", term.translate(_SPECIAL))
        if unicodedata.category(ch) != "Mn"
    ]
    return unicodedata.normalize("NFC", "".join(out)).lower()


_VI_MARKED = frozenset("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ")


def vi_mark_ratio(text: str) -> float:
    """Share of letters carrying a Vietnamese diacritic (about 0.3 in accented Vietnamese)."""
    # map() over C methods: a Python-level loop over characters cost a quarter of extraction,
    # and a Unicode character-class regex is slower still.
    letters = sum(map(str.isalpha, text))
    if not letters:
        return 0.0
    return sum(map(_VI_MARKED.__contains__, text.lower())) / letters
