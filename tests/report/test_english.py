"""Evidence for English readers: each sentence once, beside its English rendering, in the
dashboard's event lists, the weekly brief and an alert's explanation (sentences written here)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ews.alerts.records import Evidence
from ews.alerts.repository import load_alerts
from ews.catalog import Catalog
from ews.cli import app
from ews.context import Context
from ews.report import views
from ews.report.weekly import build_weekly, render_html
from ews.risk.explain import explain_evidence
from ews.settings import Settings
from ews.store import Store
from ews.text.events_file import ingest_events_file
from ews.text.gloss import Glossary
from tests.api.conftest import Api

# China tightens rare-earth export controls towards the US.
SENTENCE = "Trung Quốc siết chặt kiểm soát xuất khẩu đất hiếm sang Mỹ."
RARE = ["280530", "284610", "284690", "850511"]


def _event(n: int, evidence: str, day: str, link: str, **extra: object) -> dict[str, object]:
    return {
        "event_id": f"ev{n:014d}",
        "doc_id": f"doc{n}",
        "lang": "vi",
        "event_type": "export_restriction",
        "items": RARE,
        "country": "CN",
        "date": day,
        "evidence": evidence,
        "confidence": 0.8,
        "matched": ["xuất khẩu", "kiểm soát", "đất hiếm", "trung quốc"],
        "published": f"{day}T08:00:00+07:00",
        "link": link,
        "source_id": "vi-news",
        **extra,
    }


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("english")
    path = str(folder / "ews.duckdb")
    rows = [
        # One sentence carried by three documents of two outlets, spelled three ways.
        _event(1, SENTENCE, "2025-10-09", "https://tuoitre.vn/a"),
        _event(2, "  " + SENTENCE.upper().replace(" ", "  "), "2025-10-10", "https://tuoitre.vn/b"),
        _event(3, SENTENCE, "2025-10-11", "https://vnexpress.net/c"),
        # Another sentence: Korea halts urea exports (another actor, item and type).
        _event(
            4,
            "Hàn Quốc tạm dừng xuất khẩu urê.",
            "2025-10-10",
            "https://thanhnien.vn/d",
            country="KR",
            items=["310210"],
            matched=["xuất khẩu", "tạm dừng", "urê", "hàn quốc"],
        ),
    ]
    file = folder / "events.jsonl"
    file.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    settings = Settings(store=path, env="test")
    with Context.open(settings, store=path) as ctx:
        ingest_events_file(ctx.store, ctx.catalog, file)
    yield path


@pytest.fixture(scope="module")
def glossary(catalog: Catalog) -> Glossary:
    return Glossary(catalog)


def test_same_sentence_is_one_row_with_a_count(
    store_path: str, catalog: Catalog, glossary: Glossary
) -> None:
    with Store(store_path, read_only=True) as store:
        rows = views.events(store, catalog, glossary)
    assert len(rows) == 2
    rare = next(r for r in rows if r.country == "CN")
    assert (rare.documents, rare.sources) == (3, 2)
    assert rare.carried == "3 documents from 2 sources"
    assert rare.date == dt.date(2025, 10, 9)  # the earliest
    assert rare.link == "https://tuoitre.vn/a"
    assert sorted(rare.event_ids) == [f"ev{n:014d}" for n in (1, 2, 3)]
    assert rare.rendering is not None
    assert rare.rendering.summary() == (
        "China — export restriction (controls) on rare earths, targeting United States, "
        "reported 2025-10-09"
    )
    urea = next(r for r in rows if r.country == "KR")
    assert urea.documents == 1 and urea.carried == ""
    assert urea.rendering is not None and urea.rendering.actor == "South Korea"
    assert urea.rendering.measure == "export restriction (suspension)"
    frame = views.events_frame(rows)
    assert list(frame["documents"]) == [r.documents for r in rows]
    assert frame["english"].str.contains(" — ").all()


def test_alert_evidence_once_with_rendering(
    store_path: str, catalog: Catalog, glossary: Glossary
) -> None:
    summary = "export_restriction (CN), 2 source(s), first 2025-10-09"
    evidence = [
        Evidence(kind="event", ref=f"ev{1:014d}:rare_earths", summary=summary, lang="vi",
                 text=SENTENCE, date=dt.date(2025, 10, 9), weight=0.4),
        Evidence(kind="price_anomaly", ref="price:x", summary="price jump", figure=2.0),
        # The same sentence again (another cluster of the story), spelled otherwise.
        Evidence(kind="event", ref=f"ev{3:014d}:rare_earths", summary=summary, lang="vi",
                 text=SENTENCE.lower(), date=dt.date(2025, 10, 11), weight=0.2),
        # A partner's evidence: no stored event here; rendered from the record itself.
        Evidence(kind="event", ref="partner-cluster:rare_earths", summary=summary, lang="zh",
                 text="中国宣布对美国实施稀土出口管制。", date=dt.date(2025, 10, 9), weight=0.1),
    ]  # fmt: skip
    with Store(store_path, read_only=True) as store:
        lines = explain_evidence(store, catalog, glossary, evidence)
    assert [line.evidence.ref for line in lines] == [
        f"ev{1:014d}:rare_earths",
        "price:x",
        "partner-cluster:rare_earths",
    ]
    first, anomaly, partner = lines
    assert first.merged == 2 and first.documents == 2 and first.sources == 2
    assert first.carried == "2 documents from 2 sources"
    assert first.rendering is not None
    assert (first.rendering.actor, first.rendering.goods, first.rendering.target) == (
        "China",
        "rare earths",
        "United States",
    )
    assert anomaly.rendering is None
    assert partner.rendering is not None
    assert partner.rendering.actor == "China" and partner.rendering.goods == "rare earths"
    assert partner.rendering.target == "United States"


def test_brief_shows_english_beside_each_sentence_once(
    store_path: str, catalog: Catalog, tmp_path: Path
) -> None:
    with Store(store_path, read_only=True) as store:
        brief = build_weekly(store, catalog, "2025-W41", node_id="n", with_charts=False)
    html = render_html(brief, catalog)
    assert len(brief.events) == 2
    assert html.count('<tr class="event-row">') == 2
    assert html.count(SENTENCE) == 1
    assert "carried by 3 documents from 2 sources" in html
    assert (
        "China — export restriction (controls) on rare earths, targeting United States, "
        "reported 2025-10-09"
    ) in html
    assert "<dt>target</dt><dd>United States</dd>" in html


def test_explain_command_prints_english(api: Api) -> None:
    with Store(api.settings.store, read_only=True) as store:
        alerts = load_alerts(store)
    rare = next(a for a in alerts if a.hs == "280530" and a.supplier == "CN" and a.evidence)
    result = CliRunner().invoke(app, ["explain", rare.alert_id, "--store", api.settings.store])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # the console wraps long lines
    assert "in English: China — export restriction" in out
    assert "actor China · measure export restriction" in out
