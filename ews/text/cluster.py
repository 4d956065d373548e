"""Near-duplicate grouping: one story told by several outlets, or in several languages.

Two events belong to one cluster when

* they share the cluster key (event type, country, item group) and their dates are within
  :data:`WINDOW_DAYS` of each other (chained: a story followed for a week stays one
  cluster); the key is language-free, so the same story in Korean and Vietnamese meets; or
* they are in the same language, of the same type, within the window, and their evidence
  sentences are near copies (MinHash estimate of the Jaccard similarity of character
  5-shingles at least :data:`SIMILARITY`): syndicated copies whose item or country the
  extractor read differently still meet.

A cluster counts its distinct sources (outlets where known, else source ids, else docs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ews.catalog import Catalog
from ews.records import Event

WINDOW_DAYS = 3
SIMILARITY = 0.5
SHINGLE = 5
SKETCH = 64
"""Bottom-k MinHash: the k smallest shingle hashes stand for the whole set."""


@dataclass(frozen=True)
class Cluster:
    """A group of events that report the same story."""

    cluster_id: str
    key: tuple[str, str, str]
    event_ids: tuple[str, ...]
    sources: int
    first_date: dt.date
    last_date: dt.date


def group_key(event: Event, catalog: Catalog) -> tuple[str, str, str]:
    """(event type, country or '', item groups joined) of an event."""
    groups = sorted(
        {item.group for hs in event.items if (item := catalog.item_for_code(hs)) is not None}
    )
    return (event.event_type, event.country or "", "+".join(groups))


def sketch(text: str, k: int = SKETCH, n: int = SHINGLE) -> tuple[int, ...]:
    """Bottom-k MinHash sketch of the character n-shingles of ``text`` (case and spacing
    folded). Deterministic across processes (CRC-32, not Python's salted hash)."""
    norm = " ".join(text.lower().split())
    count = max(1, len(norm) - n + 1)
    shingles = {norm[i : i + n] for i in range(count)}
    hashes = sorted({zlib.crc32(s.encode("utf-8")) for s in shingles})
    return tuple(hashes[:k])


def similarity(a: Sequence[int], b: Sequence[int], k: int = SKETCH) -> float:
    """Jaccard estimate from two bottom-k sketches."""
    if not a or not b:
        return 0.0
    union = sorted(set(a) | set(b))[:k]
    both = set(a) & set(b)
    return sum(1 for h in union if h in both) / len(union)


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def cluster_events(
    events: Sequence[Event],
    catalog: Catalog,
    *,
    sources: Mapping[str, str] | None = None,
    window_days: int = WINDOW_DAYS,
    threshold: float = SIMILARITY,
) -> list[Cluster]:
    """Clusters of ``events`` (every event is in exactly one), sorted by first date.

    ``sources`` maps doc_id to the outlet or source that published it; without it each
    document counts as its own source. Cooperation events are clustered like the others.
    """
    order = sorted(range(len(events)), key=lambda i: (events[i].date, events[i].event_id))
    evs = [events[i] for i in order]
    keys = [group_key(e, catalog) for e in evs]
    uf = _Union(len(evs))
    window = dt.timedelta(days=window_days)

    # 1. Same key, chained within the window.
    last_of_key: dict[tuple[str, str, str], int] = {}
    for i, key in enumerate(keys):
        j = last_of_key.get(key)
        if j is not None and evs[i].date - evs[j].date <= window:
            uf.join(i, j)
        last_of_key[key] = i

    # 2. Near-copies of evidence within a language and type, inside the window.
    sketches = [sketch(e.evidence) for e in evs]
    by_lang_type: dict[tuple[str, str], list[int]] = {}
    for i, e in enumerate(evs):
        by_lang_type.setdefault((e.lang, e.event_type), []).append(i)
    for members in by_lang_type.values():
        lo = 0
        for pos, i in enumerate(members):
            while evs[i].date - evs[members[lo]].date > window:
                lo += 1
            for j in members[lo:pos]:
                if uf.find(i) != uf.find(j) and similarity(sketches[i], sketches[j]) >= threshold:
                    uf.join(i, j)

    groups: dict[int, list[int]] = {}
    for i in range(len(evs)):
        groups.setdefault(uf.find(i), []).append(i)
    clusters = []
    for members in groups.values():
        first = evs[members[0]]
        ids = tuple(evs[i].event_id for i in members)
        origin = {
            (sources.get(evs[i].doc_id, evs[i].doc_id) if sources else evs[i].doc_id)
            for i in members
        }
        cid = hashlib.sha256(("cluster|" + first.event_id).encode()).hexdigest()[:16]
        clusters.append(
            Cluster(
                cluster_id=cid,
                key=keys[members[0]],
                event_ids=ids,
                sources=len(origin),
                first_date=first.date,
                last_date=max(evs[i].date for i in members),
            )
        )
    clusters.sort(key=lambda c: (c.first_date, c.cluster_id))
    return clusters
