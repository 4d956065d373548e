"""Extraction throughput, as a ratio to a raw Aho-Corasick scan of the same lexicon.

Run by hand: ``.venv/bin/python bench/extract.py [--runs 5]``. Two corpora, both held in
memory before timing so that reading and JSON parsing are not measured:

* ``vi``: the whole Vietnamese news set (../shared/data/news/vi, 153,821 items);
* ``mixed``: the Vietnamese set's first 20,000 items, the English policy notices, the five
  seed articles and composed ko/ja/zh sentences (built here, not news text).

For each run: the time of ``Extractor.extract`` over every document, and the time of a bare
``automaton.iter`` over the same title+text strings (lower-cased beforehand, so the scan gets
the easiest possible input). Reported: medians over the runs of documents/s, MB/s (UTF-8
bytes of title+text) and the ratio extraction/scan; peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

from ews.catalog import load_catalog
from ews.records import Document, Provenance
from ews.settings import find_shared_data
from ews.text.extract import Extractor
from ews.text.ingest import open_documents

PROV = Provenance(source_id="bench", file_name="composed", file_sha256="0" * 64, row=1)
COMPOSED = {
    "ko": [
        "중국 정부가 희토류 수출 통제를 강화한다고 발표했다",
        "요소수 품귀 현상이 계속되면서 물류 업계가 우려하고 있다",
        "한미 양국은 핵심광물 공급망 협력을 위한 대화를 열었다",
        "정부는 갈륨 수출을 제한할 계획이 없다고 밝혔다",
        "리튬 가격이 급등하면서 배터리 업계의 부담이 커졌다",
    ],
    "ja": [
        "中国政府はガリウムとゲルマニウムの輸出規制を強化すると発表した",
        "インドネシアはニッケル鉱石の輸出禁止を解除した",
        "日米韓は重要鉱物の供給網で協力することで合意した",
        "銅の製錬所で火災が発生し、操業停止となった",
        "レアアースの輸出制限を検討しているとの報道がある",
    ],
    "zh": [
        "商务部宣布对部分稀土物项实施出口管制",
        "中国宣布暂停实施相关出口管制措施",
        "受台风影响，港口拥堵导致航运中断",
        "锂价格大幅上涨，电池企业成本承压",
        "中國宣布禁止出口鎵和鍺相關物項",
    ],
}


def _composed(repeat: int) -> list[Document]:
    docs = []
    for lang, sentences in COMPOSED.items():
        for r in range(repeat):
            for i, text in enumerate(sentences):
                docs.append(
                    Document(
                        doc_id=f"{lang}-{r}-{i}", source_id="bench", title=text, provenance=PROV
                    )
                )
    return docs


def _load(shared: Path, catalog: object, relative: str, limit: int | None = None) -> list[Document]:
    _, _, docs = open_documents(shared / relative, catalog, source_id=None, max_bytes=2**31)  # type: ignore[arg-type]
    out = []
    for doc in docs:
        out.append(doc)
        if limit is not None and len(out) >= limit:
            break
    return out


def _seeds(shared: Path, catalog: object) -> list[Document]:
    docs: list[Document] = []
    for path in sorted((shared / "news" / "seeds").glob("*.txt")):
        docs += _load(shared, catalog, str(path.relative_to(shared)))
    return docs


def measure(name: str, docs: list[Document], extractor: Extractor, runs: int) -> dict[str, float]:
    texts = [f"{d.title}\n{d.text}" for d in docs]
    lowered = [t.lower() for t in texts]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    automaton = extractor.lexicon.automaton
    ext_times, scan_times, events = [], [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        hits = 0
        for text in lowered:
            for _hit in automaton.iter(text):
                hits += 1
        t1 = time.perf_counter()
        events = 0
        for doc in docs:
            events += len(extractor.extract(doc))
        t2 = time.perf_counter()
        scan_times.append(t1 - t0)
        ext_times.append(t2 - t1)
    ext = statistics.median(ext_times)
    scan = statistics.median(scan_times)
    result = {
        "docs": len(docs),
        "MB": mb,
        "events": events,
        "extract_docs_s": len(docs) / ext,
        "extract_MB_s": mb / ext,
        "scan_MB_s": mb / scan,
        "ratio": scan / ext,
    }
    print(
        f"{name:6} {len(docs):>8,} docs {mb:7.1f} MB  events {events:>6,}  "
        f"extract {result['extract_docs_s']:>9,.0f} docs/s {result['extract_MB_s']:6.2f} MB/s  "
        f"scan {result['scan_MB_s']:6.2f} MB/s  ratio {result['ratio']:.2f}  "
        f"(medians of {runs} runs)",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    shared = find_shared_data()
    if shared is None:
        print("no ../shared/data on this machine: nothing to measure", file=sys.stderr)
        return 1
    catalog = load_catalog()
    extractor = Extractor(catalog)
    print(f"lexicon: {extractor.lexicon.patterns:,} patterns; extractor {extractor.version}")
    vi = _load(shared, catalog, "news/vi/vi-news-2025-08_2026-08.jsonl.gz")
    notices = _load(shared, catalog, "policy/critical-minerals-notices.jsonl")
    mixed = vi[:20000] + notices + _seeds(shared, catalog) + _composed(400)
    measure("vi", vi, extractor, args.runs)
    measure("mixed", mixed, extractor, args.runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB (documents held in memory included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
