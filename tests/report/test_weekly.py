"""The weekly brief on the bundled sample data: what it carries, its marking, its files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ews.alerts.records import LEVELS
from ews.catalog import Catalog
from ews.cli import app
from ews.errors import InputError
from ews.report.weekly import build_weekly, parse_week, render_html
from ews.store import Store
from tests.api.conftest import RED_ID, Api


def test_parse_week() -> None:
    monday, sunday = parse_week("2025-W41")
    assert (monday.isoformat(), sunday.isoformat()) == ("2025-10-06", "2025-10-12")
    assert parse_week("2026w01")[0].isoformat() == "2025-12-29"  # ISO weeks cross years
    for bad in ("2025-41", "W41", "2025-W54", "2025-W00", ""):
        with pytest.raises(InputError, match="--week"):
            parse_week(bad)


def test_brief_of_week_41(api: Api, catalog: Catalog) -> None:
    with Store(api.settings.store, read_only=True) as store:
        brief = build_weekly(store, catalog, "2025-W41", node_id="kr-test", with_charts=True)
    rare = [x for x in brief.lines if x.alert.hs == "280530" and x.alert.supplier == "CN"]
    assert rare, [x.alert.alert_id for x in brief.lines]
    line = rare[0]
    # Raised in August, still standing in the week of 6-12 October 2025 at alert level or above.
    assert line.alert.sent.date() <= brief.sunday
    assert line.alert.level in ("alert", "serious")
    assert line.evidence and any(e.kind == "event" for e in line.evidence)
    assert "Level" in line.charts and line.charts["Level"].lstrip().startswith(("<svg", "<?xml"))
    # Highest level first.
    ranks = [LEVELS.index(x.alert.level) for x in brief.lines]
    assert ranks == sorted(ranks, reverse=True)
    assert all(brief.monday <= e.date <= brief.sunday for e in brief.events)
    assert sum(brief.counts.values()) == len(brief.lines)


def test_red_stays_out_unless_asked(api: Api, catalog: Catalog) -> None:
    with Store(api.settings.store, read_only=True) as store:
        plain = build_weekly(store, catalog, "2026-W01", node_id="n", with_charts=False)
        red = build_weekly(
            store, catalog, "2026-W01", node_id="n", include_red=True, with_charts=False
        )
    assert RED_ID not in {x.alert.alert_id for x in plain.lines}
    assert plain.left_out_red >= 1 and plain.tlp != "RED"
    assert RED_ID in {x.alert.alert_id for x in red.lines}
    assert red.tlp == "RED"
    html = render_html(red, catalog)
    assert html.count("TLP:RED") >= 2  # marked at the top and the bottom


def test_report_command_writes_html_and_pdf(api: Api, tmp_path: Path) -> None:
    runner = CliRunner()
    html_file = tmp_path / "brief.html"
    result = runner.invoke(
        app,
        ["report", "--week", "2025-W41", "--store", api.settings.store, "--out", str(html_file)],
    )
    assert result.exit_code == 0, result.output
    html = html_file.read_text(encoding="utf-8")
    assert "EWS weekly brief · 2025-W41" in html
    assert "<svg" in html and "Rare earths" in html
    # Self-contained: nothing is fetched from elsewhere when the file is opened.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    pdf_file = tmp_path / "brief.pdf"
    result = runner.invoke(
        app,
        [
            "report",
            "--week",
            "2025-W41",
            "--format",
            "pdf",
            "--store",
            api.settings.store,
            "--out",
            str(pdf_file),
        ],
    )
    assert result.exit_code == 0, result.output
    data = pdf_file.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]
    from weasyprint import HTML

    pages = HTML(string=html).render().pages
    assert len(pages) >= 2  # the same document, typeset: summary, alerts, evidence, events
    assert not list(tmp_path.glob("*.part"))
    bad = runner.invoke(app, ["report", "--week", "41", "--store", api.settings.store])
    assert bad.exit_code == 2 and "ISO week" in bad.output
    later = tmp_path / "later.html"
    future = runner.invoke(
        app, ["report", "--week", "2030-W01", "--store", api.settings.store, "--out", str(later)]
    )
    assert future.exit_code == 2 and "has not begun" in future.output
    assert not later.exists()  # no empty brief that reads as a quiet week
