"""An alert's evidence as people read it: each sentence once, with its English rendering.

An alert keeps its evidence records as they were scored: one per (event cluster, family), so a
sentence about two families, or a story whose clusters were cut differently, can appear more
than once. :func:`explain_evidence` gives the lines that ``ews explain``, the dashboard's alert
page and the weekly brief show: evidence records of one sentence (compared NFC,
whitespace-folded, case-folded) merged into the first (strongest) one, with the number of
documents and outlets that carried the sentence here, and the English rendering of the
earliest stored event with that sentence. Evidence from a partner, whose events this node does
not hold, is rendered from the record itself (type and country from its summary, goods from
the sentence).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from ews.alerts.records import Evidence
from ews.catalog import Catalog
from ews.records import EVENT_TYPES
from ews.store import Store
from ews.text.gloss import Glossary
from ews.text.ingest import outlet_of
from ews.text.queries import events_in_clusters
from ews.text.render import Rendering, evidence_key, render, render_row

# The risk stage's event summary: "export_restriction (CN), 2 source(s), first 2025-10-09".
_SUMMARY = re.compile(r"^(?P<type>[a-z_]+) \((?P<country>[A-Z]{2}|country unknown)\)")


@dataclass
class EvidenceLine:
    """One line of an alert's evidence: the strongest record of its sentence, rendered."""

    evidence: Evidence
    rendering: Rendering | None = None
    documents: int = 1
    """Documents here that carried the sentence (1 when unknown or seen once)."""
    sources: int = 1
    merged: int = 1
    """Evidence records of the alert that carried the same sentence."""
    refs: list[str] = field(default_factory=list)

    @property
    def carried(self) -> str:
        """ "4 documents from 2 sources", or "" for a sentence seen once."""
        if self.documents <= 1:
            return ""
        return f"{self.documents} documents from {self.sources} source" + (
            "s" if self.sources > 1 else ""
        )


def split_event_ref(ref: str, groups: Collection[str]) -> tuple[str, str]:
    """The event cluster and family of an event signal's ref.

    A ref reads ``<cluster>:<family>`` followed, since per-outlet signals, by ``:<outlet>``
    and for a chokepoint ``:<chokepoint>:<supplier>``. A cluster id from an events file may
    itself hold colons, so the family is found as the first later part that names one."""
    parts = ref.split(":")
    for i in range(1, len(parts)):
        if parts[i] in groups:
            return ":".join(parts[:i]), parts[i]
    return ref, ""


def explain_evidence(
    store: Store | None,
    catalog: Catalog,
    glossary: Glossary,
    evidence: Sequence[Evidence],
) -> list[EvidenceLine]:
    """The alert's evidence, each sentence once, events rendered in English (see module)."""
    events = [e for e in evidence if e.kind == "event"]

    def cluster_of(ref: str) -> str:
        return split_event_ref(ref, catalog.groups)[0]

    stored = (
        events_in_clusters(store, (cluster_of(e.ref) for e in events))
        if store is not None and events
        else []
    )
    by_cluster: dict[str, list[dict[str, Any]]] = {}
    for row in stored:  # oldest first
        by_cluster.setdefault(row["cluster"], []).append(row)
    lines: list[EvidenceLine] = []
    index: dict[str, EvidenceLine] = {}
    for e in evidence:
        key = evidence_key(e.text) if e.kind == "event" and e.text else ""
        if key and key in index:
            line = index[key]
            line.merged += 1
            line.refs.append(e.ref)
            continue
        line = EvidenceLine(evidence=e, refs=[e.ref])
        if e.kind == "event":
            rows = by_cluster.get(cluster_of(e.ref), [])
            # The stored event with this very sentence; without text, the cluster's first.
            same = [r for r in rows if evidence_key(r["evidence"]) == key] if key else rows
            line.rendering = (
                render_row(same[0], catalog, glossary)
                if same
                else _render_record(e, catalog, glossary)
            )
            if key:
                index[key] = line
        lines.append(line)
    for key, line in index.items():
        rows = [
            r
            for ref in dict.fromkeys(cluster_of(ref) for ref in line.refs)
            for r in by_cluster.get(ref, [])
            if evidence_key(r["evidence"]) == key
        ]
        if rows:
            line.documents = len({r["doc_id"] for r in rows})
            line.sources = len({outlet_of(r["link"] or r["source_id"]) for r in rows})
    return lines


def _render_record(e: Evidence, catalog: Catalog, glossary: Glossary) -> Rendering:
    match = _SUMMARY.match(e.summary)
    event_type = match["type"] if match and match["type"] in EVENT_TYPES else None
    country = match["country"] if match and match["country"] in catalog.countries else None
    # The ref names the family the signal was scored for; the sentence may name more.
    family = split_event_ref(e.ref, catalog.groups)[1]
    items = (
        () if e.text else tuple(hs for hs, item in catalog.items.items() if item.group == family)
    )
    return render(
        catalog,
        glossary,
        event_type=event_type,
        country=country,
        items=items,
        date=e.date,
        evidence=e.text or "",
        lang=e.lang,
    )
