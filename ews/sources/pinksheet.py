"""World Bank Pink Sheet (monthly workbook) -> price observations.

Strict reading: the header, unit and data rows must be where the spec says; every mapped
series must be present; a new, unmapped series is stored without an item and reported.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ews.errors import InputError, SourceShapeError
from ews.records import PriceObservation, Provenance
from ews.sources.files import parse_month
from ews.sources.registry import ReadContext

_PERIOD = re.compile(r"^\d{4}M\d{2}$")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def clean_header(text: Any) -> str:
    """Series header without footnote stars and stray spaces ('Urea ' -> 'Urea')."""
    return " ".join(str(text or "").replace("*", " ").split())


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


MAX_WORKBOOK_BYTES = 512 * 1024**2
"""Largest unpacked workbook read: the real Pink Sheet unpacks to about 10 MB."""
MAX_PACKING_RATIO = 200
"""A member packed tighter than this is a zip bomb, not a spreadsheet (XML packs 10-30:1)."""


def _check_packing(path: Path) -> None:
    """Refuse a zip bomb before the workbook reader unpacks it: the sizes are read from the
    zip's directory, and a member larger than it declares fails its CRC check when read."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"unreadable workbook (not a zip file): {exc}", file=path) from exc
    total = sum(m.file_size for m in members)
    if total > MAX_WORKBOOK_BYTES:
        raise InputError(
            f"workbook unpacks to {total:,} bytes, over the {MAX_WORKBOOK_BYTES:,} accepted",
            file=path,
        )
    for m in members:
        if m.file_size > 1024**2 and m.file_size > MAX_PACKING_RATIO * max(m.compress_size, 1):
            raise InputError(
                f"workbook member {m.filename!r} unpacks {m.file_size // max(m.compress_size, 1):,}"
                f" times its packed size: refused as a zip bomb",
                file=path,
            )


def _load_rows(ctx: ReadContext, sheet: str) -> list[list[Any]]:
    # Imported here: the workbook reader is only needed by this source.
    import python_calamine

    path = ctx.file.path
    _check_packing(path)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types for every kind of broken file
        raise InputError(f"unreadable workbook: {exc}", file=path) from exc
    if sheet not in workbook.sheet_names:
        raise SourceShapeError(f"no sheet {sheet!r}; sheets are {workbook.sheet_names}", file=path)
    try:
        rows: list[list[Any]] = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as exc:
        raise InputError(f"unreadable sheet {sheet!r}: {exc}", file=path) from exc
    return rows


def read(ctx: ReadContext) -> Iterator[PriceObservation]:
    """Yield one observation per (series, month) with a value."""
    spec, path = ctx.spec, ctx.file.path
    layout = spec.get("layout")
    sheet = layout["sheet"]
    header_row, unit_row, first = layout["header_row"], layout["unit_row"], layout["first_data_row"]
    missing_markers = {str(m) for m in layout.get("missing", [])}
    rows = _load_rows(ctx, sheet)
    if len(rows) < first:
        raise SourceShapeError(f"sheet {sheet!r} has only {len(rows)} rows", file=path)
    headers = [clean_header(h) for h in rows[header_row - 1]]
    units = [str(u or "").strip().strip("()") for u in rows[unit_row - 1]]
    mapping: dict[str, dict[str, str]] = spec.get("series", {})
    known: dict[str, str] = spec.get("known_series", {})
    present = {h for h in headers if h}
    absent = sorted(set(mapping) - present)
    if absent:
        raise SourceShapeError(
            f"series missing from header row: {absent}", file=path, row=header_row, field=absent[0]
        )
    min_series = spec.get("expected", {}).get("min_series", 1)
    if len(present) < min_series:
        raise SourceShapeError(
            f"{len(present)} series in header row, expected at least {min_series}",
            file=path,
            row=header_row,
        )
    columns: list[tuple[int, str, str, str | None, str]] = []
    seen_ids: set[str] = set()
    for index, header in enumerate(headers):
        if not header or index == 0:
            continue
        mapped = mapping.get(header)
        series_id = mapped["id"] if mapped else known.get(header, slug(header))
        if series_id in seen_ids:
            raise SourceShapeError(f"series {header!r} appears twice", file=path, row=header_row)
        seen_ids.add(series_id)
        hs = mapped.get("hs") if mapped else None
        if hs is not None and not ctx.catalog.is_hs_code(hs):
            raise SourceShapeError(f"spec maps {header!r} to unknown HS code {hs}", file=path)
        if not mapped and header not in known:
            ctx.warn(f"series {header!r} is not in the source spec; stored without an item")
        unit = units[index] if index < len(units) else ""
        if not unit:
            raise SourceShapeError(
                f"no unit for series {header!r}", file=path, row=unit_row, field=header
            )
        columns.append((index, header, series_id, hs, unit))

    months = 0
    for offset, row in enumerate(rows[first - 1 :]):
        line = first + offset
        label = str(row[0] if row else "").strip()
        if not label:
            continue  # trailing blank rows
        if not _PERIOD.match(label):
            raise SourceShapeError(
                f"period {label!r} is not of the form 1960M01", file=path, row=line, field="period"
            )
        period = parse_month(label, file=ctx.file, row=line, field="period")
        months += 1
        for index, header, series_id, hs, unit in columns:
            cell = row[index] if index < len(row) else None
            if cell is None or (isinstance(cell, str) and cell.strip() in missing_markers):
                continue
            if isinstance(cell, bool) or not isinstance(cell, int | float):
                raise InputError(f"not a number: {cell!r}", file=path, row=line, field=header)
            value = float(cell)
            if not math.isfinite(value):
                raise InputError(
                    f"not a finite number: {cell!r}", file=path, row=line, field=header
                )
            if value < 0:
                raise InputError(f"negative price {value:g}", file=path, row=line, field=header)
            yield PriceObservation(
                series_id=series_id,
                series_name=header,
                hs=hs,
                period=period,
                value=value,
                unit=unit,
                provenance=Provenance(
                    source_id=spec.id,
                    file_name=ctx.file.name,
                    file_sha256=ctx.file.sha256,
                    row=line,
                    column=_column_letter(index),
                ),
            )
    min_rows = spec.get("expected", {}).get("min_rows", 1)
    if months < min_rows:
        raise SourceShapeError(f"{months} months of data, expected at least {min_rows}", file=path)
