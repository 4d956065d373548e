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
from pathlib import Path
from typing import Any, Literal

import ibis.expr.types as ir  # type: ignore[import-untyped, unused-ignore]
import pyarrow as pa

from ews import __version__
from ews.errors import InputError
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
from ews.indicators.detectors import (
    DAILY_SPIKE,
    MONTHLY_SPIKE,
    Detector,
    PriceAnomaly,
    TradeFlowDrop,
    UnitValueJump,
)
from ews.indicators.engine import duckdb_backend, register_arrow, scratch_duckdb
from ews.store import DuckDBStore, Store
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
    totals: dict[str, Any] | None = None
    """Counts computed by the engine when the rows were written elsewhere (``--output``)."""

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
        if self.totals is not None:
            return dict(self.totals)
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


def _tables(store: Store, backend: Any | None, *names: str) -> tuple[str, list[ir.Table]]:
    """The store's tables on ``backend``: the store's own connection (None), or copies
    registered on another engine (Spark; an in-memory DuckDB for a PostgreSQL store) for the
    length of its session."""
    if backend is None and isinstance(store, DuckDBStore):
        duck = duckdb_backend(store)
        return "duckdb", [duck.table(n) for n in names]
    if backend is None:  # a PostgreSQL store: the same expressions on copies in DuckDB
        backend = scratch_duckdb()
    copies = [store.fetch_arrow(f"SELECT * FROM {n}") for n in names]
    pairs = zip(names, copies, strict=True)
    return backend.name, [register_arrow(backend, f"ews_{n}", t) for n, t in pairs]


def run_dependence(
    store: Store,
    *,
    country: str | None = None,
    item: str | None = None,
    params: DependenceParams | None = None,
    backend: Any | None = None,
) -> IndicatorRun:
    """Dependence and concentration from the store's trade observations.

    The criteria need every importer and exporter of the product (world-export HHI, the
    importer's own exports), so only the product filter applies before computing; the
    country filter selects result rows.
    """
    p = params or DependenceParams()
    engine, (obs, countries) = _tables(store, backend, "trade_observations", "countries")
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
        engine=engine,
    )


def run_trade(
    store: Store,
    *,
    country: str | None = None,
    item: str | None = None,
    detectors: tuple[Detector, ...] = (TradeFlowDrop(), UnitValueJump()),
    backend: Any | None = None,
) -> IndicatorRun:
    """Trade-flow anomalies on every monthly export series (and totals) in the store."""
    engine, (obs,) = _tables(store, backend, "trade_observations")
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
        engine=engine,
    )


def run_prices(
    store: Store,
    *,
    item: str | None = None,
    detectors: tuple[Detector, ...] = (PriceAnomaly(), MONTHLY_SPIKE),
    daily_detectors: tuple[Detector, ...] = (DAILY_SPIKE,),
    backend: Any | None = None,
) -> IndicatorRun:
    """Price anomalies on every monthly and daily price series (optionally one item).

    ``detectors`` score the monthly series (IFPA and the one-period spike test by default),
    ``daily_detectors`` the business-day series (the spike test with a year of history).
    """
    engine, (obs,) = _tables(store, backend, "price_observations")
    problems: list[str] = []
    series = [
        *price_series(monthly_prices(obs, item=item), "M", problems=problems),
        *price_series(monthly_prices(obs, item=item, freq="D"), "D", problems=problems),
    ]
    used = obs.filter(obs.freq.isin(["M", "D"]))
    if item:
        used = used.filter(used.hs.startswith(item) | (used.series_id == item))
    report = detect_prices(series, detectors, daily_detectors)
    return IndicatorRun(
        kind="prices",
        params={
            "detectors": [d.parameters() for d in detectors],
            "daily_detectors": [d.parameters() for d in daily_detectors],
            "item": item,
        },
        inputs=_inputs(used),
        warnings=[*problems, *_series_warnings(report)],
        report=report,
        engine=engine,
    )


FLOW_LAYOUT = frozenset({"exporter", "importer", "product", "year", "value"})
OBSERVATION_LAYOUT = frozenset(
    {"reporter", "partner", "flow", "freq", "period", "product_key", "value_usd", "source_id"}
)


def is_remote(path: str | Path) -> bool:
    """A URL Spark reads through a file-system connector (hdfs://, s3a://...), not a local path."""
    return "://" in str(path)


def file_provenance(path: str | Path) -> dict[str, Any]:
    """Name, SHA-256 and size of a Parquet input (a folder: its part files in name order).

    A remote input (a URL) is named, not read: its hash is left empty."""
    if is_remote(path):
        return {"file_name": str(path), "file_sha256": None, "bytes": None}
    path = Path(path)
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    size = 0
    for f in files:
        with f.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    return {"file_name": path.name, "file_sha256": digest.hexdigest(), "bytes": size}


def parquet_flows(backend: Any, path: str | Path, countries: pa.Table | None = None) -> ir.Table:
    """A Parquet input as a bilateral flows matrix, whatever engine ``backend`` is.

    Two layouts: flows (exporter, importer, product, year, value[, quantity]: BACI's
    t, i, j, k, v, q renamed) are used as they are; stored observations (the
    ``trade_observations`` columns) go through :func:`observations_to_flows`, with
    ``countries`` (an ``iso2`` column) as the known partners.
    """
    if not is_remote(path) and not Path(path).exists():
        raise InputError("no such file or folder", file=path)
    table = backend.read_parquet(str(path))
    cols = set(table.columns)
    if cols >= FLOW_LAYOUT:
        return table
    if cols >= OBSERVATION_LAYOUT:
        known = None
        if countries is not None:
            known = register_arrow(backend, "ews_countries", countries)
        return observations_to_flows(table, known)
    raise InputError(
        "expected the flows columns (" + ", ".join(sorted(FLOW_LAYOUT)) + ") or the "
        "trade_observations columns; has: " + ", ".join(sorted(cols)),
        file=path,
    )


def run_dependence_file(
    backend: Any,
    path: str | Path,
    *,
    country: str | None = None,
    item: str | None = None,
    params: DependenceParams | None = None,
    countries: pa.Table | None = None,
    output: str | Path | None = None,
) -> IndicatorRun:
    """Dependence and concentration over a Parquet input on ``backend`` (DuckDB or Spark).

    With ``output`` the result rows are written there as Parquet by the engine (Spark: part
    files from the executors) and only their counts come back; otherwise the rows do.
    """
    p = params or DependenceParams()
    flows = parquet_flows(backend, path, countries)
    if item:
        flows = flows.filter(flows["product"].startswith(item))
    expr = dependence(flows, p)
    if country:
        expr = expr.filter(expr.importer == country)
    run = IndicatorRun(
        kind="dependence",
        params={
            **dataclasses.asdict(p),
            "country": country,
            "item": item,
            "input": str(path) if is_remote(path) else Path(path).name,
            "output": None if output is None else str(output),
        },
        inputs=[file_provenance(path)],
        engine=backend.name,
    )
    if output is not None:
        backend.to_parquet(expr, str(output))
        # Counted from the written rows, not by computing the result a second time.
        expr = backend.read_parquet(str(output))
        counts = expr.aggregate(
            rows=expr.count(),
            dependent=expr.dependent.cast("int64").sum(),
            korea_rule=expr.korea_rule.cast("int64").sum(),
            mirror=(expr.basis != "reported").cast("int64").sum(),
        )
        totals = counts.to_pyarrow().to_pylist()[0]
        run.totals = {k: int(v or 0) for k, v in totals.items()}
        return run
    result = rows(expr)
    for r in result:
        r["product_key"] = r.pop("product")
    run.dependence = result
    return run


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
        for table in ("indicator_runs", "dependence_results", "anomalies"):
            store.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        store.execute(
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
    with store.arrow_view("_indicator_rows", rows_):
        cols = ", ".join(rows_.column_names)
        store.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _indicator_rows")


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
