"""The lexicon: event words (``event_terms.yaml``), catalogue items and countries in one automaton.

All languages share one Aho-Corasick automaton over the lower-cased text. Each key carries
the entries it stands for; an entry says which languages it counts in and what checks a hit
must pass (word boundaries for Latin script, exact case, a capital initial for Latin country
names, an unaccented document for diacritic-free copies of Vietnamese terms).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import ahocorasick
import yaml

from ews.catalog import Catalog
from ews.catalog.catalog import iter_item_terms, iter_other_senses
from ews.errors import EwsError
from ews.records import EVENT_TYPES, EventType, Lang
from ews.text.normalize import fold_latin, has_fullwidth

LANGS: tuple[Lang, ...] = ("en", "vi", "zh", "ja", "ko")
NAME_KEY_LANG: dict[str, Lang] = {
    "en": "en",
    "vi": "vi",
    "zh_hans": "zh",
    "zh_hant": "zh",
    "ja": "ja",
    "ko": "ko",
}

# Entry kinds.
CONCEPT = 0
TRIGGER = 1
ITEM = 2
COUNTRY = 3
IGNORE = 4
OPINION = 5
HOME_COUNTRY = {"vi": "VN", "ko": "KR", "ja": "JP", "zh": "CN", "en": "_"}
"""Where a paper of each language is published: its bare "the government" is that country's."""
NOT_COUNTRY = 6
"""A phrase that holds a country name by accident ("近海地震" holds 海地, Haiti): it cancels
the country hits it overlaps and nothing else (an IGNORE phrase would also swallow the 地震)."""


class LexiconError(EwsError):
    """The event lexicon file is malformed (a packaging bug)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What one lexicon term means, and what a hit on it must satisfy to count."""

    kind: int
    label: str
    term: str
    langs: frozenset[str]
    hs: tuple[str, ...] = ()
    prefix: bool = False
    exact: str | None = None
    capital: bool = False
    folded: bool = False
    ambiguous: bool = False


@dataclass(frozen=True)
class Rule:
    """Two concepts (or a concept and ``ITEM``) near each other make an event of ``type``."""

    type: EventType
    first: str
    second: str
    weight: float
    window: int
    cjk_window: int
    ordered: bool = False
    langs: frozenset[str] = frozenset(LANGS)


@dataclass
class Lexicon:
    """The compiled automaton and the rules and settings of the event lexicon."""

    automaton: Any
    rules: tuple[Rule, ...]
    require_item: frozenset[str]
    easable: frozenset[str]
    windows: dict[str, int]
    context_words: dict[str, frozenset[str]]
    digest: str
    patterns: int
    rule_concepts: frozenset[str] = field(default_factory=frozenset)
    other_senses: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    """Per language and item code, words that show an ambiguous term of the item is used in
    another sense (catalogue ``other_senses``)."""
    home_terms: frozenset[str] = field(default_factory=frozenset)
    """Keys of the bare "the government" phrases (``home_places``): they yield to a country
    named right before them ("インドネシア政府は" is Indonesia's)."""
    target_before: dict[str, tuple[str, ...]] = field(default_factory=dict)
    target_after: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def rule_window(self, event_type: str, cjk: bool) -> int:
        """The window of the first pair rule giving ``event_type`` (0 when none does)."""
        for rule in self.rules:
            if rule.type == event_type:
                return rule.cjk_window if cjk else rule.window
        return 0

    def window(self, lang: str, *, cue: bool = False) -> int:
        """Largest gap in characters between two words that still belong together."""
        cjk = lang in ("zh", "ja", "ko")
        if cue:
            return self.windows["cue_cjk" if cjk else "cue_latin"]
        return self.windows["cjk" if cjk else "latin"]


def _is_latin(term: str) -> bool:
    return any((ch.isascii() and ch.isalpha()) or "\u00c0" <= ch <= "\u1eff" for ch in term)


def _has_marks(term: str) -> bool:
    return fold_latin(term) != term.lower()


def _parse_term(raw: str) -> tuple[str, bool, str | None]:
    """(lower-case key, prefix?, exact-case surface or None) for one term of the YAML file."""
    term = unicodedata.normalize("NFC", " ".join(str(raw).split()))
    if has_fullwidth(term):
        # Chinese, Japanese and Korean text is read in NFKC (normalize.clean): a key with
        # full-width brackets ("刚果（金）") must be too, or it never matches.
        term = unicodedata.normalize("NFKC", term)
    exact = None
    if term.startswith("="):
        term = term[1:]
        exact = term
    prefix = term.endswith("*")
    if prefix:
        term = term[:-1]
    return term.lower(), prefix, exact


class _Builder:
    def __init__(self) -> None:
        self.keys: dict[str, list[Entry]] = {}

    def add(self, key: str, entry: Entry) -> None:
        if not key.strip():
            return
        entries = self.keys.setdefault(key, [])
        if entry not in entries:
            entries.append(entry)

    def add_term(
        self,
        raw: str,
        kind: int,
        label: str,
        langs: Iterable[str],
        *,
        hs: tuple[str, ...] = (),
        capital: bool = False,
        ambiguous: bool = False,
    ) -> None:
        key, prefix, exact = _parse_term(raw)
        langset = frozenset(langs)
        base = Entry(
            kind=kind,
            label=label,
            term=key,
            langs=langset,
            hs=hs,
            prefix=prefix,
            exact=exact,
            capital=capital and exact is None,
            ambiguous=ambiguous,
        )
        self.add(key, base)
        # An unaccented copy of a Vietnamese term, for text typed without diacritics.
        if "vi" in langset and _has_marks(key):
            folded = fold_latin(key)
            self.add(
                folded,
                Entry(
                    kind=kind,
                    label=label,
                    term=key,
                    langs=frozenset({"vi"}),
                    hs=hs,
                    prefix=prefix,
                    exact=None,
                    capital=False,
                    folded=True,
                    ambiguous=ambiguous,
                ),
            )

    def build(self) -> Any:
        automaton = ahocorasick.Automaton()
        for key, entries in self.keys.items():
            automaton.add_word(key, (len(key), _is_latin(key), tuple(entries)))
        automaton.make_automaton()
        return automaton


def _lang_lists(raw: Any, where: str) -> Iterator[tuple[str, str]]:
    if not isinstance(raw, dict):
        raise LexiconError(f"event_terms.yaml {where}: expected a mapping of language to terms")
    for lang, terms in raw.items():
        if lang not in LANGS:
            raise LexiconError(f"event_terms.yaml {where}: unknown language {lang!r}")
        if not isinstance(terms, list):
            raise LexiconError(f"event_terms.yaml {where}.{lang}: expected a list")
        for term in terms:
            yield lang, str(term)


def read_terms() -> dict[str, Any]:
    """The parsed ``event_terms.yaml``."""
    text = resources.files("ews.catalog.data").joinpath("event_terms.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise LexiconError("event_terms.yaml: expected a mapping")
    return data


def _item_langs(key: str, term: str) -> frozenset[str]:
    lang = NAME_KEY_LANG[key]
    # Vietnamese news writes many element names the English way ("gallium", "lithium");
    # short English words ("tin", "pin") are Vietnamese words of their own and stay English.
    if lang == "en" and len(term) >= 6 and " " not in term:
        return frozenset({"en", "vi"})
    return frozenset({lang})


def build_lexicon(catalog: Catalog) -> Lexicon:
    """Compile the event terms, the catalogue's item terms and its country names."""
    data = read_terms()
    builder = _Builder()
    concepts: dict[str, Any] = data.get("concepts") or {}
    for name, lists in concepts.items():
        for lang, term in _lang_lists(lists, f"concepts.{name}"):
            builder.add_term(term, CONCEPT, name, (lang,))
    for etype, lists in (data.get("triggers") or {}).items():
        if etype not in EVENT_TYPES:
            raise LexiconError(f"event_terms.yaml triggers: unknown event type {etype!r}")
        for lang, term in _lang_lists(lists, f"triggers.{etype}"):
            builder.add_term(term, TRIGGER, etype, (lang,))
    for section in ("ignore", "country_ignore"):
        for lang, term in _lang_lists(data.get(section) or {}, section):
            builder.add_term(term, IGNORE, "", (lang,))
    for lang, term in _lang_lists(data.get("opinion") or {}, "opinion"):
        builder.add_term(term, OPINION, "", (lang,))
    for lang, term in _lang_lists(data.get("not_country") or {}, "not_country"):
        builder.add_term(term, NOT_COUNTRY, "", (lang,))
    # Goods outside the catalogue (fuel, rice, seafood) and the makers whose plants matter
    # (TSMC, Renesas): items without a code, so that a fire or a shortage of them is an event.
    for lang, term in _lang_lists(data.get("goods") or {}, "goods"):
        builder.add_term(term, ITEM, "", (lang,))
    for iso2, terms in (data.get("companies") or {}).items():
        for term in terms:
            builder.add_term(str(term), ITEM, "", LANGS)
            _add_country(builder, str(term), str(iso2), LANGS)

    # Catalogue items: a term naming a family maps to every code of the family.
    # A term flagged ambiguous anywhere (family or item, any capitalisation) is ambiguous
    # everywhere: "Đồng" (copper) is also the currency and half of "đồng thời".
    item_terms: dict[tuple[str, str], tuple[set[str], list[bool], frozenset[str], str]] = {}
    for hs, key, raw_term, ambiguous in iter_item_terms(catalog):
        term = unicodedata.normalize("NFC", raw_term.strip())
        if not term:
            continue
        langs = _item_langs(key, term)
        lookup = term if len(term) <= 3 else term.lower()
        slot = item_terms.setdefault((lookup, NAME_KEY_LANG[key]), (set(), [False], langs, term))
        slot[0].add(hs)
        if ambiguous:
            slot[1][0] = True
    for (_lookup, _lang), (codes, flag, langs, term) in item_terms.items():
        ambiguous = flag[0]
        raw = term
        latin = _is_latin(term)
        if latin and len(term) <= 3 and any(ch.isupper() for ch in term):
            raw = "=" + term  # chemical symbols and acronyms: case matters
        builder.add_term(raw, ITEM, "", langs, hs=tuple(sorted(codes)), ambiguous=ambiguous)
        if latin and "en" in langs and not term.endswith("s") and len(term) > 3:
            builder.add_term(
                raw + ("es" if term.endswith(("x", "ch", "sh")) else "s"),
                ITEM,
                "",
                langs,
                hs=tuple(sorted(codes)),
                ambiguous=ambiguous,
            )

    # Countries: names in each language, untagged aliases in every language.
    for country in catalog.countries.values():
        for key, name in country.names.items():
            _add_country(builder, name, country.iso2, (NAME_KEY_LANG[key],))
        for alias in country.aliases:
            _add_country(builder, alias, country.iso2, LANGS)
    for lang, term in _lang_lists(data.get("home_places") or {}, "home_places"):
        _add_country(builder, term, HOME_COUNTRY[lang], (lang,))
    for iso2, terms in (data.get("places") or {}).items():
        for term in terms:
            # A place is a name in every language unless it says otherwise
            # ({term: 大陸, langs: [zh]}: "the mainland" in Chinese, a continent in Japanese).
            if isinstance(term, dict):
                _add_country(builder, str(term["term"]), str(iso2), term.get("langs") or LANGS)
            else:
                _add_country(builder, str(term), str(iso2), LANGS)

    rules = []
    windows = {k: int(v) for k, v in (data.get("windows") or {}).items()}
    for raw in data.get("rules") or []:
        etype = raw.get("type")
        first, second = raw["pair"]
        if etype not in EVENT_TYPES:
            raise LexiconError(f"event_terms.yaml rules: unknown event type {etype!r}")
        for concept in (first, second):
            if concept not in ("ITEM", "COUNTRY") and concept not in concepts:
                raise LexiconError(f"event_terms.yaml rules: unknown concept {concept!r}")
        rules.append(
            Rule(
                type=etype,
                first=first,
                second=second,
                weight=float(raw.get("weight", 0.6)),
                window=int(raw.get("window", windows.get("latin", 40))),
                cjk_window=int(raw.get("cjk_window", windows.get("cjk", 12))),
                ordered=bool(raw.get("ordered", False)),
                langs=frozenset(raw.get("langs") or LANGS),
            )
        )
    senses: dict[str, dict[str, set[str]]] = {}
    for hs, sense_key, word in iter_other_senses(catalog):
        sense_lang: str = NAME_KEY_LANG.get(sense_key, sense_key)
        senses.setdefault(sense_lang, {}).setdefault(hs, set()).add(
            unicodedata.normalize("NFC", word).lower()
        )
    context: dict[str, frozenset[str]] = {}
    for name_key, words in catalog.context_words.items():
        lang = NAME_KEY_LANG.get(name_key, name_key)
        context[lang] = context.get(lang, frozenset()) | {w.lower() for w in words}
    digest = hashlib.sha256(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=True).encode() + catalog.digest.encode()
    ).hexdigest()
    markers = data.get("target_markers") or {}
    before = {
        lang: tuple(str(t).lower() for t in terms)
        for lang, terms in (markers.get("before") or {}).items()
        if terms
    }
    after = {
        lang: tuple(str(t).lower() for t in terms)
        for lang, terms in (markers.get("after") or {}).items()
        if terms
    }
    return Lexicon(
        target_before=before,
        target_after=after,
        automaton=builder.build(),
        rules=tuple(rules),
        require_item=frozenset(data.get("require_item") or ()),
        easable=frozenset(data.get("easable") or ()),
        windows=windows,
        context_words=context,
        other_senses={
            lang: {hs: frozenset(words) for hs, words in by_hs.items()}
            for lang, by_hs in senses.items()
        },
        digest=digest,
        patterns=len(builder.keys),
        rule_concepts=frozenset(
            c for r in rules for c in (r.first, r.second) if c not in ("ITEM", "COUNTRY")
        ),
        home_terms=frozenset(
            unicodedata.normalize("NFC", term).lower()
            for _lang, term in _lang_lists(data.get("home_places") or {}, "home_places")
        ),
    )


def _add_country(builder: _Builder, name: str, iso2: str, langs: Iterable[str]) -> None:
    name = name.strip()
    if not name:
        return
    if name.startswith("="):
        builder.add_term(name, COUNTRY, iso2, langs)
        return
    latin = _is_latin(name)
    if not latin and len(name) < 2:
        return  # one Han character ("美", "日") is far more often something else
    if latin and len(name) <= 3 and name.isupper():
        builder.add_term("=" + name, COUNTRY, iso2, langs)
        return
    # Latin country names are proper nouns: "biện pháp" is not France, "china" is porcelain.
    # (A place written in lower case, "eo biển Hormuz", is matched as written.)
    builder.add_term(name, COUNTRY, iso2, langs, capital=latin and name[:1].isupper())


# Keyed by id(); the catalogue is kept in the value so its id cannot be reused while cached.
_CACHE: dict[int, tuple[Catalog, Lexicon]] = {}


def get_lexicon(catalog: Catalog) -> Lexicon:
    """The lexicon for ``catalog``, built once per catalogue object."""
    cached = _CACHE.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        if len(_CACHE) > 4:
            _CACHE.clear()
        cached = (catalog, build_lexicon(catalog))
        _CACHE[id(catalog)] = cached
    return cached[1]
