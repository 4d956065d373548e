"""UN Comtrade CSV (Comtrade Plus download/API layout, or the legacy layout) -> trade flows.

Only rows that are totals over the breakdowns Comtrade can add (customs procedure, mode of
transport, second partner) are kept, so a flow is never counted twice. Partners that are not
countries ('Areas, nes', free zones, bunkers) are skipped and counted, never guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ews.errors import InputError, SourceShapeError
from ews.records import WORLD, Flow, Provenance, TradeObservation
from ews.sources.files import parse_month, parse_number, read_csv
from ews.sources.registry import ReadContext

# Canonical column names of each layout, keyed by the lower-cased header text.
_PLUS = {
    "freqcode": "freq",
    "period": "period",
    "reporteriso": "reporter_iso",
    "reportercode": "reporter_code",
    "partneriso": "partner_iso",
    "partnercode": "partner_code",
    "flowcode": "flow",
    "cmdcode": "cmd",
    "primaryvalue": "value",
    "netwgt": "net_kg",
    "customscode": "customs",
    "motcode": "mot",
    "partner2code": "partner2",
}
_LEGACY = {
    "year": "year",
    "period": "period",
    "trade flow code": "flow",
    "reporter iso": "reporter_iso",
    "reporter code": "reporter_code",
    "partner iso": "partner_iso",
    "partner code": "partner_code",
    "commodity code": "cmd",
    "trade value (us$)": "value",
    "netweight (kg)": "net_kg",
}
# Totals rows of Comtrade's breakdowns: customs C00, mode of transport 0, second partner 0.
_TOTALS = {"customs": {"C00", ""}, "mot": {"0", ""}, "partner2": {"0", ""}}


def _period(freq: str, raw: str, ctx: ReadContext, line: int) -> tuple[dt.date, str]:
    text = raw.strip()
    if freq == "A" or (len(text) == 4 and text.isdigit()):
        if not (len(text) == 4 and text.isdigit()):
            raise InputError(f"not a year: {raw!r}", file=ctx.file.path, row=line, field="period")
        return dt.date(int(text), 1, 1), "A"
    return parse_month(text, file=ctx.file, row=line, field="period"), "M"


def read(ctx: ReadContext) -> Iterator[TradeObservation]:
    file, spec, catalog = ctx.file, ctx.spec, ctx.catalog
    header, rows = read_csv(file)
    lowered = {h.strip().casefold(): h for h in header}
    if {"freqcode", "cmdcode", "primaryvalue"} <= set(lowered):
        names, layout = _PLUS, "plus"
    elif {"trade flow code", "commodity code", "trade value (us$)"} <= set(lowered):
        names, layout = _LEGACY, "legacy"
    else:
        raise SourceShapeError(f"not a UN Comtrade CSV header: {header}", file=file.path, row=1)
    cols = {canon: lowered[low] for low, canon in names.items() if low in lowered}
    for need in ("period", "flow", "cmd", "value"):
        if need not in cols:
            raise SourceShapeError(f"missing column for {need}", file=file.path, row=1, field=need)
    if "reporter_iso" not in cols and "reporter_code" not in cols:
        raise SourceShapeError("no reporter column", file=file.path, row=1, field="reporterISO")
    if "partner_iso" not in cols and "partner_code" not in cols:
        raise SourceShapeError("no partner column", file=file.path, row=1, field="partnerISO")
    flows: dict[str, Flow] = {str(k): v for k, v in spec.get("flows", {}).items()}
    overrides: dict[str, str] = {str(k): v for k, v in spec.get("partner_overrides", {}).items()}

    def country(kind: str, values: dict[str, str], line: int) -> str | None:
        code = values.get(cols.get(f"{kind}_code", ""), "").strip()
        iso = values.get(cols.get(f"{kind}_iso", ""), "").strip()
        if kind == "partner" and (code == "0" or iso in {"W00", "WLD"}):
            return WORLD
        for key in (code, iso):
            if key in overrides:
                return overrides[key]
        found = catalog.country_code(iso) if iso else None
        if found is None and code:
            found = catalog.country_code(code)
        if found is None:
            # Comtrade's non-country areas: 'X..', '_X', region codes with digits.
            if iso.startswith(("X", "_")) or any(ch.isdigit() for ch in iso) or not iso:
                return None
            raise InputError(
                f"unknown {kind} {iso or code!r}",
                file=file.path,
                row=line,
                field=cols.get(f"{kind}_iso") or cols.get(f"{kind}_code"),
            )
        return found

    for row in rows:
        v, line = row.values, row.line
        if any(c in cols and v[cols[c]].strip() not in ok for c, ok in _TOTALS.items()):
            ctx.skip("breakdown rows (customs, transport mode or second partner)")
            continue
        flow = flows.get(v[cols["flow"]].strip())
        if flow is None:
            ctx.skip(f"flow {v[cols['flow']].strip()!r} not tracked")
            continue
        reporter = country("reporter", v, line)
        if reporter is None or reporter == WORLD:
            ctx.skip("reporter is not a country")
            continue
        partner = country("partner", v, line)
        if partner is None:
            ctx.skip("partner is not a country (areas nes, bunkers, free zones)")
            continue
        cmd = v[cols["cmd"]].strip()
        if cmd.upper() == "TOTAL":
            ctx.skip("all-commodity totals")
            continue
        if len(cmd) in (1, 3, 5) and cmd.isdigit():
            cmd = "0" + cmd  # leading zero lost by a spreadsheet
        if not catalog.is_hs_code(cmd):
            raise InputError(
                f"unknown HS code {cmd!r}", file=file.path, row=line, field=cols["cmd"]
            )
        freq_raw = v[cols["freq"]].strip() if "freq" in cols else ""
        period, freq = _period(freq_raw, v[cols["period"]], ctx, line)
        value = parse_number(v[cols["value"]], file=file, row=line, field=cols["value"])
        assert value is not None
        net = (
            parse_number(
                v[cols["net_kg"]], file=file, row=line, field=cols["net_kg"], allow_empty=True
            )
            if "net_kg" in cols
            else None
        )
        yield TradeObservation(
            reporter=reporter,
            partner=partner,
            flow=flow,
            period=period,
            freq=freq,
            hs=cmd,
            value_usd=value,
            quantity=net,
            quantity_unit="kg" if net is not None else None,
            provenance=Provenance(
                source_id=spec.id,
                file_name=file.name,
                file_sha256=file.sha256,
                row=line,
                column=layout,
            ),
        )
