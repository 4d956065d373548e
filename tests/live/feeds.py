"""Feeds built at test time from the real Vietnamese news of ../shared/data (the project keeps
no news text of others): an RSS 2.0 document of chosen real items, dated as asked."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from email.utils import format_datetime
from xml.sax.saxutils import escape

from tests.conftest import shared_file

VI_NEWS = "news/vi/vi-news-2025-08_2026-08.jsonl.gz"


def vi_items(words: tuple[str, ...], *, since: str, until: str, limit: int) -> list[dict[str, str]]:
    """Real items whose title or summary holds every one of ``words``, in the date range."""
    found = []
    with gzip.open(shared_file(VI_NEWS), "rt", encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            if not since <= item["published"][:10] <= until:
                continue
            text = f"{item['title']} {item['summary']}".lower()
            if all(w in text for w in words):
                found.append(item)
                if len(found) >= limit:
                    break
    return found


def rss(items: list[dict[str, str]], *, published: dt.datetime | None = None) -> bytes:
    """The items as an RSS 2.0 feed (``published`` replaces their dates when given)."""
    entries = []
    for item in items:
        when = published or dt.datetime.fromisoformat(item["published"])
        entries.append(
            "<item>"
            f"<title>{escape(item['title'])}</title>"
            f"<description>{escape(item['summary'])}</description>"
            f"<link>{escape(item['link'])}</link>"
            f"<guid>{escape(item['id'])}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>test feed</title><language>vi</language>" + "".join(entries) + "</channel></rss>"
    ).encode()
