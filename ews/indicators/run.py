"""Computing indicators from the store and storing them with their provenance.

Each ``run_*`` function reads the store through Ibis, computes one kind of indicator and
returns an :class:`IndicatorRun`; :func:`save_run` writes it (replacing an identical earlier
run) together with which source files, how many of their rows, and which parameters produced
it, and appends an audit record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis.expr.types as ir  # type: ignore[import-untyped, unused-ignore]
import pyarrow as pa

from ews import __version__
from ews.indicators.anomalies import (
    AnomalyReport,
    detect_prices,
    detect_trade,
    monthly_prices,
    monthly_trade,
    price_series,
    trade_series,
)
from ews.indicators.dependence import (
    DependenceParams,
    check_observations,
    dependence,
    observations_to_flows,
    rows,
)
from ews.indicators.detectors import Detector, PriceAnomaly, TradeFlowDrop, UnitValueJump
from ews.indicators.engine import duckdb_backend
from ews.store import Store
from ews.store.db import utcnow

Kind = Literal["dependence", "trade", "prices"]


@dataclass
class IndicatorRun:
    """One computation: its results, what it read, with which parameters, and what it skipped."""

    kind: Kind
    params: dict[str, Any]
    inputs: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    dependence: list[dict[str, Any]] = field(default_factory=list)
    report: AnomalyReport | None = None
    engine: str = "duckdb"

    @property
    def run_id(self) -> str:
        """Hash of kind, parameters and input files: same inputs and parameters, same id."""
        body = json.dumps(
            [self.kind, self.params, self.inputs, self.engine], sort_keys=True, default=str
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]

    def summary(self) -> dict[str, Any]:
        """Counts a reader needs to judge the result (how much was scored, flagged, missing)."""
        if self.report is not None:
            r = self.report
            return {
                "series": len({d.series_key for d in r.detections}),
                "periods_scored": r.evaluated,
                "flagged": r.flagged,
                "gaps": r.gaps,
                "invalid": sum(len(d.invalid) for d in r.detections),
            }
        return {
            "rows": len(self.dependence),
            "dependent": sum(1 for d in self.dependence if d["dependent"]),
            "korea_rule": sum(1 for d in self.dependence if d["korea_rule"]),
            "mirror": sum(1 for d in self.dependence if d["basis"] != "reported"),
        }


def _inputs(table: ir.Table) -> list[dict[str, Any]]:
    """Which source files (and how many of their rows) a filtered observation table holds."""
    agg = (
        table.group_by(["source_id", "file_name", "file_sha256"])
        .aggregate(rows=table.count())
        .order_by(["source_id", "file_name", "file_sha256"])
    )
    return [dict(r) for r in agg.to_pyarrow().to_pylist()]


def run_dependence(
    store: Store,
    *,
    country: str | None = None,
    item: str | None = None,
    params: DependenceParams | None = None,
) -> IndicatorRun:
    """Dependence and concentration from the store's trade observations.

    The criteria need every importer and exporter of the product (world-export HHI, the
    importer's own exports), so only the product filter applies before computing; the
    country filter selects result rows.
    """
    p = params or DependenceParams()
    backend = duckdb_backend(store)
    obs = backend.table("trade_observations")
    countries = backend.table("countries")
    if item:
        obs = obs.filter(obs.product_key.startswith(item) | (obs.item_group == item))
    used = obs.filter(obs.flow.isin(["import", "export"]), obs.partner != "WLD")
    expr = dependence(observations_to_flows(obs, countries), p)
    if country:
        expr = expr.filter(expr.importer == country)
    result = rows(expr)
    for r in result:
        r["product_key"] = r.pop("product")
    return IndicatorRun(
        kind="dependence",
        params={**dataclasses.asdict(p), "country": country, "item": item},
        inputs=_inputs(used),
        warnings=check_observations(used, countries),
        dependence=result,
    )


def run_trade(
    store: Store,
    *,
    country: str | None = None,
    item: str | None = None,
    detectors: tuple[Detector, ...] = (TradeFlowDrop(), UnitValueJump()),
) -> IndicatorRun:
    """Trade-flow anomalies on every monthly export series (and totals) in the store."""
    backend = duckdb_backend(store)
    obs = backend.table("trade_observations")
    table = monthly_trade(obs, country=country, item=item)
    used = obs.filter(obs.freq == "M", obs.flow == "export")
    if item:
        used = used.filter(used.product_key.startswith(item) | (used.item_group == item))
    if country:
        used = used.filter((used.reporter == country) | (used.partner == country))
    report = detect_trade(trade_series(table), detectors)
    return IndicatorRun(
        kind="trade",
        params={
            "detectors": [d.parameters() for d in detectors],
            "country": country,
            "item": item,
        },
        inputs=_inputs(used),
        warnings=_series_warnings(report),
        report=report,
    )


def run_prices(
    store: Store,
    *,
    item: str | None = None,
    detectors: tuple[Detector, ...] = (PriceAnomaly(),),
) -> IndicatorRun:
    """Price anomalies on every monthly price series (optionally one item) in the store."""
    backend = duckdb_backend(store)
    obs = backend.table("price_observations")
    table = monthly_prices(obs, item=item)
    used = obs.filter(obs.freq == "M")
    if item:
        used = used.filter(used.hs.startswith(item) | (used.series_id == item))
    report = detect_prices(price_series(table), detectors)
    return IndicatorRun(
        kind="prices",
        params={"detectors": [d.parameters() for d in detectors], "item": item},
        inputs=_inputs(used),
        warnings=_series_warnings(report),
        report=report,
    )


def _series_warnings(report: AnomalyReport) -> list[str]:
    notes: list[str] = []
    invalid = sum(len(d.invalid) for d in report.detections)
    if invalid:
        notes.append(f"{invalid} period value(s) refused (zero, negative or not finite)")
    seen: set[str] = set()
    for d in report.detections:
        for w in d.warnings:
            line = f"{d.series_key}: {w}"
            if line not in seen:
                seen.add(line)
                notes.append(line)
    return notes


def save_run(store: Store, run: IndicatorRun, *, actor: str = "cli") -> str:
    """Store a run's results and provenance in one transaction; returns the run id."""
    run_id = run.run_id
    with store.transaction():
        con = store.con
        for table in ("indicator_runs", "dependence_results", "anomalies"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        con.execute(
            "INSERT INTO indicator_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                run.kind,
                json.dumps(run.params, sort_keys=True, default=str),
                json.dumps(run.inputs, sort_keys=True, default=str),
                json.dumps(run.warnings, ensure_ascii=False),
                run.engine,
                __version__,
                json.dumps(run.summary(), sort_keys=True),
                utcnow(),
            ],
        )
        if run.dependence:
            _insert(store, "dependence_results", _dependence_table(run_id, run.dependence))
        if run.report is not None and run.report.flagged:
            _insert(store, "anomalies", _anomaly_table(run_id, run.report))
        store.audit(
            actor,
            f"indicators.{run.kind}",
            run_id,
            {"params": run.params, "inputs": run.inputs, "summary": run.summary()},
        )
    return run_id


def _insert(store: Store, table: str, rows_: pa.Table) -> None:
    store.con.register("_indicator_rows", rows_)
    try:
        cols = ", ".join(rows_.column_names)
        store.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _indicator_rows")
    finally:
        store.con.unregister("_indicator_rows")


def _dependence_table(run_id: str, result: list[dict[str, Any]]) -> pa.Table:
    table = pa.Table.from_pylist(result)
    return table.append_column("run_id", pa.array([run_id] * len(result), pa.string()))


def _anomaly_table(run_id: str, report: AnomalyReport) -> pa.Table:
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "run_id",
            "series_key",
            "period",
            "method",
            "kind",
            "value",
            "baseline",
            "score",
            "threshold",
            "parameters",
            "details",
        )
    }
    for d in report.detections:
        for a in d.anomalies:
            out["run_id"].append(run_id)
            out["series_key"].append(a.series_key)
            out["period"].append(a.period)
            out["method"].append(a.method)
            out["kind"].append(a.kind)
            out["value"].append(a.value)
            out["baseline"].append(a.baseline)
            out["score"].append(a.score)
            out["threshold"].append(a.threshold)
            out["parameters"].append(json.dumps(a.parameters, sort_keys=True))
            out["details"].append(json.dumps(a.details, sort_keys=True))
    return pa.table(out)
