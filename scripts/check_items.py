"""Validate the curated item catalogue ``ews/catalog/data/items.yaml``.

Checks that every HS code exists in the HS 2022 nomenclature, that there are enough items,
that groups, names, aliases and ambiguity lists are well formed (six name keys, NFC text, no
duplicates), that every ambiguous term is one of the entry's names or aliases, that no term
names two different groups, and that languages with ambiguous terms have context words.

Usage::

    .venv/bin/python scripts/check_items.py [--items PATH] [HS_CSV]

``HS_CSV`` defaults to ``../shared/data/codes/harmonized-system.csv`` relative to the project
root; both its ``hscode`` header and the packaged ``hs2022.csv`` header ``hs`` are accepted.
Exit status is 0 when the file is valid, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ITEMS = ROOT / "ews" / "catalog" / "data" / "items.yaml"
DEFAULT_HS = ROOT.parent / "shared" / "data" / "codes" / "harmonized-system.csv"

NAME_KEYS: tuple[str, ...] = ("en", "ko", "ja", "zh_hans", "zh_hant", "vi")
SECTORS = frozenset(
    {"critical_minerals", "semiconductors", "batteries", "fertilisers", "pharmaceuticals", "energy"}
)
MIN_ITEMS = 60
TOP_KEYS = frozenset({"version", "source", "context_words", "groups", "items"})
GROUP_KEYS = frozenset({"id", "sector", "names", "aliases", "ambiguous"})
ITEM_KEYS = frozenset({"hs", "group", "sector", "names", "aliases", "ambiguous", "note"})
GROUP_ID = re.compile(r"^[a-z][a-z0-9_]*$")
HS_CODE = re.compile(r"^\d{4}(\d{2})?$")

# The folding of ews.catalog.names.fold, repeated so the checker runs on its own, except that
# only marks on Latin letters are dropped: kana voicing marks (U+3099/U+309A, category Mn after
# NFD) must survive, or ガリウム (gallium) would fold to カリウム (potassium).
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "ß": "ss"})


def _is_latin(char: str) -> bool:
    return char.isascii() or "LATIN" in unicodedata.name(char, "")


def fold(text: str) -> str:
    """Search key: NFKC, casefold, Latin diacritics removed, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_SPECIAL).casefold()
    if not text.isascii():
        kept: list[str] = []
        base = ""
        for char in unicodedata.normalize("NFD", text):
            if unicodedata.category(char) == "Mn":
                if _is_latin(base):
                    continue
            else:
                base = char
            kept.append(char)
        text = unicodedata.normalize("NFC", "".join(kept))
    return " ".join(text.split())


def load_hs(path: Path) -> dict[str, int]:
    """HS code -> level (digits), from the WCO csv (``hscode``) or the packaged one (``hs``)."""
    codes: dict[str, int] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        column = "hscode" if "hscode" in fields else "hs"
        if column not in fields:
            raise SystemExit(f"{path}: no 'hscode' or 'hs' column (found {fields})")
        for row in reader:
            code = (row.get(column) or "").strip()
            if code:
                codes[code] = len(code)
    return codes


def walk_strings(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in the document (keys and values) with a readable location."""
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                yield f"{where} (key)", key
            yield from walk_strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_strings(value, f"{where}[{index}]")


class Checker:
    """Collects every problem in the catalogue rather than stopping at the first."""

    def __init__(self, hs_codes: dict[str, int]) -> None:
        self.hs_codes = hs_codes
        self.errors: list[str] = []
        # folded term -> {group id: [where, ...]} for the cross-group check
        self.term_groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.ambiguous_langs: set[str] = set()
        # folded term -> {True/False: [where, ...]}: is the term marked ambiguous there?
        self.term_ambiguity: dict[str, dict[bool, list[str]]] = defaultdict(
            lambda: defaultdict(list)
        )

    def error(self, message: str) -> None:
        self.errors.append(message)

    # -- pieces ------------------------------------------------------------------------------
    def check_names(self, raw: Any, where: str) -> dict[str, str]:
        names: dict[str, str] = {}
        if not isinstance(raw, dict):
            self.error(f"{where}: names must be a mapping of the six name keys")
            return names
        for key in raw:
            if key not in NAME_KEYS:
                self.error(f"{where}: unknown name key {key!r}")
        for key in NAME_KEYS:
            value = raw.get(key)
            if not isinstance(value, str) or not value.strip():
                self.error(f"{where}: missing or empty name in {key!r}")
                continue
            if value != value.strip():
                self.error(f"{where}: name {key}={value!r} has surrounding spaces")
            names[key] = value
        return names

    def check_term_lists(self, raw: Any, where: str, what: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if raw is None:
            return out
        if not isinstance(raw, dict):
            self.error(f"{where}: {what} must be a mapping of language to list")
            return out
        for lang, values in raw.items():
            if lang not in NAME_KEYS:
                self.error(f"{where}: {what} has unknown language key {lang!r}")
                continue
            if values is None:
                continue
            if not isinstance(values, list):
                self.error(f"{where}: {what}.{lang} must be a list")
                continue
            terms: list[str] = []
            for value in values:
                if not isinstance(value, str) or not value.strip():
                    self.error(f"{where}: {what}.{lang} has an empty or non-string entry {value!r}")
                    continue
                if value != value.strip():
                    self.error(f"{where}: {what}.{lang} entry {value!r} has surrounding spaces")
                terms.append(value)
            out[lang] = terms
        return out

    def check_entry(self, raw: dict[str, Any], where: str, group_id: str) -> None:
        """Names, aliases and ambiguous terms of a group or an item."""
        names = self.check_names(raw.get("names"), where)
        aliases = self.check_term_lists(raw.get("aliases"), where, "aliases")
        ambiguous = self.check_term_lists(raw.get("ambiguous"), where, "ambiguous")

        for lang, terms in aliases.items():
            name_key = fold(names[lang]) if lang in names else None
            seen: dict[str, str] = {}
            for term in terms:
                key = fold(term)
                if key in seen:
                    self.error(
                        f"{where}: alias {lang}={term!r} duplicates {seen[key]!r} (after folding)"
                    )
                    continue
                seen[key] = term
                if key == name_key:
                    self.error(f"{where}: alias {lang}={term!r} repeats the {lang} name")
        for lang, terms in ambiguous.items():
            allowed = set(aliases.get(lang, []))
            if lang in names:
                allowed.add(names[lang])
            counts = Counter(terms)
            for term, count in counts.items():
                if count > 1:
                    self.error(f"{where}: ambiguous {lang}={term!r} listed {count} times")
                if term not in allowed:
                    self.error(
                        f"{where}: ambiguous {lang}={term!r} is not one of its {lang} names "
                        f"or aliases (exact spelling required)"
                    )
            if terms:
                self.ambiguous_langs.add(lang)

        for lang, name in names.items():
            self.term_groups[fold(name)][group_id].append(f"{where} name {lang}")
            marked = name in ambiguous.get(lang, [])
            self.term_ambiguity[fold(name)][marked].append(f"{where} name {lang}")
        for lang, terms in aliases.items():
            for term in terms:
                self.term_groups[fold(term)][group_id].append(f"{where} alias {lang}")
                marked = term in ambiguous.get(lang, [])
                self.term_ambiguity[fold(term)][marked].append(f"{where} alias {lang}")

    # -- document ----------------------------------------------------------------------------
    def check(self, doc: Any) -> Counter[str]:
        sectors: Counter[str] = Counter()
        if not isinstance(doc, dict):
            self.error("items.yaml: top level must be a mapping")
            return sectors
        for key in doc:
            if key not in TOP_KEYS:
                self.error(f"items.yaml: unknown top-level key {key!r}")
        if doc.get("version") != 1:
            self.error("items.yaml: version must be 1")
        source = doc.get("source")
        if not isinstance(source, str) or not source.strip():
            self.error("items.yaml: source must be a non-empty string")

        for where, text in walk_strings(doc, "items.yaml"):
            if unicodedata.normalize("NFC", text) != text:
                self.error(f"{where}: {text!r} is not NFC")

        context = self.check_term_lists(doc.get("context_words"), "items.yaml", "context_words")
        for lang, words in context.items():
            dupes = [w for w, n in Counter(fold(w) for w in words).items() if n > 1]
            if dupes:
                self.error(f"context_words.{lang}: duplicates after folding: {dupes}")

        groups = self.check_groups(doc.get("groups"))
        sectors = self.check_items(doc.get("items"), groups)

        for lang in sorted(self.ambiguous_langs):
            if not context.get(lang):
                self.error(f"context_words: {lang!r} has ambiguous terms but no context words")

        # A matcher need not know the language of a text, so a term that is ambiguous in one
        # place must be ambiguous wherever the same folded spelling appears.
        for term, marks in sorted(self.term_ambiguity.items()):
            if marks.get(True) and marks.get(False):
                self.error(
                    f"term {term!r} is ambiguous in {', '.join(marks[True])} "
                    f"but not in {', '.join(marks[False])}"
                )

        for term, by_group in sorted(self.term_groups.items()):
            if len(by_group) > 1:
                places = "; ".join(f"{g}: {', '.join(w)}" for g, w in sorted(by_group.items()))
                self.error(f"term {term!r} is used by several groups ({places})")
        return sectors

    def check_groups(self, raw: Any) -> dict[str, str]:
        """Group id -> sector."""
        groups: dict[str, str] = {}
        if not isinstance(raw, list) or not raw:
            self.error("items.yaml: groups must be a non-empty list")
            return groups
        for index, entry in enumerate(raw):
            if not isinstance(entry, dict):
                self.error(f"groups[{index}]: must be a mapping")
                continue
            group_id = entry.get("id")
            where = f"group {group_id!r}"
            if not isinstance(group_id, str) or not GROUP_ID.match(group_id):
                self.error(f"groups[{index}]: id {group_id!r} must be snake_case")
                continue
            if group_id in groups:
                self.error(f"{where}: duplicate group id")
                continue
            for key in entry:
                if key not in GROUP_KEYS:
                    self.error(f"{where}: unknown key {key!r}")
            sector = entry.get("sector")
            if sector not in SECTORS:
                self.error(f"{where}: sector {sector!r} is not one of {sorted(SECTORS)}")
            groups[group_id] = str(sector)
            self.check_entry(entry, where, group_id)
        return groups

    def check_items(self, raw: Any, groups: dict[str, str]) -> Counter[str]:
        sectors: Counter[str] = Counter()
        if not isinstance(raw, list):
            self.error("items.yaml: items must be a list")
            return sectors
        seen: set[str] = set()
        used_groups: set[str] = set()
        for index, entry in enumerate(raw):
            if not isinstance(entry, dict):
                self.error(f"items[{index}]: must be a mapping")
                continue
            code = entry.get("hs")
            where = f"item {code!r}"
            if not isinstance(code, str):
                self.error(f"items[{index}]: hs {code!r} must be a quoted string")
                continue
            if not HS_CODE.match(code):
                self.error(f"{where}: hs must be 4 or 6 digits")
            elif code not in self.hs_codes:
                self.error(f"{where}: not a code of the HS 2022 nomenclature")
            elif code.startswith("99"):
                self.error(f"{where}: chapter 99 codes are placeholders, not products")
            if code in seen:
                self.error(f"{where}: duplicate hs code")
            seen.add(code)
            for key in entry:
                if key not in ITEM_KEYS:
                    self.error(f"{where}: unknown key {key!r}")
            group_id = entry.get("group")
            if not isinstance(group_id, str) or group_id not in groups:
                self.error(f"{where}: unknown group {group_id!r}")
                continue
            used_groups.add(group_id)
            sector = entry.get("sector", groups[group_id])
            if sector not in SECTORS:
                self.error(f"{where}: sector {sector!r} is not one of {sorted(SECTORS)}")
            sectors[str(sector)] += 1
            note = entry.get("note")
            if not isinstance(note, str) or not note.strip():
                self.error(f"{where}: note must be a non-empty string")
            self.check_entry(entry, where, group_id)
        if len(seen) < MIN_ITEMS:
            self.error(f"items.yaml: {len(seen)} items, at least {MIN_ITEMS} required")
        for group_id in sorted(set(groups) - used_groups):
            self.error(f"group {group_id!r}: has no items")
        return sectors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hs_csv", nargs="?", type=Path, default=DEFAULT_HS, help="HS 2022 csv")
    parser.add_argument("--items", type=Path, default=DEFAULT_ITEMS, help="items.yaml to check")
    args = parser.parse_args(argv)

    hs_csv: Path = args.hs_csv
    items_path: Path = args.items
    if not hs_csv.is_absolute():
        hs_csv = (ROOT / hs_csv).resolve() if not hs_csv.exists() else hs_csv
    if not hs_csv.exists():
        print(f"HS nomenclature not found: {hs_csv}", file=sys.stderr)
        return 1

    with items_path.open(encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    checker = Checker(load_hs(hs_csv))
    sectors = checker.check(doc)

    if checker.errors:
        for message in checker.errors:
            print(f"ERROR {message}", file=sys.stderr)
        print(f"{items_path}: {len(checker.errors)} problem(s)", file=sys.stderr)
        return 1
    total = sum(sectors.values())
    groups = len(doc.get("groups", []))
    by_sector = ", ".join(f"{s} {n}" for s, n in sorted(sectors.items()))
    print(f"{items_path}: OK - {total} items in {groups} groups ({by_sector})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
