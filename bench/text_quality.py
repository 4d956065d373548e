"""Recall and false alarms of the text stage on labelled real text, per language and type.

    .venv/bin/python bench/text_quality.py                 # the test split (for reporting)
    .venv/bin/python bench/text_quality.py --split dev -v  # the dev split, with every miss

Reads labels/dev/{vi,ko,ja,zh,en}.jsonl (ews/text/evaluate.py says how items are scored) and
re-scores the project's earlier hand-labelled events (labels/events-2026-sample1.csv): of the
labelled events the extractor still produces, how many were right.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ews.catalog import load_catalog
from ews.records import Document, Provenance
from ews.settings import find_shared_data, project_root
from ews.text.evaluate import Outcome, load_labelled, precision_by_type, run, score
from ews.text.extract import Extractor

LANGS = ("vi", "ko", "ja", "zh", "en")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def labelled(extractor: Extractor, split: str, verbose: bool) -> None:
    shared = find_shared_data()
    outcomes: list[Outcome] = []
    for lang in LANGS:
        path = project_root() / "labels" / "dev" / f"{lang}.jsonl"
        if not path.exists():
            print(f"{lang}: no labelled set ({path.name})")
            continue
        if lang == "vi" and shared is None:
            print("vi: the shared data is absent; skipped")
            continue
        items = [i for i in load_labelled(path, shared=shared) if split in ("all", i.split)]
        outcomes += list(run(extractor, items))
    print(f"split: {split}; {len(outcomes)} labelled documents")
    print(
        "| language | items | with an event | recall (type + country) | type only "
        "| none items | false alarms |"
    )
    print("|---|---|---|---|---|---|---|")
    by_lang = score(outcomes, key=lambda o: o.item.lang)
    for lang in LANGS:
        s = by_lang.get(lang)
        if s is None:
            continue
        type_only = s.type_hits / s.positives if s.positives else None
        print(
            f"| {lang} | {s.positives + s.negatives} | {s.positives} | {_pct(s.recall)} "
            f"({s.hits}/{s.positives}) | {_pct(type_only)} | {s.negatives} | "
            f"{_pct(s.false_alarm_rate)} ({s.alarms}/{s.negatives}) |"
        )
    print()
    print("| type | labelled | recall | predicted precision (right/given) |")
    print("|---|---|---|---|")
    by_type = score(outcomes, key=lambda o: o.item.type)
    precision = precision_by_type(outcomes)
    for etype in sorted(set(by_type) | set(precision)):
        s = by_type.get(etype)
        right, given = precision.get(etype, (0, 0))
        if etype == "none":
            continue
        recall = f"{_pct(s.recall)} ({s.hits}/{s.positives})" if s else "–"
        prec = f"{right / given:.2f} ({right}/{given})" if given else "–"
        print(f"| {etype} | {s.positives if s else 0} | {recall} | {prec} |")
    if verbose:
        for lang in LANGS:
            s = by_lang.get(lang)
            if s is None:
                continue
            for line in s.misses:
                print(f"MISS {line}")
            for line in s.false:
                print(f"FALSE {line}")


def _shared_documents(shared: Path) -> dict[str, Document]:
    docs: dict[str, Document] = {}
    prov = Provenance(source_id="x", file_name="x", file_sha256="0" * 64, row=1)
    vi_news = shared / "news/vi/vi-news-2025-08_2026-08.jsonl.gz"
    with gzip.open(vi_news, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            docs[r["id"]] = Document(
                doc_id=r["id"],
                source_id="vi-news",
                title=r["title"],
                text=r.get("summary") or "",
                lang="vi",
                provenance=prov,
                published=dt.datetime.fromisoformat(r["published"]),
            )
    for line in (shared / "policy/critical-minerals-notices.jsonl").read_text("utf-8").splitlines():
        r = json.loads(line)
        docs[str(r["id"])] = Document(
            doc_id=str(r["id"]),
            source_id="gta-notices",
            title=r["title"],
            text=r["text"],
            lang="en",
            provenance=prov,
            published=dt.datetime.fromisoformat(r["published"]),
        )
    return docs


def own_sample(extractor: Extractor) -> None:
    shared = find_shared_data()
    if shared is None:
        print("own sample: the shared data is absent; skipped")
        return
    docs = _shared_documents(shared)
    path = project_root() / "labels" / "events-2026-sample1.csv"
    kept = right = 0
    for row in csv.DictReader(path.open(encoding="utf-8")):
        doc = docs.get(row["doc_id"])
        if doc is None:
            continue
        events = extractor.extract(doc)
        same = [
            e
            for e in events
            if e.event_type == row["event_type"] and (e.country or "") == (row["country"] or "")
        ]
        if not same:
            continue
        kept += 1
        right += row["correct"] == "yes"
    print(
        f"own labelled events (labels/events-2026-sample1.csv) still produced: {kept}; "
        f"right: {right} ({right / kept:.2f})"
        if kept
        else "own labelled events: none produced"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=["dev", "test", "all"])
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    extractor = Extractor(load_catalog())
    labelled(extractor, args.split, args.verbose)
    print()
    own_sample(extractor)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
