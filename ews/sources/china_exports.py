"""China's critical-mineral export tables (UN Comtrade extracts) -> trade observations.

The layout (by HS6, by family, or totals) is recognised from the header; each row's partner
must be a known country and each HS code a real HS 2022 code, or the ingest fails there.
"""

from __future__ import annotations

from collections.abc import Iterator

from ews.errors import InputError, SourceShapeError
from ews.records import WORLD, Provenance, TradeObservation
from ews.sources.files import CsvRow, InputFile, parse_month, parse_number, read_csv
from ews.sources.registry import ReadContext


def detect_layout(header: list[str], layouts: dict[str, list[str]]) -> str | None:
    """The layout whose identifying columns all appear in ``header`` (most specific first)."""
    best: tuple[int, str] | None = None
    for name, cols in layouts.items():
        if all(c in header for c in cols) and (best is None or len(cols) > best[0]):
            best = (len(cols), name)
    return best[1] if best else None


def _group(ctx: ReadContext, raw: str, row: CsvRow, field: str) -> str:
    groups: dict[str, str] = ctx.spec.get("groups", {})
    value = raw.strip()
    if value not in groups:
        raise InputError(
            f"unknown material family {value!r} (known: {sorted(groups)})",
            file=ctx.file.path,
            row=row.line,
            field=field,
        )
    group = groups[value]
    for part in group.split("+"):
        if part not in ctx.catalog.groups:
            raise SourceShapeError(
                f"spec maps {value!r} to {part!r}, which is not a catalogue group",
                file=ctx.file.path,
            )
    return group


def _partner(ctx: ReadContext, raw: str, row: CsvRow, field: str) -> str:
    code = ctx.catalog.country_code(raw)
    if code is None:
        raise InputError(
            f"unknown partner country {raw!r}", file=ctx.file.path, row=row.line, field=field
        )
    return code


def _hs6(ctx: ReadContext, raw: str, row: CsvRow, field: str) -> str:
    code = raw.strip()
    if len(code) == 5 and code.isdigit():  # spreadsheets drop the leading zero of chapters 01-09
        code = "0" + code
    if not ctx.catalog.is_hs_code(code):
        raise InputError(f"unknown HS code {raw!r}", file=ctx.file.path, row=row.line, field=field)
    return code


def read(ctx: ReadContext) -> Iterator[TradeObservation]:
    spec, file = ctx.spec, ctx.file
    layouts: dict[str, list[str]] = spec.get("layouts")
    header, rows = read_csv(file)
    layout = detect_layout(header, layouts)
    if layout is None:
        raise SourceShapeError(
            f"header {header} matches none of the layouts {sorted(layouts)}", file=file.path, row=1
        )
    extra = sorted(set(header) - set(layouts[layout]))
    if extra:
        ctx.warn(f"columns not read: {extra}")
    reporter, flow, unit = spec.get("reporter"), spec.get("flow"), spec.get("quantity_unit")
    for row in rows:
        v = row.values
        period = parse_month(v["period_dt"], file=file, row=row.line, field="period_dt")
        if layout == "hs6":
            partner = _partner(ctx, v["partner_name"], row, "partner_name")
            hs, group = _hs6(ctx, v["hs6"], row, "hs6"), None
            value_field, qty_field = "val", "qty"
        elif layout == "group":
            partner = _partner(ctx, v["partner_name"], row, "partner_name")
            hs, group = None, _group(ctx, v["broad_group"], row, "broad_group")
            value_field, qty_field = "val", "qty"
        else:
            partner = WORLD
            hs, group = None, _group(ctx, v["broad_group"], row, "broad_group")
            value_field, qty_field = "total_value", "total_qty"
        value = _value(file, row, value_field)
        quantity = parse_number(
            v[qty_field], file=file, row=row.line, field=qty_field, allow_empty=True
        )
        yield TradeObservation(
            reporter=reporter,
            partner=partner,
            flow=flow,
            period=period,
            hs=hs,
            item_group=group,
            value_usd=value,
            quantity=quantity,
            quantity_unit=unit if quantity is not None else None,
            provenance=Provenance(
                source_id=spec.id,
                file_name=file.name,
                file_sha256=file.sha256,
                row=row.line,
                column=layout,
            ),
        )


def _value(file: InputFile, row: CsvRow, field: str) -> float:
    value = parse_number(row.values[field], file=file, row=row.line, field=field)
    assert value is not None
    return value
