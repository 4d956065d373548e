"""``ews indicators``: dependence, trade-flow and price anomalies, computed, saved and printed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ews.cli.common import err, handles_errors, out
from ews.context import Context
from ews.errors import EwsError
from ews.settings import get_settings


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


@handles_errors
def indicators_cmd(
    *,
    kind: Annotated[
        str, typer.Option("--kind", help="dependence, trade or prices.")
    ] = "dependence",
    country: Annotated[
        str | None,
        typer.Option(help="ISO alpha-2: importer (dependence) or reporter/partner (trade)."),
    ] = None,
    item: Annotated[
        str | None, typer.Option(help="HS code prefix (e.g. 3102), family or series id.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar="[table|json]", help="table or json.")
    ] = "table",
    limit: Annotated[int, typer.Option(help="Rows to print in a table.")] = 40,
    store: Annotated[
        str | None,
        typer.Option("--store", help="Store location (default: EWS_STORE or user data)."),
    ] = None,
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded) or spark: where the Ibis queries run.")
    ] = "duckdb",
    master: Annotated[
        str | None,
        typer.Option(help="Spark master (default: EWS_SPARK_MASTER, else local[*])."),
    ] = None,
    input_path: Annotated[
        str | None,
        typer.Option(
            "--input",
            help="Dependence over this Parquet file or folder (flows: exporter, importer, "
            "product, year, value; or trade_observations columns) instead of the store.",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(help="With --input: write the result rows to this Parquet path."),
    ] = None,
) -> None:
    """Compute indicators from the store, save them with provenance, and print them."""
    from ews.indicators.run import (
        run_dependence,
        run_dependence_file,
        run_prices,
        run_trade,
        save_run,
    )

    if kind not in ("dependence", "trade", "prices"):
        raise EwsError(f"unknown kind {kind!r}; use dependence, trade or prices")
    if engine not in ("duckdb", "spark"):
        raise EwsError(f"unknown engine {engine!r}; use duckdb or spark")
    if master is not None and engine != "spark":
        raise EwsError("--master applies to --engine spark")
    if input_path is not None and kind != "dependence":
        raise EwsError("--input applies to --kind dependence")
    if output is not None and input_path is None:
        raise EwsError("--output applies with --input (store runs are saved in the store)")
    if output is not None and "://" not in output and Path(output).exists():
        raise EwsError(f"{output} exists; remove it or choose another --output")
    if engine != "spark" and any("://" in p for p in (input_path or "", output or "")):
        raise EwsError("URLs (hdfs://, s3a://...) are read and written by --engine spark")
    if fmt not in ("table", "json"):
        raise EwsError(f"unknown format {fmt!r}; use table or json")
    if country is not None:
        country = country.strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise EwsError(f"--country takes an ISO alpha-2 code, not {country!r}")
    if item is not None and not item.strip():
        raise EwsError("--item must not be empty")
    settings = get_settings()
    with Context.open(settings, store=store) as ctx:
        if country is not None and country not in ctx.catalog.countries:
            raise EwsError(f"unknown country code {country!r}")
        backend = _backend(engine, master or settings.spark_master)
        if input_path is not None:
            import pyarrow as pa

            countries = pa.table({"iso2": sorted(ctx.catalog.countries)})
            run = run_dependence_file(
                backend or ibis_duckdb(),
                input_path,
                country=country,
                item=item,
                countries=countries,
                output=output,
            )
        elif kind == "dependence":
            run = run_dependence(ctx.store, country=country, item=item, backend=backend)
        elif kind == "trade":
            run = run_trade(ctx.store, country=country, item=item, backend=backend)
        else:
            if country is not None:
                raise EwsError("--country does not apply to prices (world prices)")
            run = run_prices(ctx.store, item=item, backend=backend)
        run_id = save_run(ctx.store, run)
    if fmt == "json":
        payload = {
            "run_id": run_id,
            "kind": run.kind,
            "params": run.params,
            "inputs": run.inputs,
            "warnings": run.warnings,
            "summary": run.summary(),
            "results": run.dependence
            if run.report is None
            else [d.anomalies[i].model_dump(mode="json") for d, i in run.report.anomalies()],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n")
        return
    _print_table(run, run_id, limit)


def ibis_duckdb() -> Any:
    """A fresh in-memory DuckDB engine (for a Parquet input: the store is not involved)."""
    import ibis

    return ibis.duckdb.connect()


def _backend(engine: str, master: str | None) -> Any:
    """None for the store's own DuckDB connection, else an Ibis backend on Spark."""
    if engine == "duckdb":
        return None
    from ews.indicators.engine import spark_backend, spark_session

    try:
        session = spark_session(master, "ews-indicators")
    except ImportError as exc:
        raise EwsError(f"--engine spark needs PySpark (the 'spark' extra): {exc}") from exc
    return spark_backend(session)


def _print_table(run: Any, run_id: str, limit: int) -> None:
    from rich.table import Table

    summary = run.summary()
    if run.totals is not None:
        out.print(
            f"import dependence: {summary['rows']:,} importer × product × year rows "
            f"({summary['dependent']:,} dependent, {summary['korea_rule']:,} over 50% from one "
            f"supplier) written to {run.params['output']} on {run.engine}",
            highlight=False,
        )
    elif run.kind == "dependence":
        rows = sorted(run.dependence, key=lambda r: (-r["year"], not r["dependent"], -r["hhi"]))
        table = Table(title=f"import dependence ({len(rows)} importer × product × year)")
        for col in (
            "importer",
            "product",
            "year",
            "imports USD",
            "suppliers",
            "top",
            "top share",
            "HHI",
            "world exp. HHI",
            "imp/exp",
            "EU/CEPII",
            "KR ≥50%",
            "basis",
        ):
            table.add_column(col)
        for r in rows[:limit]:
            table.add_row(
                r["importer"],
                r["product_key"],
                str(r["year"]),
                _fmt(r["import_value"], 0),
                str(r["n_suppliers"]),
                r["top_supplier"],
                _fmt(r["top_share"]),
                _fmt(r["hhi"]),
                _fmt(r["world_export_hhi"]),
                _fmt(r["import_export_ratio"], 2),
                f"dependent ({r['years_met']}/3)" if r["dependent"] else f"{r['years_met']}/3",
                _fmt(r["korea_rule"]),
                r["basis"] + ("" if r["months"] >= 12 else f" ({r['months']} mo)"),
            )
        out.print(table)
        dependent = sorted(
            {(r["importer"], r["product_key"]) for r in run.dependence if r["dependent"]}
        )
        if dependent:
            out.print(
                "dependent items: " + ", ".join(f"{c} {p}" for c, p in dependent[:50]),
                highlight=False,
            )
    else:
        report = run.report
        table = Table(
            title=f"{run.kind} anomalies: {summary['flagged']} flagged of "
            f"{summary['periods_scored']:,} periods scored in {summary['series']} series "
            f"({summary['gaps']:,} gaps)"
        )
        for col in ("series", "period", "kind", "value", "baseline", "score", "threshold"):
            table.add_column(col)
        for d, i in report.anomalies()[:limit]:
            a = d.anomalies[i]
            table.add_row(
                a.series_key,
                a.period.strftime("%Y-%m"),
                a.kind,
                _fmt(a.value, 2),
                _fmt(a.baseline, 2),
                f"{a.score:+.2f}",
                f"{a.threshold:g}",
            )
        out.print(table)
    out.print(f"run {run_id} saved with {len(run.inputs)} input file(s)", style="dim")
    for w in run.warnings[:20]:
        err.print(f"warning: {w}", highlight=False)
    if len(run.warnings) > 20:
        err.print(f"warning: … and {len(run.warnings) - 20} more", highlight=False)
