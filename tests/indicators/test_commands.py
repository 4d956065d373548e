"""``ews indicators`` through Typer's runner, on the bundled sample data."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from ews.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from ews.catalog import load_catalog
    from ews.catalog.sync import sync_catalog
    from ews.sources.ingest import ingest_file
    from ews.sources.sample import sample_files
    from ews.store import Store

    path = str(tmp_path_factory.mktemp("cli") / "s.duckdb")
    with Store(path) as st:
        catalog = load_catalog()
        sync_catalog(st, catalog)
        for kind, file in sample_files():
            if kind in ("prices", "trade"):  # other stages' samples are not ours to read
                ingest_file(st, catalog, file, kind=kind)
    yield path


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--kind", "dependence", "--country", "KR", "--item", "2504"], "import dependence"),
        (["--kind", "trade", "--item", "250410"], "trade anomalies"),
        (["--kind", "prices", "--item", "310210"], "prices anomalies"),
    ],
)
def test_table_output(sample_store: str, args: list[str], expect: str) -> None:
    result = runner.invoke(
        app, ["indicators", *args, "--store", sample_store], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert expect in result.output and "saved with" in result.output


def test_json_output_carries_provenance(sample_store: str) -> None:
    result = runner.invoke(
        app,
        [
            "indicators",
            "--kind",
            "prices",
            "--item",
            "7502",
            "--format",
            "json",
            "--store",
            sample_store,
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["inputs"][0]["file_name"] == "pinksheet-2000.xlsx"
    assert payload["params"]["detectors"][0]["detector"] == "PriceAnomaly"
    assert {a["series_key"] for a in payload["results"]} == {"price:pinksheet:nickel"}
    assert any(a["period"] == "2022-03-01" for a in payload["results"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "nope"], "unknown kind"),
        (["--format", "xml"], "unknown format"),
        (["--country", "Korea"], "ISO alpha-2"),
        (["--country", "QQ"], "unknown country"),
        (["--kind", "prices", "--country", "KR"], "does not apply"),
    ],
)
def test_errors_are_one_line_and_exit_2(sample_store: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["indicators", *args, "--store", sample_store])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_help_lists_the_options() -> None:
    result = runner.invoke(app, ["indicators", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--kind", "--country", "--item", "--format"):
        assert option in result.output
