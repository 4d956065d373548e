"""English glosses of the terms an event matched, for readers of another language.

An event stores the lexicon keys it matched (``events.matched``: lower-cased, normalised).
The lexicon already knows what each key stands for, so the gloss is read back from it rather
than translated: a concept gives its (English) name ("cấm" -> "restrict"), a trigger its event
type, an item its English catalogue name (a family term its family), a country its English name.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ews.catalog import Catalog
from ews.text.lexicon import (
    CONCEPT,
    COUNTRY,
    ITEM,
    TRIGGER,
    Lexicon,
    get_lexicon,
    read_terms,
)


@dataclass(frozen=True, slots=True)
class Gloss:
    """One matched term and what it means in English."""

    term: str
    english: str
    kind: str  # concept | trigger | item | country | unknown


def _concept_english() -> dict[str, str]:
    """Concept name -> how it reads in English (the names are English by design)."""
    return {name: name.replace("_", " ") for name in (read_terms().get("concepts") or {})}


class Glossary:
    """Looks matched terms up in the event lexicon (built once per catalogue)."""

    def __init__(self, catalog: Catalog, lexicon: Lexicon | None = None) -> None:
        self.catalog = catalog
        self.lexicon = lexicon or get_lexicon(catalog)
        self.concepts = _concept_english()

    def gloss(self, term: str) -> Gloss:
        key = unicodedata.normalize("NFC", " ".join(term.split())).lower()
        found = self.lexicon.automaton.get(key, None)
        if found is None:
            return Gloss(term, "", "unknown")
        entries = found[2]
        # The most specific reading first: an item or a country names a thing; a trigger
        # names an event; a concept is one word class among several.
        for kind, label in ((ITEM, "item"), (COUNTRY, "country"), (TRIGGER, "trigger")):
            for e in entries:
                if e.kind != kind:
                    continue
                if kind == ITEM:
                    return Gloss(term, self._item_name(e.hs), label)
                if kind == COUNTRY:
                    known = e.label in self.catalog.countries
                    name = self.catalog.country_name(e.label) if known else term.upper()
                    return Gloss(term, name, label)
                return Gloss(term, e.label.replace("_", " "), label)
        for e in entries:
            if e.kind == CONCEPT:
                # A concept groups near-synonyms ("cấm", "禁止", "ban*", "prohibit*"): its
                # name is the honest gloss; any one English member would claim too much.
                return Gloss(term, self.concepts.get(e.label, e.label), "concept")
        return Gloss(term, "", "unknown")

    def _item_name(self, codes: tuple[str, ...]) -> str:
        items = [it for hs in codes if (it := self.catalog.item(hs)) is not None]
        groups = {it.group for it in items}
        # A family term ("rare earths") names the family, not its first few codes.
        if len(groups) == 1 and len(items) > 1:
            return self.catalog.groups[groups.pop()].names["en"]
        return ", ".join(sorted({it.names["en"] for it in items})[:3])

    def gloss_all(self, terms: list[str]) -> list[Gloss]:
        return [self.gloss(t) for t in terms]
