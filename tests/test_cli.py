"""End-to-end: the ``ews`` command on real data, through Typer's runner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ews.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    store = tmp_path / "cli.duckdb"
    monkeypatch.setenv("EWS_STORE", str(store))
    monkeypatch.setenv("COLUMNS", "200")
    from ews.settings import get_settings

    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()


def test_demo_builds_a_board(env: Path, tmp_path: Path) -> None:
    demo = tmp_path / "demo.duckdb"
    result = runner.invoke(app, ["demo", "--store", str(demo)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "critical items" in out
    assert "Urea" in out and "695.00 $/mt" not in out  # the board shows the latest month
    assert "alert board" in out and "closed (peak" in out
    assert "→KR" in out
    again = runner.invoke(app, ["demo", "--store", str(demo)])  # fresh each time
    assert again.exit_code == 0 and "already ingested" not in again.output


def test_ingest_real_files_then_board(env: Path, pinksheet: Path, china_hs6: Path) -> None:
    result = runner.invoke(app, ["ingest", "prices", str(pinksheet)])
    assert result.exit_code == 0, result.output
    assert "new" in result.output
    result = runner.invoke(app, ["ingest", "trade", str(china_hs6)])
    assert result.exit_code == 0 and "6,442 new" in result.output
    result = runner.invoke(app, ["ingest", "trade", str(china_hs6)])
    assert "already ingested" in result.output
    board = runner.invoke(app, ["board"])
    assert board.exit_code == 0
    assert "Urea" in board.output and "Nickel" in board.output
    info = runner.invoke(app, ["info"])
    assert "trade_observations" in info.output and "6,442" in info.output
    audit = runner.invoke(app, ["audit", "verify"])
    assert audit.exit_code == 0 and "intact: 2 records" in audit.output


def test_bad_input_is_one_line_and_exit_2(env: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("period_dt,partner_name,hs6,val,qty,uv\n2017-01-01,Japan,250410,-1,1,1\n")
    result = runner.invoke(app, ["ingest", "trade", str(bad)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert f"{bad}:2: field 'val': negative value -1" in lines[0]


def test_missing_file_exit_2(env: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "prices", str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 2 and "no such file" in result.output


@pytest.mark.parametrize(
    "query", ["urea", "요소", "尿素", "urê", "ure", "ガリウム", "鎵", "dat hiem"]
)
def test_items_search_in_any_language(env: Path, query: str) -> None:
    result = runner.invoke(app, ["items", query, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)


def test_items_table_and_no_match(env: Path) -> None:
    result = runner.invoke(app, ["items", "--lang", "vi"])
    assert result.exit_code == 0 and "critical items" in result.output
    assert runner.invoke(app, ["items", "zzzz-no-such-item"]).exit_code == 1
    assert runner.invoke(app, ["items", "--lang", "xx"]).exit_code == 2


def test_countries_and_sources(env: Path) -> None:
    result = runner.invoke(app, ["countries", "Hàn Quốc"])
    assert result.exit_code == 0 and "KR" in result.output
    sources = runner.invoke(app, ["sources"])
    assert "pinksheet" in sources.output and "comtrade" in sources.output


def test_trade_files_are_ingested_one_by_one_with_a_failing_summary(tmp_path: Path) -> None:
    """`ews ingest trade a.csv junk b.csv`: the good files are stored, the bad one is named,
    and the command fails (exit 2) so a script notices."""
    from ews.sources.sample import sample_files

    store = str(tmp_path / "t.duckdb")
    good = [f for kind, f in sample_files() if kind == "trade"]
    junk = tmp_path / "junk.csv"
    junk.write_text("name,colour\nlemon,yellow\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["ingest", "trade", str(good[0]), str(junk), str(good[1]), "--store", store]
    )
    assert result.exit_code == 2, result.output
    assert "1 of 3 files not ingested" in result.output
    assert result.output.count(" new, ") == 2  # both real files stored


def test_now_is_the_default_view(env: Path, tmp_path: Path) -> None:
    # Before any store: the list of commands, and how to make one.
    bare = runner.invoke(app, [])
    assert bare.exit_code == 0 and "ews demo" in bare.output and "now" in bare.output
    assert not env.exists()  # looking did not create a store
    assert runner.invoke(app, ["demo", "--store", str(env)]).exit_code == 0
    # The demo's sample ends in Aug 2026: its view on its newest day lists open alerts.
    day = runner.invoke(app, ["now", "--format", "json"])
    assert day.exit_code == 0, day.output
    newest = json.loads(day.output)["newest_data"]
    shown = runner.invoke(app, ["now", "--country", "Hàn Quốc", "--as-of", newest])
    assert shown.exit_code == 0, shown.output
    assert "What is at risk for South Korea now" in shown.output
    assert "Freshness of the data" in shown.output and "vi-news" in shown.output
    body = json.loads(runner.invoke(app, ["now", "--as-of", newest, "--format", "json"]).output)
    assert body["alerts"] and body["country"] == "KR"
    # Bare `ews` once a store exists: the same view, today.
    today = runner.invoke(app, [])
    assert today.exit_code == 0 and "What is at risk for South Korea now" in today.output
    bad = runner.invoke(app, ["now", "--country", "Atlantis"])
    assert bad.exit_code == 2 and "unknown country" in bad.output
    future = runner.invoke(app, ["now", "--as-of", "2999-01-01"])
    assert future.exit_code == 2 and "future" in future.output


def test_now_in_japanese(env: Path) -> None:
    """`ews now --lang ja`: the view's sentences and the command's own words in Japanese; JSON
    keys stay English; an unknown language is refused."""
    assert runner.invoke(app, ["demo", "--store", str(env)]).exit_code == 0
    newest = json.loads(runner.invoke(app, ["now", "--format", "json"]).output)["newest_data"]
    shown = runner.invoke(app, ["now", "--country", "KR", "--as-of", newest, "--lang", "ja"])
    assert shown.exit_code == 0, shown.output
    assert "いま韓国にとってのリスク" in shown.output and "データの鮮度" in shown.output
    assert re.search(r"(注意|警戒|厳重警戒|深刻)", shown.output)
    assert "What is at risk" not in shown.output
    body = json.loads(
        runner.invoke(app, ["now", "--as-of", newest, "--lang", "ja", "--format", "json"]).output
    )
    assert body["alerts"] and body["alerts"][0]["scope"] in (
        "自国の監視リスト",
        "世界の供給",
        "韓国の供給国",
    )
    bad = runner.invoke(app, ["now", "--lang", "xx"])
    assert bad.exit_code == 2 and "unknown language" in bad.output


def test_help_reads_as_plain_english(env: Path) -> None:
    for args in (["--help"], ["alerts", "--help"], ["report", "--help"], ["explain", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        # No Python type tags: a flag has no type, a value says what to type.
        assert "<bool>" not in result.output and "<str>" not in result.output, result.output
    alerts = runner.invoke(app, ["alerts", "--help"]).output
    assert "[table|json]" in alerts and "[normal|attention|caution|alert|serious]" in alerts
    assert "TEXT" in alerts  # --store
    assert "[html|pdf]" in runner.invoke(app, ["report", "--help"]).output


def test_alerts_counts_and_level(env: Path, tmp_path: Path) -> None:
    demo = str(tmp_path / "demo.duckdb")
    assert runner.invoke(app, ["demo", "--store", demo]).exit_code == 0
    shown = runner.invoke(app, ["alerts", "--store", demo])
    assert "open, closed ones not shown" in shown.output
    every = runner.invoke(app, ["alerts", "--store", demo, "--include-cancelled"]).output
    opened, closed = map(int, re.search(r"(\d+) open, (\d+) closed", every).groups())  # type: ignore[union-attr]
    rows = json.loads(
        runner.invoke(
            app, ["alerts", "--store", demo, "--include-cancelled", "--format", "json"]
        ).output
    )
    assert opened == sum(r["msg_type"] != "Cancel" for r in rows)
    assert closed == sum(r["msg_type"] == "Cancel" for r in rows)
    high = json.loads(
        runner.invoke(
            app,
            [
                "alerts",
                "--store",
                demo,
                "--include-cancelled",
                "--level",
                "caution",
                "--format",
                "json",
            ],
        ).output
    )
    # An open alert by its level now, a closed one by its peak.
    for r in high:
        judged = r["peak_level"] if r["msg_type"] == "Cancel" else r["level"]
        assert judged in ("caution", "alert", "serious"), r
