"""Language identification for en, ko, ja, zh and vi: scripts first, then cheap cues.

Hangul means Korean, kana means Japanese, Han without kana means Chinese. Latin text is
Vietnamese when it carries Vietnamese diacritics or, unaccented, when Vietnamese function
words outnumber English ones. This costs one pass over at most :data:`SAMPLE` characters
and no model, which keeps extraction near the speed of the term scan (a statistical
detector such as lingua runs at ~2.5 MB/s, slower than the whole extractor).
"""

from __future__ import annotations

import re

from ews.records import Lang

SAMPLE = 1500
"""Characters looked at: enough for a stable vote, short enough to be cheap on long texts."""

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
# Letters only Vietnamese uses among our languages (tone-marked vowels, horn, breve, đ).
_VI_CHARS = re.compile(
    r"[ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
    r"ÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ]"
)
_WORD = re.compile(r"[a-z]+")
# Frequent short words of each language, written without diacritics (unaccented Vietnamese
# must still be recognised); words shared by both ("an", "to" is not Vietnamese) are left out.
_VI_WORDS = frozenset(
    [
        "cua",
        "va",
        "cac",
        "nhung",
        "duoc",
        "trong",
        "khong",
        "nguoi",
        "mot",
        "nay",
        "cho",
        "voi",
        "tai",
        "ngay",
        "nam",
        "nuoc",
        "da",
        "se",
        "cung",
        "khi",
        "theo",
        "tu",
        "ve",
        "nhieu",
        "hon",
        "tren",
        "sau",
        "truoc",
        "viet",
        "nam",
        "trung",
        "quoc",
        "thi",
        "la",
        "co",
        "bi",
        "de",
        "ra",
        "vao",
        "xuat",
        "khau",
        "nhap",
        "gia",
        "hang",
    ]
)
_EN_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "in",
        "is",
        "are",
        "was",
        "were",
        "for",
        "on",
        "with",
        "by",
        "from",
        "that",
        "this",
        "as",
        "at",
        "be",
        "has",
        "have",
        "which",
        "will",
        "its",
        "it",
        "an",
        "or",
        "not",
        "their",
        "said",
        "after",
        "new",
        "over",
        "into",
    ]
)


def detect(text: str) -> Lang | None:
    """The language of ``text`` among en, ko, ja, zh, vi; None when it has no letters."""
    sample = text[:SAMPLE]
    hangul = len(_HANGUL.findall(sample))
    kana = len(_KANA.findall(sample))
    han = len(_HAN.findall(sample))
    latin = len(_LATIN.findall(sample))
    cjk = hangul + kana + han
    if cjk == 0 and latin == 0:
        return None
    if cjk >= latin * 0.25 or cjk >= 40:
        # Korean text may carry Han (hanja in headlines), Japanese carries much Han: kana or
        # Hangul, even a little, decide against Chinese.
        if hangul >= max(kana, 1) and hangul * 4 >= han * 0.5:
            return "ko"
        if kana >= 2 or (kana >= 1 and kana * 20 >= han):
            return "ja"
        if han:
            return "zh"
        return "ko" if hangul else "ja"
    return latin_lang(sample)


def latin_lang(text: str) -> Lang:
    """en or vi for Latin-script text (accented or not)."""
    vi_chars = len(_VI_CHARS.findall(text))
    letters = len(_LATIN.findall(text))
    # Accented Vietnamese has a diacritic on about a third of its letters; French or Spanish
    # names in English text stay well below one in twenty.
    if letters and vi_chars / letters >= 0.06:
        return "vi"
    words = _WORD.findall(text.lower())
    vi = sum(1 for w in words if w in _VI_WORDS)
    en = sum(1 for w in words if w in _EN_WORDS)
    return "vi" if vi > en * 1.5 and vi >= 3 else "en"
