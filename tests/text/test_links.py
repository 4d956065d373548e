"""News links: a news file or feed carrying ``javascript:`` (or any non-http scheme) stores the
document without the link, and the events read side never hands one out, even from a store
written before links were checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ews.catalog import Catalog
from ews.sources.news import parse_feed
from ews.store import Store
from ews.text.events_file import ingest_events_file
from ews.text.extract import Extractor
from ews.text.ingest import ingest_news_file
from ews.text.queries import EventFilter, list_events

HOSTILE = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
)
GOOD = "https://a.example.invalid/ok"
TITLES = (
    "Trung Quốc cấm xuất khẩu gali",
    "中国宣布对镓实施出口管制",
    "중국, 갈륨 수출 통제 강화",
    "China bans gallium exports",
    "Trung Quốc siết xuất khẩu gali và germani",
    "China restricts gallium exports again",
)


def hostile_news(path: Path) -> Path:
    """A news file whose items name an export ban each, behind a hostile link (the last one
    behind a good link)."""
    links = (*HOSTILE, GOOD)
    lines = [
        {
            "id": f"n{i}",
            "title": title,
            "text": title,
            "published": f"2025-10-{9 + i:02d}",
            "link": link,
            "source": f"outlet{i}",
        }
        for i, (title, link) in enumerate(zip(TITLES, links, strict=True))
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", "utf-8")
    return path


def test_a_news_file_with_hostile_links_is_stored_without_them(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    report = ingest_news_file(store, Extractor(catalog), hostile_news(tmp_path / "n.jsonl"))
    assert report.documents == len(TITLES)  # nothing refused: only the links are dropped
    links = {r["doc_id"]: r["link"] for r in store.query("SELECT doc_id, link FROM documents")}
    assert links == {**{f"n{i}": None for i in range(len(HOSTILE))}, "n5": GOOD}
    events = list_events(store, EventFilter(), limit=100)
    assert len(events) >= len(TITLES)
    assert {e["link"] for e in events} == {None, GOOD}


def test_a_feed_with_hostile_links_gives_documents_without_them() -> None:
    items = "".join(
        f"<item><title>{t}</title><link>{link.strip()}</link><guid>g{i}</guid></item>"
        for i, (t, link) in enumerate(zip(TITLES, (*HOSTILE, GOOD), strict=True))
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )
    docs = parse_feed(
        feed.replace("<script>", "&lt;script&gt;").replace("</script>", "&lt;/script&gt;").encode(),
        source_id="news-feed",
        file_name="f.xml",
        file_sha256="0" * 64,
        skipped={},
    )
    assert len(docs) == len(TITLES)
    assert [d.link for d in docs] == [None] * len(HOSTILE) + [GOOD]


@pytest.mark.parametrize("link", HOSTILE)
def test_events_read_side_drops_hostile_links_already_stored(
    store: Store, catalog: Catalog, tmp_path: Path, link: str
) -> None:
    # An events file stores its stub documents' links as given, and a store written before
    # the check holds whatever came: the read side is the last guard before a page or the API.
    path = tmp_path / "events.jsonl"
    row = {
        "event_id": "ev1",
        "doc_id": "d1",
        "lang": "vi",
        "event_type": "export_restriction",
        "items": ["811292"],
        "country": "CN",
        "date": "2025-10-09",
        "evidence": "Trung Quốc cấm xuất khẩu gali",
        "confidence": 0.9,
        "link": link,
    }
    path.write_text(json.dumps(row) + "\n", "utf-8")
    ingest_events_file(store, catalog, path)
    store.execute("UPDATE documents SET link = ? WHERE doc_id = 'd1'", [link])
    assert store.scalar("SELECT link FROM documents WHERE doc_id = 'd1'") == link
    (event,) = list_events(store, EventFilter(item="811292"), limit=10, with_items=True)
    assert event["event_id"] == "ev1" and event["link"] is None
