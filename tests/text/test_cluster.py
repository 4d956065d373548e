"""Near-duplicate grouping across outlets and languages."""

from __future__ import annotations

import datetime as dt

from ews.catalog import Catalog
from ews.records import Event
from ews.text.cluster import cluster_events, similarity, sketch
from ews.text.extract import event_id


def ev(
    doc: str,
    lang: str,
    day: int,
    evidence: str,
    *,
    etype: str = "export_restriction",
    country: str | None = "CN",
    items: tuple[str, ...] = ("284690",),
) -> Event:
    return Event(
        event_id=event_id(doc, etype, country, items),
        doc_id=doc,
        lang=lang,  # type: ignore[arg-type]
        event_type=etype,  # type: ignore[arg-type]
        items=items,
        country=country,
        date=dt.date(2025, 10, day),
        evidence=evidence,
        confidence=0.9,
    )


def test_same_story_in_three_languages_is_one_cluster(catalog: Catalog) -> None:
    events = [
        ev("a", "vi", 9, "Trung Quốc siết xuất khẩu đất hiếm"),
        ev("b", "ko", 9, "중국, 희토류 수출 통제 강화"),
        ev("c", "en", 10, "China tightens rare earth export controls"),
        ev("d", "en", 30, "China tightens rare earth export controls again"),  # outside window
        ev("e", "en", 9, "Examplestan bans tin exports", country="ID", items=("8001",)),
    ]
    clusters = cluster_events(events, catalog, sources={"a": "x", "b": "y", "c": "y"})
    sizes = sorted(len(c.event_ids) for c in clusters)
    assert sizes == [1, 1, 3]
    big = next(c for c in clusters if len(c.event_ids) == 3)
    assert big.sources == 2  # b and c come from the same outlet
    assert big.first_date == dt.date(2025, 10, 9)
    assert len(big.cluster_id) == 16


def test_near_copies_meet_even_when_items_differ(catalog: Catalog) -> None:
    text = "Bộ Thương mại Trung Quốc thông báo mở rộng kiểm soát xuất khẩu đất hiếm"
    events = [ev("a", "vi", 9, text), ev("b", "vi", 9, text + ".", items=())]
    assert len(cluster_events(events, catalog)) == 1


def test_sketch_similarity() -> None:
    a = sketch("China tightens rare earth export controls")
    assert similarity(a, a) == 1.0
    assert similarity(a, sketch("Heavy rain floods the capital")) < 0.2
    assert similarity((), a) == 0.0


def test_no_events_no_clusters(catalog: Catalog) -> None:
    assert cluster_events([], catalog) == []
