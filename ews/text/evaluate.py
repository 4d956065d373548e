"""Scoring the extractor on labelled real text (``labels/dev/*.jsonl``; docs/text.md).

A labelled item is one document (a headline and at most two sentences, or, for the Vietnamese
set, an item of the shared news file named by its id) with the event a person read in it: its
type (or ``none``) and the country causing it. The extractor is scored per document:

* **recall**: of the items labelled with an event, the share where the extractor gives an event
  of that type with that country (an empty country in the label asks for none);
* **false alarms**: of the items labelled ``none``, the share where it gives any event other
  than cooperation (cooperation is context, never an alarm);
* **precision** per type: of the documents where the extractor gives an event of a type, the
  share labelled with that type (and its country).

Each item carries a ``split``: ``dev`` items may be looked at while changing the lexicon,
``test`` items only through these figures (the split was fixed before labelling).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ews.errors import InputError
from ews.records import Document, Event, Provenance
from ews.text.extract import Extractor, split_sentences

NONE = "none"
ALARMLESS = frozenset({"cooperation"})


@dataclass(frozen=True)
class Labelled:
    id: str
    lang: str
    text: str
    title: str
    published: dt.date | None
    type: str
    country: str | None
    split: str
    source: str = ""


@dataclass
class Outcome:
    item: Labelled
    events: list[Event]

    @property
    def hit(self) -> bool:
        return any(
            e.event_type == self.item.type and (e.country or None) == self.item.country
            for e in self.events
        )

    @property
    def type_hit(self) -> bool:
        return any(e.event_type == self.item.type for e in self.events)

    @property
    def alarm(self) -> bool:
        return any(e.event_type not in ALARMLESS for e in self.events)


@dataclass
class Scores:
    """Counts for one slice (a language, a type, a split)."""

    positives: int = 0
    hits: int = 0
    type_hits: int = 0
    negatives: int = 0
    alarms: int = 0
    misses: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.hits / self.positives if self.positives else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.alarms / self.negatives if self.negatives else None


def _published(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _shared_texts(shared: Path, ref: str, ids: set[str]) -> dict[str, tuple[str, str]]:
    """(title, summary) of the shared news items named by ``ids``."""
    path = shared / ref
    if not path.is_file():
        raise InputError(f"the labelled set refers to {ref}, which is not in {shared}")
    found: dict[str, tuple[str, str]] = {}
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if '"id"' not in line:
                continue
            row = json.loads(line)
            if str(row.get("id")) in ids:
                found[str(row["id"])] = (str(row.get("title") or ""), str(row.get("summary") or ""))
    return found


def _headline(text: str) -> tuple[str, str]:
    """A labelled text is "headline. sentence. sentence.": its first sentence is read as the
    title, as a feed item's would be (where the item has one)."""
    spans = split_sentences(text)
    if len(spans) < 2:
        return "", text
    first_end = spans[0][1]
    return text[:first_end].strip().rstrip(".").strip(), text[spans[1][0] :].strip()


def load_labelled(path: Path, *, shared: Path | None = None) -> list[Labelled]:
    """The items of one labelled file; items that point into the shared data need ``shared``."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    refs: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.get("ref") and not row.get("text"):
            refs[row["ref"]].add(str(row["id"]))
    texts: dict[str, tuple[str, str]] = {}
    for ref, ids in refs.items():
        if shared is None:
            raise InputError(f"{path.name} refers to the shared data ({ref}), which is absent")
        texts.update(_shared_texts(shared, ref, ids))
    items = []
    for row in rows:
        if row.get("text"):
            title, body = _headline(str(row["text"]))
        elif str(row["id"]) in texts:
            title, body = texts[str(row["id"])]
        else:
            continue  # named but not found: reported by the caller through the counts
        items.append(
            Labelled(
                id=str(row["id"]),
                lang=str(row["lang"]),
                title=title,
                text=body,
                published=_published(row.get("published")),
                type=str(row["type"]),
                country=(row.get("country") or None),
                split=str(row.get("split", "dev")),
                source=str(row.get("source") or row.get("ref") or ""),
            )
        )
    return items


def run(extractor: Extractor, items: Iterable[Labelled]) -> Iterator[Outcome]:
    for item in items:
        published = (
            dt.datetime.combine(item.published, dt.time(12), tzinfo=dt.UTC)
            if item.published
            else None
        )
        doc = Document(
            doc_id=f"label:{item.id}",
            source_id="labels",
            title=item.title,
            text=item.text,
            published=published,
            lang=item.lang,
            provenance=Provenance(
                source_id="labels", file_name="labels", file_sha256="0" * 64, row=1
            ),
        )
        yield Outcome(item, extractor.extract(doc, default_date=item.published))


def score(outcomes: Iterable[Outcome], key: Any = None) -> dict[Any, Scores]:
    """Scores per ``key(outcome)`` (default: one slice for all)."""
    slices: dict[Any, Scores] = defaultdict(Scores)
    for o in outcomes:
        s = slices[key(o) if key else "all"]
        label = f"{o.item.id}: {o.item.type}/{o.item.country or '-'} -> " + (
            ", ".join(f"{e.event_type}/{e.country or '-'}" for e in o.events) or "nothing"
        )
        if o.item.type == NONE:
            s.negatives += 1
            if o.alarm:
                s.alarms += 1
                s.false.append(label)
        else:
            s.positives += 1
            s.hits += o.hit
            s.type_hits += o.type_hit
            if not o.hit:
                s.misses.append(label)
    return dict(slices)


def precision_by_type(outcomes: Iterable[Outcome]) -> dict[str, tuple[int, int]]:
    """Per predicted type: (documents where it was right, documents where it was given)."""
    given: dict[str, int] = defaultdict(int)
    right: dict[str, int] = defaultdict(int)
    for o in outcomes:
        for etype in {e.event_type for e in o.events}:
            given[etype] += 1
            ok = any(
                e.event_type == etype
                and etype == o.item.type
                and (e.country or None) == o.item.country
                for e in o.events
            )
            right[etype] += ok
    return {t: (right[t], given[t]) for t in sorted(given)}
