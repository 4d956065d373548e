"""Ingesting a file: read it whole, validate it, then write it in one transaction.

Idempotent by construction: the file's hash is recorded with the rows, a file already
ingested is not read again, and rows equal to stored rows are not touched. A failure (or a
kill) before the commit leaves the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ews.catalog import Catalog
from ews.errors import InputError, SourceShapeError
from ews.records import PriceObservation, TradeObservation
from ews.sources.files import InputFile, open_input, read_csv_header
from ews.sources.registry import ReadContext, SourceSpec, get_spec, specs_of_kind
from ews.store import Store, UpsertCounts
from ews.store.db import utcnow


@dataclass
class IngestReport:
    """What one file's ingest did, for the CLI and the audit log."""

    file: str
    source_id: str
    rows_read: int = 0
    counts: UpsertCounts = field(default_factory=lambda: UpsertCounts(0, 0, 0))
    duplicates: int = 0
    already_ingested: bool = False
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        if self.already_ingested:
            return f"{self.file}: already ingested ({self.source_id}); nothing changed"
        c = self.counts
        text = (
            f"{self.file}: {self.rows_read:,} rows from {self.source_id}: {c.new:,} new, "
            f"{c.changed:,} changed, {c.unchanged:,} unchanged"
        )
        if self.duplicates:
            text += f", {self.duplicates:,} duplicate rows dropped"
        if self.skipped:
            text += ", skipped " + ", ".join(
                f"{n:,} {why}" for why, n in sorted(self.skipped.items())
            )
        return text


PRICE_KEY: tuple[str, ...] = ("source_id", "series_id", "freq", "period")
PRICE_VALUES: tuple[str, ...] = ("value", "unit", "hs", "series_name")
TRADE_KEY: tuple[str, ...] = (
    "source_id",
    "reporter",
    "partner",
    "flow",
    "freq",
    "period",
    "product_key",
)
TRADE_VALUES: tuple[str, ...] = ("value_usd", "quantity", "quantity_unit", "hs", "item_group")


def sync_source(store: Store, spec: SourceSpec) -> None:
    """Record (or refresh) the source's description in the store."""
    store.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "name = excluded.name, kind = excluded.kind, format = excluded.format, "
        "licence = excluded.licence, url = excluded.url, description = excluded.description",
        [spec.id, spec.name, spec.kind, spec.format, spec.licence, spec.url, spec.description],
    )


def detect_trade_source(file: InputFile) -> SourceSpec:
    """The trade source whose layout matches the file's header."""
    header = read_csv_header(file)
    lowered = {h.casefold() for h in header}
    for spec in specs_of_kind("trade"):
        layouts: dict[str, list[str]] = spec.get("layouts", {})
        for cols in layouts.values():
            if {c.casefold() for c in cols} <= lowered:
                return spec
    raise SourceShapeError(
        f"header matches no known trade source layout: {header}", file=file.path, row=1
    )


def _dedupe(
    observations: Iterable[Any], key_of: Any, values_of: Any, file: InputFile
) -> tuple[list[Any], int]:
    """Drop exact repeats of a key; refuse a key repeated with different values."""
    seen: dict[tuple[Any, ...], Any] = {}
    duplicates = 0
    for obs in observations:
        key = key_of(obs)
        first = seen.get(key)
        if first is None:
            seen[key] = obs
        elif values_of(first) == values_of(obs):
            duplicates += 1
        else:
            raise InputError(
                f"row repeats the key of row {first.provenance.row} with different values "
                f"({values_of(first)} vs {values_of(obs)})",
                file=file.path,
                row=obs.provenance.row,
            )
    return list(seen.values()), duplicates


def price_table(rows: Sequence[PriceObservation], now: dt.datetime) -> pa.Table:
    return pa.table(
        {
            "source_id": [r.provenance.source_id for r in rows],
            "series_id": [r.series_id for r in rows],
            "freq": [r.freq for r in rows],
            "period": pa.array([r.period for r in rows], pa.date32()),
            "series_name": [r.series_name for r in rows],
            "hs": pa.array([r.hs for r in rows], pa.string()),
            "value": pa.array([r.value for r in rows], pa.float64()),
            "unit": [r.unit for r in rows],
            "file_name": [r.provenance.file_name for r in rows],
            "file_sha256": [r.provenance.file_sha256 for r in rows],
            "row_no": pa.array([r.provenance.row for r in rows], pa.int64()),
            "col": pa.array([r.provenance.column for r in rows], pa.string()),
            "ingested_at": pa.array([now] * len(rows), pa.timestamp("us")),
        }
    )


def trade_table(rows: Sequence[TradeObservation], now: dt.datetime) -> pa.Table:
    return pa.table(
        {
            "source_id": [r.provenance.source_id for r in rows],
            "reporter": [r.reporter for r in rows],
            "partner": [r.partner for r in rows],
            "flow": [r.flow for r in rows],
            "freq": [r.freq for r in rows],
            "period": pa.array([r.period for r in rows], pa.date32()),
            "product_key": [r.product_key for r in rows],
            "hs": pa.array([r.hs for r in rows], pa.string()),
            "item_group": pa.array([r.item_group for r in rows], pa.string()),
            "value_usd": pa.array([r.value_usd for r in rows], pa.float64()),
            "quantity": pa.array([r.quantity for r in rows], pa.float64()),
            "quantity_unit": pa.array([r.quantity_unit for r in rows], pa.string()),
            "file_name": [r.provenance.file_name for r in rows],
            "file_sha256": [r.provenance.file_sha256 for r in rows],
            "row_no": pa.array([r.provenance.row for r in rows], pa.int64()),
            "col": pa.array([r.provenance.column for r in rows], pa.string()),
            "ingested_at": pa.array([now] * len(rows), pa.timestamp("us")),
        }
    )


def ingest_file(
    store: Store,
    catalog: Catalog,
    path: str | Path,
    *,
    kind: str,
    source_id: str | None = None,
    max_bytes: int = 2 * 1024**3,
    actor: str = "cli",
) -> IngestReport:
    """Read, validate and store one prices or trade file; see the module docstring."""
    file = open_input(path, max_bytes=max_bytes)
    if source_id is not None:
        spec = get_spec(source_id)
        if spec.kind != kind:
            raise InputError(
                f"source {source_id!r} is a {spec.kind} source, not {kind}", file=file.path
            )
    elif kind == "prices":
        spec = get_spec("pinksheet")
    elif kind == "trade":
        spec = detect_trade_source(file)
    else:
        raise InputError(f"unknown kind of data {kind!r}", file=file.path)
    report = IngestReport(file=str(file.path), source_id=spec.id)
    if store.is_ingested(file.sha256, spec.id):
        report.already_ingested = True
        return report

    ctx = ReadContext(spec=spec, catalog=catalog, file=file)
    observations = list(spec.read_function()(ctx))
    report.rows_read = len(observations)
    report.warnings, report.skipped = ctx.warnings, ctx.skipped
    if not observations:
        raise InputError("no data rows", file=file.path)
    now = utcnow()
    if kind == "prices":
        rows, report.duplicates = _dedupe(
            observations,
            lambda o: (o.series_id, o.freq, o.period),
            lambda o: (o.value, o.unit),
            file,
        )
        table, name, key, compare = (
            price_table(rows, now),
            "price_observations",
            PRICE_KEY,
            PRICE_VALUES,
        )
    else:
        rows, report.duplicates = _dedupe(
            observations,
            lambda o: (o.reporter, o.partner, o.flow, o.freq, o.period, o.product_key),
            lambda o: (o.value_usd, o.quantity),
            file,
        )
        table, name, key, compare = (
            trade_table(rows, now),
            "trade_observations",
            TRADE_KEY,
            TRADE_VALUES,
        )

    with store.transaction():
        sync_source(store, spec)
        report.counts = store.upsert(name, table, key=key, compare=compare)
        c = report.counts
        store.record_file(
            file_sha256=file.sha256,
            source_id=spec.id,
            file_name=file.name,
            size=file.size,
            rows=report.rows_read,
            counts=c,
            at=now,
        )
        store.audit(
            actor,
            f"ingest.{kind}",
            file.name,
            {
                "sha256": file.sha256,
                "source": spec.id,
                "rows": report.rows_read,
                "new": c.new,
                "changed": c.changed,
                "unchanged": c.unchanged,
                "duplicates": report.duplicates,
            },
        )
    return report
