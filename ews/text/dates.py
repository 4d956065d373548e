"""Effective dates stated in a sentence: "from 1 December", "kể từ ngày 1/12", "12月1日起".

Only phrases that say *from when* a measure applies are read; a bare date ("on 9 October")
is usually the announcement and the publication date already stands for it. A date without a
year takes the publication year, moved to the next year when that would put it more than
half a year before publication ("from 1 January" in a December article).
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = (
    r"(january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_EN_CUE = (
    r"(?:from|as of|effective(?: from| on| as of)?|starting(?: on| from)?|beginning(?: on)?|"
    r"with effect from|takes? effect on|took effect on|come into (?:force|effect) on|"
    r"comes into (?:force|effect) on|came into (?:force|effect) on|applies from|"
    r"will apply from)"
)
_EN = re.compile(
    rf"\b{_EN_CUE}\s+(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH.replace('(', '(?P<m1>', 1)}"
    rf"(?:,?\s+(?P<y1>\d{{4}}))?|{_MONTH.replace('(', '(?P<m2>', 1)}\s+(?P<d2>\d{{1,2}})"
    rf"(?:st|nd|rd|th)?(?:,?\s+(?P<y2>\d{{4}}))?)",
    re.IGNORECASE,
)
_VI = re.compile(
    r"(?:có hiệu lực|áp dụng|bắt đầu|kể từ|từ)\s+(?:từ\s+)?(?:ngày\s+)?"
    r"(?P<d>\d{1,2})\s*(?:[/\-.]\s*|\s+tháng\s+)(?P<m>\d{1,2})"
    r"(?:\s*(?:[/\-.]\s*|\s+năm\s+)(?P<y>\d{4}))?",
    re.IGNORECASE,
)
_ZH = re.compile(
    r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号號]\s*"
    r"(?:起|开始|開始|生效|实施|實施)"
)
_JA = re.compile(
    r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*"
    r"(?:から|以降|より|付け?で|に発効|施行)"
)
_KO = re.compile(
    r"(?:(?P<y>\d{4})\s*년\s*)?(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일\s*(?:부터|부로|이후|자로)"
)


def _resolve(day: int, month: int, year: int | None, published: dt.date | None) -> dt.date | None:
    base_year = year or (published.year if published else None)
    if base_year is None:
        return None
    try:
        found = dt.date(base_year, month, day)
    except ValueError:
        return None
    if year is None and published is not None:
        if (published - found).days > 183:
            try:
                found = dt.date(base_year + 1, month, day)
            except ValueError:
                return None
        elif (found - published).days > 300:
            found = dt.date(base_year - 1, month, day) if not (month == 2 and day == 29) else found
    return found


def effective_date(sentence: str, lang: str, published: dt.date | None) -> dt.date | None:
    """The first effective date the sentence states, or None."""
    if lang == "en":
        m = _EN.search(sentence)
        if not m:
            return None
        if m.group("m1"):
            day, month, year = m.group("d1"), m.group("m1"), m.group("y1")
        else:
            day, month, year = m.group("d2"), m.group("m2"), m.group("y2")
        number = _MONTHS.get(month.lower().rstrip("."))
        if number is None:
            return None
        return _resolve(int(day), number, int(year) if year else None, published)
    pattern = {"vi": _VI, "zh": _ZH, "ja": _JA, "ko": _KO}.get(lang)
    if pattern is None:
        return None
    m = pattern.search(sentence)
    if not m:
        return None
    year_text = m.group("y")
    return _resolve(
        int(m.group("d")), int(m.group("m")), int(year_text) if year_text else None, published
    )
