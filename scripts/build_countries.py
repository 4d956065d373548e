"""Regenerate ``ews/catalog/data/countries.csv``: the ISO 3166-1 countries in five languages.

Sources: codes, UN M49 regions, English names and simplified Chinese names from github
datasets/country-codes (ODC-PDDL); ko/ja/vi/zh-Hant names curated by the EWS project, kept
with the extra aliases in ``scripts/country_names_curated.csv`` (same licence as the project).

The curated file has one row per ISO alpha-2 code. Its ``name_en`` and ``name_zh_hans`` cells
are optional overrides (empty: the CLDR display name and the UNTERM Chinese short name are
used); ``aliases`` is ``|``-separated, and an entry ``!name`` drops an alias that would
otherwise be derived from the source file (e.g. ``!泽西``, which is part of 新泽西).

The output aliases are the curated ones, then the UN/ISO English and Chinese names of the
source file, then spacing variants of the Korean and Japanese names; an alias equal to one
of the row's own names (ignoring case) is left out, since names are searched too. The build
fails unless every name resolves to one country under the catalogue's folding (NFKC,
case-folded, no Latin diacritics) and the partner names of real trade files resolve.

Usage: python scripts/build_countries.py [path/to/country-codes.csv]
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "codes" / "country-codes.csv"
CURATED = ROOT / "scripts" / "country_names_curated.csv"
OUTPUT = ROOT / "ews" / "catalog" / "data" / "countries.csv"

EXPECTED_ROWS = 249
NAME_KEYS = ("en", "ko", "ja", "zh_hans", "zh_hant", "vi")
COLUMNS = ["iso2", "iso3", "numeric", "region", "subregion"]
COLUMNS += [f"name_{k}" for k in NAME_KEYS] + ["aliases"]

# fmt: off
# Partner names as they occur in real trade files: each must be the English name or an
# alias of exactly one country, and that country must be this one.
TRADE_PARTNERS = {
    "Australia": "AU", "Austria": "AT", "Belgium": "BE", "Brazil": "BR", "Canada": "CA",
    "Czech Republic": "CZ", "Egypt": "EG", "France": "FR", "Germany": "DE", "Hong Kong": "HK",
    "Hungary": "HU", "India": "IN", "Indonesia": "ID", "Iran": "IR", "Italy": "IT",
    "Japan": "JP", "Kazakhstan": "KZ", "Malaysia": "MY", "Mexico": "MX", "Mozambique": "MZ",
    "Netherlands": "NL", "New Zealand": "NZ", "Philippines": "PH", "Poland": "PL",
    "Russia": "RU", "Singapore": "SG", "Slovakia": "SK", "South Africa": "ZA",
    "South Korea": "KR", "Spain": "ES", "Sweden": "SE", "Taiwan": "TW", "Tanzania": "TZ",
    "Thailand": "TH", "Turkey": "TR", "UAE": "AE", "USA": "US", "United Kingdom": "GB",
    "Vietnam": "VN",
}

# Names in any script that must resolve (after folding) to the given country.
KNOWN_NAMES = {
    "Rep. of Korea": "KR", "Korea, Republic of": "KR", "한국": "KR", "대한민국": "KR",
    "韓国": "KR", "韩国": "KR", "韓國": "KR", "Hàn Quốc": "KR", "Han Quoc": "KR",
    "Nam Hàn": "KR", "US": "US", "U.S.": "US", "United States of America": "US",
    "미국": "US", "美国": "US", "米国": "US", "美國": "US", "Mỹ": "US", "Hoa Kỳ": "US",
    "중국": "CN", "中国": "CN", "中華人民共和国": "CN", "中华人民共和国": "CN", "中國": "CN",
    "Trung Quốc": "CN", "China, Hong Kong SAR": "HK", "China, Macao SAR": "MO",
    "Türkiye": "TR", "Viet Nam": "VN", "Việt Nam": "VN", "Russian Federation": "RU",
    "United Arab Emirates": "AE", "Czechia": "CZ", "Iran (Islamic Rep. of)": "IR",
    "UK": "GB", "Britain": "GB", "Great Britain": "GB", "DRC": "CD", "DR Congo": "CD",
    "Congo (Kinshasa)": "CD", "Congo": "CG", "Nhật Bản": "JP", "日本": "JP", "Úc": "AU",
    "Đức": "DE", "Hà Lan": "NL", "Namibia": "NA", "Chinese Taipei": "TW",
}

# Characters found only in simplified (resp. traditional) Chinese, as a guard against a
# name in the wrong column.
SIMPLIFIED_ONLY = set(
    "国门马亚尔兰罗华湾东属岛维纳苏达贝乌几鲁济麦卢伦"
    "联韩汤图库萨冈刚兹内泽圣莱赞"
)
TRADITIONAL_ONLY = set(
    "國門馬亞爾蘭羅華灣東屬島維納蘇達貝烏幾魯濟麥盧倫"
    "聯韓湯圖庫薩岡剛茲內澤聖萊贊"
)
# fmt: on

# Letters that are not a base letter plus a combining mark (mirrors ews.catalog.names).
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "ß": "ss"})


def fold(text: str) -> str:
    """The catalogue's search key (same rules as ``ews.catalog.names.fold``)."""
    text = unicodedata.normalize("NFKC", text).translate(_SPECIAL).casefold()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text)
        kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
        text = unicodedata.normalize("NFC", kept)
    return " ".join(text.split())


@dataclass
class Country:
    iso2: str
    iso3: str
    numeric: str
    region: str
    subregion: str
    names: dict[str, str]
    aliases: list[str] = field(default_factory=list)

    def row(self) -> list[str]:
        return [
            self.iso2,
            self.iso3,
            self.numeric,
            self.region,
            self.subregion,
            *(self.names[k] for k in NAME_KEYS),
            "|".join(self.aliases),
        ]


class BuildError(Exception):
    """The inputs do not give a consistent country table."""


def _text(value: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", value or "").split())


def _un_name(value: str | None) -> str:
    """A UNTERM/ISO name without its footnote marks, '(the)' and leading 'the'."""
    text = re.sub(r"\s*\(the\)", "", _text(value).replace("*", ""))
    text = " ".join(text.split())
    return text[4:] if text.startswith("the ") else text


def _same(text: str) -> str:
    """Key under which an alias repeats another: spelling kept, case ignored.

    Folded forms are not merged here: "Viet Nam" and "Curacao" stay beside "Việt Nam" and
    "Curaçao" for consumers that match exactly (SQL on the store, trade files).
    """
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _read_csv(path: Path) -> list[dict[str, str]]:
    # The csv module never turns "NA" (Namibia) into a missing value.
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _has(text: str, *scripts: str) -> bool:
    return any(any(s in unicodedata.name(ch, "") for s in scripts) for ch in text)


def _check_name(iso2: str, key: str, name: str, errors: list[str]) -> None:
    where = f"{iso2} name_{key}"
    if not name:
        errors.append(f"{where}: empty")
        return
    if "|" in name or name != name.strip():
        errors.append(f"{where}: bad characters in {name!r}")
    if unicodedata.normalize("NFC", name) != name:
        errors.append(f"{where}: not NFC")
    if key == "ko" and not _has(name, "HANGUL"):
        errors.append(f"{where}: {name!r} has no Hangul")
    if key == "ja" and not _has(name, "KATAKANA", "HIRAGANA", "CJK UNIFIED"):
        errors.append(f"{where}: {name!r} has neither kana nor kanji")
    if key in ("zh_hans", "zh_hant") and not _has(name, "CJK UNIFIED"):
        errors.append(f"{where}: {name!r} has no Han characters")
    if key == "zh_hans" and (wrong := set(name) & TRADITIONAL_ONLY):
        errors.append(f"{where}: {name!r} has traditional characters {''.join(sorted(wrong))}")
    if key == "zh_hant" and (wrong := set(name) & SIMPLIFIED_ONLY):
        errors.append(f"{where}: {name!r} has simplified characters {''.join(sorted(wrong))}")
    if key in ("en", "vi") and not _has(name, "LATIN"):
        errors.append(f"{where}: {name!r} is not in Latin script")


def build(source: Path, curated_path: Path) -> list[Country]:
    rows = _read_csv(source)
    curated = {r["iso2"].strip(): r for r in _read_csv(curated_path)}
    errors: list[str] = []
    text = curated_path.read_text(encoding="utf-8")
    if unicodedata.normalize("NFC", text) != text:
        errors.append(f"{curated_path.name}: not NFC-normalised")
    countries: list[Country] = []
    for row in rows:
        iso2 = row["ISO3166-1-Alpha-2"].strip()
        iso3 = row["ISO3166-1-Alpha-3"].strip()
        numeric = row["ISO3166-1-numeric"].strip()
        if not re.fullmatch(r"[A-Z]{2}", iso2) or not re.fullmatch(r"[A-Z]{3}", iso3):
            errors.append(f"{source.name}: bad codes {iso2!r}/{iso3!r} ({row['official_name_en']})")
            continue
        if not numeric.isdigit():
            errors.append(f"{iso2}: bad numeric code {numeric!r}")
            continue
        cur = curated.get(iso2)
        if cur is None:
            errors.append(f"{iso2}: no row in {curated_path.name}")
            continue
        en_source = _text(row["CLDR display name"]) or _un_name(row["official_name_en"])
        zh_source = _un_name(row["UNTERM Chinese Short"]) or _un_name(row["official_name_cn"])
        names = {
            "en": _text(cur["name_en"]) or en_source,
            "ko": _text(cur["name_ko"]),
            "ja": _text(cur["name_ja"]),
            "zh_hans": _text(cur["name_zh_hans"]) or zh_source,
            "zh_hant": _text(cur["name_zh_hant"]),
            "vi": _text(cur["name_vi"]),
        }
        for key, name in names.items():
            _check_name(iso2, key, name, errors)
        own = {_same(n) for n in names.values()}

        curated_aliases: list[str] = []
        dropped: set[str] = set()
        for raw in (cur["aliases"] or "").split("|"):
            alias = _text(raw)
            if alias.startswith("!"):
                dropped.add(_same(alias[1:]))
            elif alias:
                if _same(alias) in own or _same(alias) in map(_same, curated_aliases):
                    errors.append(f"{iso2}: curated alias {alias!r} repeats a name or alias")
                curated_aliases.append(alias)
        derived = [
            en_source,
            _un_name(row["UNTERM English Short"]),
            _un_name(row["UNTERM English Formal"]),
            _un_name(row["official_name_en"]),
            zh_source,
            _un_name(row["UNTERM Chinese Formal"]),
            _un_name(row["official_name_cn"]),
            # "쿡 제도" is also written "쿡제도", "トリニダード・トバゴ" also without the dot.
            names["ko"].replace(" ", "") if names["ko"].count(" ") == 1 else "",
            names["ja"].replace("・", ""),
        ]
        aliases: list[str] = []
        seen = set(own)
        for alias in curated_aliases + derived:
            key = _same(alias)
            if alias and key not in seen and key not in dropped:
                seen.add(key)
                aliases.append(alias)
        for alias in aliases:
            if unicodedata.normalize("NFC", alias) != alias:
                errors.append(f"{iso2}: alias {alias!r} not NFC")
        countries.append(
            Country(
                iso2=iso2,
                iso3=iso3,
                numeric=numeric.zfill(3),
                region=_text(row["Region Name"]),
                subregion=_text(row["Sub-region Name"]),
                names=names,
                aliases=aliases,
            )
        )
    unknown = set(curated) - {c.iso2 for c in countries}
    if unknown:
        errors.append(f"{curated_path.name}: codes not in ISO 3166-1: {sorted(unknown)}")
    if errors:
        raise BuildError("\n".join(errors))
    return sorted(countries, key=lambda c: c.iso2)


def validate(countries: list[Country]) -> list[str]:
    """Fail on any inconsistency; return warnings that do not stop the build."""
    errors: list[str] = []
    if len(countries) != EXPECTED_ROWS:
        errors.append(f"{len(countries)} countries, expected {EXPECTED_ROWS}")
    for attr in ("iso2", "iso3", "numeric"):
        values = [getattr(c, attr) for c in countries]
        if len(set(values)) != len(values):
            errors.append(f"duplicate {attr} codes")
    if "NA" not in {c.iso2 for c in countries}:
        errors.append("Namibia (NA) is missing")

    owner: dict[str, str] = {}
    for country in countries:
        for term in (*country.names.values(), *country.aliases):
            key = fold(term)
            other = owner.setdefault(key, country.iso2)
            if other != country.iso2:
                errors.append(f"{term!r} names both {other} and {country.iso2}")

    for partner, iso2 in TRADE_PARTNERS.items():
        hits = {
            c.iso2
            for c in countries
            if partner.casefold() in {t.casefold() for t in (c.names["en"], *c.aliases)}
        }
        if hits != {iso2}:
            errors.append(f"trade partner {partner!r} resolves to {sorted(hits)}, not {iso2}")
    for name, iso2 in KNOWN_NAMES.items():
        if owner.get(fold(name)) != iso2:
            errors.append(f"{name!r} resolves to {owner.get(fold(name))}, not {iso2}")
    if errors:
        raise BuildError("\n".join(errors))

    # A name that folds to another country's code (Vietnamese "Nga" and Nigeria's NGA, "Mỹ"
    # and Malaysia's MY) is right as a name; a look-up must try names before codes.
    codes = {fold(code): c.iso2 for c in countries for code in (c.iso2, c.iso3)}
    return [
        f"{c.iso2}: {term!r} folds like the code of {codes[fold(term)]}"
        for c in countries
        for term in (*c.names.values(), *c.aliases)
        if codes.get(fold(term), c.iso2) != c.iso2
    ]


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_INPUT
    if not source.is_file():
        print(f"build_countries: no such file {source}", file=sys.stderr)
        return 2
    try:
        countries = build(source, CURATED)
        warnings = validate(countries)
    except BuildError as exc:
        print(f"build_countries: {exc}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    with OUTPUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(c.row() for c in countries)
    n_aliases = sum(len(c.aliases) for c in countries)
    print(f"wrote {len(countries)} countries, {n_aliases} aliases to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
