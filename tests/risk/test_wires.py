"""A news agency's copy is one witness, however many sites print it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ews.context import Context
from ews.risk.config import load_config
from ews.risk.inputs import event_signals
from ews.risk.score import count_voices
from ews.settings import Settings
from ews.text.extract import Extractor
from ews.text.ingest import ingest_news_file, recluster, wire_of


def test_datelines_and_credits_name_the_agency() -> None:
    assert wire_of("LONDON, Aug 30 (Reuters) - Nickel soared") == "reuters"
    assert wire_of("[東京 13日 ロイター] - 政府は") == "reuters"
    assert wire_of("(서울=연합뉴스) 김기자 = 정부는") == "yonhap"
    assert wire_of("新华社北京7月3日电 商务部") == "xinhua"
    assert wire_of("政府は13日、（共同）") == "kyodo"
    assert wire_of("WASHINGTON (AP) — The Commerce Department") == "ap"
    # A newsroom's own story that cites an agency further on is its own voice.
    assert wire_of("Hà Nội - Theo Reuters, Trung Quốc đã") is None
    assert wire_of("The ministry said on Monday, citing Reuters, that") is None
    assert wire_of(None) is None


def _news(path: Path, docs: list[tuple[str, str, str]]) -> Path:
    rows = [
        {
            "id": ident,
            "title": "China bans exports of gallium to the United States",
            "text": text,
            "published": "2024-12-03",
            "lang": "en",
            "link": link,
        }
        for ident, link, text in docs
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    return path


def _voices(tmp_path: Path, docs: list[tuple[str, str, str]]) -> int:
    store_path = str(tmp_path / "ews.duckdb")
    with Context.open(Settings(store=store_path, env="test"), store=store_path) as ctx:
        report = ingest_news_file(
            ctx.store,
            Extractor(ctx.catalog),
            _news(tmp_path / "news.jsonl", docs),
            source_id="news-jsonl",
        )
        assert report.error is None, report.error
        recluster(ctx.store, ctx.catalog)
        signals = event_signals(ctx.store, ctx.catalog, load_config())
    ga = [s for s in signals if s.group == "gallium_germanium" and s.supplier == "CN"]
    assert ga and all(s.known == dt.date(2024, 12, 3) for s in ga)
    return count_voices(s for s in ga if s.importer is None)


WIRE = "BEIJING, Dec 3 (Reuters) - China banned exports of gallium to the United States."
OWN = "China on Tuesday banned exports of gallium to the United States, its ministry said."


def test_two_sites_printing_one_wire_story_are_one_voice(tmp_path: Path) -> None:
    reprinted = [
        ("a", "https://one.example/a", WIRE),
        ("b", "https://two.example/b", WIRE),
    ]
    assert _voices(tmp_path / "wire", reprinted) == 1
    (tmp_path / "own").mkdir()
    independent = [("a", "https://one.example/a", WIRE), ("c", "https://three.example/c", OWN)]
    # Two newsrooms: two witnesses, and the second makes the control a standing one (two
    # voices by itself), so three.
    assert _voices(tmp_path / "own", independent) == 3
