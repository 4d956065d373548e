"""Loading and querying the catalogue shipped in ``ews/catalog/data``.

Files (see data/SOURCES.md): ``items.yaml`` (curated critical items and their families),
``countries.csv`` (ISO 3166-1 with names in five languages), ``hs2022.csv`` (the HS 2022
nomenclature). The catalogue is read-only at run time and validated when loaded: a broken
data file is a packaging bug and fails loudly.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from ews.catalog.names import fold
from ews.errors import EwsError
from ews.records import NAME_KEYS, WORLD, Country, Item, ItemGroup, NameKey

DATA = "ews.catalog.data"


class CatalogError(EwsError):
    """The shipped catalogue data is inconsistent (a packaging bug)."""


@dataclass(frozen=True)
class HsCode:
    """One code of the HS 2022 nomenclature."""

    code: str
    level: int
    parent: str
    section: str
    description: str


@dataclass
class Catalog:
    """Items, groups, countries and the HS nomenclature, with look-ups by any name."""

    items: dict[str, Item]
    groups: dict[str, ItemGroup]
    countries: dict[str, Country]
    hs: dict[str, HsCode]
    context_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    digest: str = ""
    _country_names: dict[str, str] = field(default_factory=dict, repr=False)
    _iso3: dict[str, str] = field(default_factory=dict, repr=False)
    _numeric: dict[str, str] = field(default_factory=dict, repr=False)
    _folded_names: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        folded: dict[str, set[str]] = {}
        for country in self.countries.values():
            self._iso3[country.iso3] = country.iso2
            self._numeric[country.numeric] = country.iso2
            for name in (*country.names.values(), *country.aliases):
                exact = _exact(name)
                other = self._country_names.get(exact)
                if other is not None and other != country.iso2:
                    raise CatalogError(
                        f"country name {name!r} names both {other} and {country.iso2}"
                    )
                self._country_names[exact] = country.iso2
                folded.setdefault(fold(name), set()).add(country.iso2)
        # Without diacritics two names can meet (vi "Áo" Austria, "ao"); such keys stay out.
        self._folded_names = {k: next(iter(v)) for k, v in folded.items() if len(v) == 1}

    # -- items -----------------------------------------------------------------------------
    def item(self, hs: str) -> Item | None:
        return self.items.get(hs.replace(".", "").strip())

    def items_in_group(self, group: str) -> list[Item]:
        return [i for i in self.items.values() if i.group == group]

    def item_for_code(self, code: str) -> Item | None:
        """The catalogue item covering an HS code: itself, or its HS4 heading."""
        code = code.replace(".", "").strip()
        return self.items.get(code) or self.items.get(code[:4])

    def search_items(self, query: str) -> list[Item]:
        """Items whose code, group or any name or alias contains ``query`` (folded)."""
        q = fold(query)
        if not q:
            return sorted(self.items.values(), key=lambda i: i.hs)
        digits = q.replace(".", "")
        found = []
        for item in self.items.values():
            if digits.isdigit() and item.hs.startswith(digits):
                found.append(item)
                continue
            group = self.groups[item.group]
            if any(q in fold(term) for term in _terms(item) + _terms(group) + [item.group]):
                found.append(item)
        return sorted(found, key=lambda i: i.hs)

    # -- countries -------------------------------------------------------------------------
    def country_code(self, name_or_code: str) -> str | None:
        """ISO alpha-2 for a name in any language, an alpha-2/alpha-3 or a numeric code."""
        text = name_or_code.strip()
        if not text:
            return None
        if text.isdigit():
            return self._numeric.get(text.zfill(3))
        if len(text) == 3 and text.isupper() and text in self._iso3:
            return self._iso3[text]
        if len(text) == 2 and text.isupper() and text in self.countries:
            return text
        exact = self._country_names.get(_exact(text))
        return exact if exact is not None else self._folded_names.get(fold(text))

    def country_name(self, iso2: str, key: NameKey = "en") -> str:
        if iso2 == WORLD:
            return "World"
        country = self.countries.get(iso2)
        return country.names[key] if country else iso2

    def is_hs_code(self, code: str) -> bool:
        """A real HS 2022 code; chapter 99 ('not specified according to kind') is not one."""
        found = self.hs.get(code)
        return found is not None and not code.startswith("99")


def _exact(text: str) -> str:
    """Case- and width-insensitive key that keeps diacritics."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _terms(entry: Item | ItemGroup) -> list[str]:
    terms = list(entry.names.values())
    for aliases in entry.aliases.values():
        terms.extend(aliases)
    return terms


def _read_text(name: str) -> str:
    return resources.files(DATA).joinpath(name).read_text(encoding="utf-8")


def _names(raw: Any, where: str) -> dict[NameKey, str]:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: names must be a mapping")
    names: dict[NameKey, str] = {}
    for key in NAME_KEYS:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"{where}: missing name in {key}")
        names[key] = unicodedata.normalize("NFC", value.strip())
    return names


def _alias_map(raw: Any, where: str) -> dict[NameKey, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: aliases must be a mapping of language to list")
    out: dict[NameKey, tuple[str, ...]] = {}
    for key, values in raw.items():
        if key not in NAME_KEYS:
            raise CatalogError(f"{where}: unknown language key {key!r}")
        if values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise CatalogError(f"{where}: aliases.{key} must be a list of strings")
        out[key] = tuple(unicodedata.normalize("NFC", v.strip()) for v in values if v.strip())
    return out


def _load_hs() -> dict[str, HsCode]:
    reader = csv.DictReader(_read_text("hs2022.csv").splitlines())
    return {
        r["hs"]: HsCode(r["hs"], int(r["level"]), r["parent"], r["section"], r["description"])
        for r in reader
    }


def _load_items(
    hs: dict[str, HsCode],
) -> tuple[dict[str, ItemGroup], dict[str, Item], dict[str, tuple[str, ...]]]:
    doc = yaml.safe_load(_read_text("items.yaml"))
    groups: dict[str, ItemGroup] = {}
    for raw in doc.get("groups", []):
        where = f"items.yaml group {raw.get('id')!r}"
        group = ItemGroup(
            id=raw["id"],
            sector=raw["sector"],
            names=_names(raw.get("names"), where),
            aliases=_alias_map(raw.get("aliases"), where),
            ambiguous=_alias_map(raw.get("ambiguous"), where),
            other_senses=_alias_map(raw.get("other_senses"), where),
        )
        if group.id in groups:
            raise CatalogError(f"{where}: duplicate group")
        groups[group.id] = group
    items: dict[str, Item] = {}
    for raw in doc.get("items", []):
        code = str(raw.get("hs", "")).replace(".", "")
        where = f"items.yaml item {code!r}"
        if code not in hs:
            raise CatalogError(f"{where}: not an HS 2022 code")
        if code in items:
            raise CatalogError(f"{where}: duplicate item")
        group_id = raw.get("group")
        if group_id not in groups:
            raise CatalogError(f"{where}: unknown group {group_id!r}")
        items[code] = Item(
            hs=code,
            group=group_id,
            sector=raw.get("sector", groups[group_id].sector),
            names=_names(raw.get("names"), where),
            aliases=_alias_map(raw.get("aliases"), where),
            ambiguous=_alias_map(raw.get("ambiguous"), where),
            other_senses=_alias_map(raw.get("other_senses"), where),
            note=str(raw.get("note", "")),
            hs_description=hs[code].description,
        )
    context: dict[str, tuple[str, ...]] = {}
    for lang, words in (doc.get("context_words") or {}).items():
        context[str(lang)] = tuple(unicodedata.normalize("NFC", w) for w in words)
    return groups, items, context


def _load_countries() -> dict[str, Country]:
    countries: dict[str, Country] = {}
    # keep_default_na matters: Namibia's code is "NA".
    for row in csv.DictReader(_read_text("countries.csv").splitlines()):
        where = f"countries.csv {row.get('iso2')!r}"
        names = _names({k: row.get(f"name_{k}") for k in NAME_KEYS}, where)
        aliases = tuple(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip())
        country = Country(
            iso2=row["iso2"],
            iso3=row["iso3"],
            numeric=row["numeric"],
            region=row.get("region", ""),
            subregion=row.get("subregion", ""),
            names=names,
            aliases=aliases,
        )
        countries[country.iso2] = country
    return countries


def _digest(names: Iterable[str]) -> str:
    h = hashlib.sha256()
    for name in names:
        h.update(resources.files(DATA).joinpath(name).read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The shipped catalogue, loaded and validated once per process."""
    hs = _load_hs()
    groups, items, context = _load_items(hs)
    return Catalog(
        items=items,
        groups=groups,
        countries=_load_countries(),
        hs=hs,
        context_words=context,
        digest=_digest(["items.yaml", "countries.csv", "hs2022.csv"]),
    )


def iter_other_senses(catalog: Catalog) -> Iterator[tuple[str, NameKey, str]]:
    """Every (hs, name key, word) that marks another sense of the item's ambiguous terms,
    the family's words given to each of its items."""
    for item in catalog.items.values():
        group = catalog.groups[item.group]
        for entry in (item, group):
            for key, words in entry.other_senses.items():
                for word in words:
                    yield item.hs, key, word


def iter_item_terms(catalog: Catalog) -> Iterator[tuple[str, NameKey, str, bool]]:
    """Every (hs, name key, term, ambiguous) the catalogue knows, group terms expanded."""
    for item in catalog.items.values():
        group = catalog.groups[item.group]
        for entry in (item, group):
            for key, name in entry.names.items():
                yield item.hs, key, name, name in entry.ambiguous.get(key, ())
            for key, aliases in entry.aliases.items():
                amb = entry.ambiguous.get(key, ())
                for alias in aliases:
                    yield item.hs, key, alias, alias in amb
