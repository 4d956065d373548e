"""The report layer's sentences in English, Korean and Japanese.

The now view and the alert card are written in English (the msgids) and translated through
the ``report`` gettext domain: ``ews/report/locale/{ko,ja}/LC_MESSAGES/report.po``, its
template ``report.pot`` (docs/i18n.md says how to extract and update them). It is a domain of
its own, apart from the dashboard's template catalogue (``ews/web/locale``), because these
sentences are also served by the API and the command line, which know nothing of templates,
and because this layer may not import ``ews.web``.

As in ``ews/web/pages.py``, no compiled ``.mo`` is kept: each ``.po`` is compiled in memory at
first use, so the text that is reviewed is the text that is served; a *fuzzy* entry is left
out (English shows until it is reviewed). Sentences use ``str.format`` with named
placeholders, so a translation may put them in its own order.

Dates, months and amounts are written here too, the way people in each language write them:
"09 Oct 2026", "2026년 10월 9일", "2026年10月9日".
"""

from __future__ import annotations

import datetime as dt
import io
from functools import cache
from importlib import resources
from typing import Final, Literal, TypeGuard, get_args

from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

Lang = Literal["en", "ko", "ja"]
LANGUAGES: Final[tuple[Lang, ...]] = get_args(Lang)
DOMAIN = "report"


def is_language(code: str) -> TypeGuard[Lang]:
    return code in LANGUAGES


def checked(code: str) -> Lang:
    """``code`` as a language of this layer; a ValueError for any other (the callers above
    turn it into their own refusal: 422, exit 2)."""
    if not is_language(code):
        raise ValueError(f"unknown language {code!r}; use one of {', '.join(LANGUAGES)}")
    return code


def compiled_catalogue(package: str, domain: str, lang: str) -> Translations:
    """``<package>/locale/<lang>/LC_MESSAGES/<domain>.po`` compiled in memory: no binary .mo
    is kept in the repository, so the text that is reviewed is the text that is served.
    Fuzzy entries are left out (``write_mo`` skips them): English shows until reviewed. The
    dashboard's template catalogue is compiled here too."""
    source = resources.files(package).joinpath("locale", lang, "LC_MESSAGES", f"{domain}.po")
    with source.open("rb") as po:
        catalog = read_po(po, locale=lang, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


@cache
def translator(lang: str) -> NullTranslations:
    """The catalogue of ``lang`` (``t.gettext``, ``t.ngettext``, ``t.pgettext``). English is
    the source language: its translator hands the msgids back unchanged."""
    if checked(lang) == "en":
        return NullTranslations()
    return compiled_catalogue("ews.report", DOMAIN, lang)


def level_name(level: str, lang: str) -> str:
    """A level in a sentence. English keeps the level's own word; Korean and Japanese use
    each country's crisis vocabulary, as the dashboard does (관심/주의/경계/심각;
    注意/警戒/厳重警戒/深刻). The context keeps the level *alert* apart from an alert."""
    t = translator(lang)
    names = {
        "normal": t.pgettext("level", "normal"),
        "attention": t.pgettext("level", "attention"),
        "caution": t.pgettext("level", "caution"),
        "alert": t.pgettext("level", "alert"),
        "serious": t.pgettext("level", "serious"),
    }
    # Babel types pgettext's answer loosely (object); it is the msgstr or the msgid.
    return str(names.get(level, level))


def day_text(day: dt.date, lang: str, *, year: bool = True) -> str:
    """A day in a sentence: "09 Oct 2026" / "2026년 10월 9일" / "2026年10月9日"; without the
    year "09 Oct" / "10월 9일" / "10月9日". English is as it was before there were languages."""
    if checked(lang) == "en":
        return day.strftime("%d %b %Y" if year else "%d %b")
    if year:
        return format_date(day, format="long", locale=lang)
    return format_skeleton("MMMd", day, locale=lang)


def month_text(day: dt.date, lang: str) -> str:
    """A month in a sentence: "Oct 2026" / "2026년 10월" / "2026年10月"."""
    if checked(lang) == "en":
        return day.strftime("%b %Y")
    return format_skeleton("yMMM", day, locale=lang)


def money_text(usd: float, lang: str) -> str:
    """US dollars as people read them: "$1.2 billion"; Korean and Japanese count in units of
    10^4 and 10^8 (만/억, 万/億), so "12억 달러", "12億ドル"."""
    if checked(lang) == "en":
        if usd >= 1e9:
            return f"${usd / 1e9:,.1f} billion"
        if usd >= 1e6:
            return f"${usd / 1e6:,.1f} million"
        return f"${usd / 1e3:,.0f} thousand"
    hundred_million, ten_thousand, dollars = {
        "ko": ("억 달러", "만 달러", "달러"),
        "ja": ("億ドル", "万ドル", "ドル"),
    }[lang]
    if usd >= 1e8:
        return f"{usd / 1e8:,.1f}{hundred_million}"
    if usd >= 1e4:
        return f"{usd / 1e4:,.0f}{ten_thousand}"
    return f"{usd:,.0f}{dollars}"


def list_text(parts: list[str], lang: str) -> str:
    """Names in a row: Japanese lists with the ideographic comma."""
    return ("、" if lang == "ja" else ", ").join(parts)
