"""Regenerate ``ews/sample/events-vi.jsonl``: events extracted from the real Vietnamese news set.

The file carries no news text (no titles, summaries or evidence sentences): only document
ids, publication times, links, event types, countries, catalogue items, confidence and the
lexicon terms that matched. The news itself stays with its publishers.

Usage: python scripts/build_sample_events.py [path/to/vi-news.jsonl.gz]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ews.catalog import load_catalog
from ews.text.extract import Extractor
from ews.text.ingest import event_json, open_documents

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "news" / "vi" / "vi-news-2025-08_2026-08.jsonl.gz"
OUT = ROOT / "ews" / "sample" / "events-vi.jsonl"


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT
    catalog = load_catalog()
    extractor = Extractor(catalog)
    spec, _, docs = open_documents(source, catalog, source_id=None, max_bytes=2**31)
    rows = []
    for doc in docs:
        for event in extractor.extract(doc):
            if event.event_type == "cooperation" or not event.items:
                continue  # context, or nothing the catalogue tracks
            row = json.loads(event_json(event))
            del row["evidence"]  # the sentence is the publisher's text: not shipped
            row["published"] = doc.published.isoformat() if doc.published else None
            row["link"] = doc.link
            row["source_id"] = spec.id
            rows.append(row)
    rows.sort(key=lambda r: (r["date"], r["event_id"]))
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} events to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
