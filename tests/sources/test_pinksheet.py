from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest

from ews.catalog import Catalog
from ews.errors import InputError, SourceShapeError
from ews.records import PriceObservation
from ews.sources.files import open_input
from ews.sources.registry import ReadContext, get_spec
from tests.sources.helpers import edited_workbook, header_index, sample


def read(path: Path, catalog: Catalog) -> tuple[list[PriceObservation], ReadContext]:
    spec = get_spec("pinksheet")
    ctx = ReadContext(spec=spec, catalog=catalog, file=open_input(path, max_bytes=10**9))
    return list(spec.read_function()(ctx)), ctx


def by_series(rows: list[PriceObservation], series: str) -> dict[dt.date, PriceObservation]:
    return {r.period: r for r in rows if r.series_id == series}


def test_real_pinksheet_layout(pinksheet: Path, catalog: Catalog) -> None:
    rows, ctx = read(pinksheet, catalog)
    urea = by_series(rows, "urea")
    assert urea[dt.date(2021, 10, 1)].value == pytest.approx(695.0)
    assert urea[dt.date(2021, 9, 1)].value == pytest.approx(418.75)
    assert urea[dt.date(2021, 10, 1)].hs == "310210"
    assert urea[dt.date(2021, 10, 1)].unit == "$/mt"
    nickel = by_series(rows, "nickel")
    assert nickel[dt.date(2022, 3, 1)].value == pytest.approx(33924.18)
    assert nickel[dt.date(2022, 3, 1)].hs == "7502"
    # every month from 1960 for a long series, the '…' cells skipped not zeroed
    assert min(urea) == dt.date(1960, 1, 1)
    assert all(r.value > 0 for r in rows if r.series_id == "crude_oil_wti")
    assert len({r.series_id for r in rows}) >= 70
    prov = urea[dt.date(2021, 10, 1)].provenance
    assert prov.row > 700 and prov.column and prov.file_sha256 == ctx.file.sha256
    assert ctx.warnings == []


def test_bundled_sample_reads_the_same_way(catalog: Catalog) -> None:
    rows, _ = read(sample("pinksheet-2000.xlsx"), catalog)
    assert by_series(rows, "urea")[dt.date(2021, 10, 1)].value == pytest.approx(695.0)


def _set(ws: Any, title: str, period: str, value: object) -> None:
    col = header_index(ws, title)
    for row in ws.iter_rows(min_row=7):
        if row[0].value == period:
            ws.cell(row=row[0].row, column=col, value=value)
            return
    raise KeyError(period)


def test_negative_price_names_row_and_series(tmp_path: Path, catalog: Catalog) -> None:
    path = edited_workbook(tmp_path, lambda ws: _set(ws, "Urea", "2021M10", -5))
    with pytest.raises(InputError) as exc:
        read(path, catalog)
    assert exc.value.field == "Urea"
    assert exc.value.row is not None and "negative" in str(exc.value)


def test_text_in_a_price_cell_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    path = edited_workbook(tmp_path, lambda ws: _set(ws, "Nickel", "2022M03", "n.a.x"))
    with pytest.raises(InputError, match="not a number"):
        read(path, catalog)


def test_missing_mapped_series_is_a_shape_change(tmp_path: Path, catalog: Catalog) -> None:
    def drop_urea(ws: Any) -> None:
        ws.cell(row=5, column=header_index(ws, "Urea"), value="Urea, granular (new)")

    path = edited_workbook(tmp_path, drop_urea)
    with pytest.raises(SourceShapeError, match="Urea"):
        read(path, catalog)


def test_moved_header_row_is_a_shape_change(tmp_path: Path, catalog: Catalog) -> None:
    path = edited_workbook(tmp_path, lambda ws: ws.insert_rows(1))
    with pytest.raises(SourceShapeError):
        read(path, catalog)


def test_renamed_sheet_is_a_shape_change(tmp_path: Path, catalog: Catalog) -> None:
    def rename(ws: Any) -> None:
        ws.title = "Prices"

    path = edited_workbook(tmp_path, rename)
    with pytest.raises(SourceShapeError, match="no sheet"):
        read(path, catalog)


def test_new_series_is_stored_and_reported(tmp_path: Path, catalog: Catalog) -> None:
    def add(ws: Any) -> None:
        col = ws.max_column + 1
        ws.cell(row=5, column=col, value="Lithium carbonate")
        ws.cell(row=6, column=col, value="($/mt)")
        ws.cell(row=7, column=col, value=9000.0)

    rows, ctx = read(edited_workbook(tmp_path, add), catalog)
    new = [r for r in rows if r.series_id == "lithium_carbonate"]
    assert len(new) == 1 and new[0].hs is None
    assert any("Lithium carbonate" in w for w in ctx.warnings)


@pytest.mark.parametrize(
    "content", [b"PK\x03\x04 broken zip", b"not a workbook at all", b"\x00" * 100]
)
def test_unreadable_workbook(tmp_path: Path, catalog: Catalog, content: bytes) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    with pytest.raises(InputError, match="unreadable workbook"):
        read(path, catalog)


def test_a_zip_bomb_workbook_is_refused_before_unpacking(tmp_path: Path, catalog: Catalog) -> None:
    """A sheet of 20 MB of zeros packs ~1000:1; a real workbook's XML packs 10-30:1."""
    bomb = tmp_path / "bomb.xlsx"
    with (
        zipfile.ZipFile(sample("pinksheet-2000.xlsx")) as real,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for member in real.infolist():
            out.writestr(member, real.read(member))
        out.writestr("xl/worksheets/padding.xml", b"\0" * (20 * 1024**2))
    with pytest.raises(InputError, match="zip bomb"):
        read(bomb, catalog)


def test_a_workbook_unpacking_over_the_limit_is_refused(
    tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ews.sources import pinksheet

    monkeypatch.setattr(pinksheet, "MAX_WORKBOOK_BYTES", 1024)  # the real sample is larger
    with pytest.raises(InputError, match="unpacks to"):
        read(sample("pinksheet-2000.xlsx"), catalog)
