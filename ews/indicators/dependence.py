"""Import dependence and concentration, written once in Ibis (DuckDB or Spark).

Per (importer, product, year): import value, number of suppliers, top supplier and its share,
the Herfindahl-Hirschman index of import sources, and the EU (SWD(2021)352) / CEPII GeoDep
criteria: import HHI > 0.4, world-export HHI > 0.4, imports / exports > 1, met in at least 2
of 3 consecutive years. Korea's screening rule (one supplier >= 50% of imports) is reported
alongside. See docs/indicators.md for definitions and the handling of bad input.

Two steps, both pure functions of table expressions:

* :func:`observations_to_flows` turns stored ``trade_observations`` into one bilateral matrix
  (exporter, importer, product, year, value, quantity, months, basis). The importer's own
  report of imports is used when it reports any imports of the product in the year; otherwise
  the exporters' reported exports to it (mirror flows) stand in, and ``basis`` says so.
* :func:`dependence` computes the indicators from such a matrix, whatever its origin (the
  store, or a BACI file on Spark).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis  # type: ignore[import-untyped, unused-ignore]
import ibis.expr.types as ir  # type: ignore[import-untyped, unused-ignore]
from ibis import _  # type: ignore[import-untyped, unused-ignore]

from ews.indicators.engine import nullable
from ews.records import WORLD

IMPORT_HHI_THRESHOLD = 0.4
WORLD_EXPORT_HHI_THRESHOLD = 0.4
IMPORT_EXPORT_RATIO_THRESHOLD = 1.0
PERSISTENCE_YEARS = 3
PERSISTENCE_MIN = 2
KOREA_TOP_SHARE = 0.5

FLOW_COLUMNS = ("exporter", "importer", "product", "year", "value", "quantity", "months", "basis")

RESULT_COLUMNS = (
    "importer",
    "product",
    "year",
    "import_value",
    "import_quantity",
    "n_suppliers",
    "top_supplier",
    "top_share",
    "hhi",
    "world_export_hhi",
    "export_value",
    "import_export_ratio",
    "crit_import_hhi",
    "crit_world_export_hhi",
    "crit_import_export_ratio",
    "criteria_met",
    "years_met",
    "dependent",
    "korea_rule",
    "months",
    "basis",
)


@dataclass(frozen=True)
class DependenceParams:
    """Thresholds of the dependence criteria (defaults: EU SWD(2021)352 / CEPII GeoDep)."""

    import_hhi: float = IMPORT_HHI_THRESHOLD
    world_export_hhi: float = WORLD_EXPORT_HHI_THRESHOLD
    import_export_ratio: float = IMPORT_EXPORT_RATIO_THRESHOLD
    persistence_years: int = PERSISTENCE_YEARS
    persistence_min: int = PERSISTENCE_MIN
    korea_top_share: float = KOREA_TOP_SHARE


def _clean_observations(obs: ir.Table, countries: ir.Table | None) -> ir.Table:
    """Bilateral import/export rows of known partners, one value per key across sources."""
    t = obs.filter(
        obs.flow.isin(["import", "export"]),
        obs.freq.isin(["M", "A"]),
        obs.partner != WORLD,
        obs.reporter != obs.partner,
        obs.value_usd >= 0,
    )
    if countries is not None:
        t = t.semi_join(countries, t.partner == countries.iso2)
    # Two sources reporting the same flow would double it: the alphabetically first source
    # wins, deterministically on every engine (conflicts are counted by check_observations).
    key = ["reporter", "partner", "flow", "freq", "period", "product_key"]
    w = ibis.window(group_by=key, order_by=["source_id"])
    t = t.mutate(_rn=ibis.row_number().over(w)).filter(_._rn == 0).drop("_rn")
    return t.mutate(year=t.period.year().cast("int32"))


def observations_to_flows(obs: ir.Table, countries: ir.Table | None = None) -> ir.Table:
    """One bilateral matrix from stored observations (see the module docstring).

    Annual rows (freq A) take precedence over the sum of a year's monthly rows; ``months``
    says how many months a monthly sum covers (12 for annual rows), so partial years show.
    """
    t = _clean_observations(obs, countries)
    is_a = t.freq == "A"
    per_year = t.group_by(["reporter", "partner", "flow", "product_key", "year"]).aggregate(
        a_value=ibis.ifelse(is_a, t.value_usd, 0.0).sum(),
        m_value=ibis.ifelse(is_a, 0.0, t.value_usd).sum(),
        a_qty=ibis.ifelse(is_a, t.quantity, ibis.null("float64")).sum(),
        m_qty=ibis.ifelse(is_a, ibis.null("float64"), t.quantity).sum(),
        n_a=ibis.ifelse(is_a, 1, 0).sum(),
        n_m=ibis.ifelse(is_a, 0, 1).sum(),
    )
    annual = per_year.mutate(
        value=ibis.ifelse(_.n_a > 0, _.a_value, _.m_value),
        quantity=ibis.ifelse(_.n_a > 0, _.a_qty, _.m_qty),
        months=ibis.ifelse(_.n_a > 0, 12, _.n_m).cast("int32"),
    )
    reported = annual.filter(annual.flow == "import").select(
        exporter=_.partner,
        importer=_.reporter,
        product=_.product_key,
        year=_.year,
        value=_.value,
        quantity=_.quantity,
        months=_.months,
        basis=ibis.literal("reported"),
    )
    mirror = annual.filter(annual.flow == "export").select(
        exporter=_.reporter,
        importer=_.partner,
        product=_.product_key,
        year=_.year,
        value=_.value,
        quantity=_.quantity,
        months=_.months,
        basis=ibis.literal("mirror"),
    )
    reporting = reported.select("importer", "product", "year").distinct()
    mirror = mirror.anti_join(reporting, ["importer", "product", "year"])
    return nullable(reported).union(nullable(mirror)).select(*FLOW_COLUMNS)


def dependence(flows: ir.Table, params: DependenceParams | None = None) -> ir.Table:
    """Dependence and concentration per (importer, product, year); columns RESULT_COLUMNS.

    ``flows`` needs exporter, importer, product, year and value, one row per (exporter,
    importer, product, year); quantity, months and basis are used when present. HHI is the
    sum of squared supplier shares (0..1); the world-export HHI and the importer's own exports
    come from the same matrix, so they are only as complete as the data (docs/indicators.md).
    """
    p = params or DependenceParams()
    cols = set(flows.columns)
    f = flows.mutate(
        quantity=flows.quantity if "quantity" in cols else ibis.null("float64"),
        months=flows.months if "months" in cols else ibis.literal(12, "int32"),
        basis=flows.basis if "basis" in cols else ibis.literal("reported"),
    )
    # The zero-value flows say 'no trade': they count neither as supplier nor in shares.
    f = f.filter(f.value > 0)
    by = ["importer", "product", "year"]
    # One pass: flows are unique per (exporter, importer, product, year) (observations_to_flows
    # guarantees it), so counting rows counts suppliers, and argmax names the top one without
    # sorting 10M rows. Among exactly equal top values the engine picks one; the share is the
    # same either way.
    imp = f.group_by(by).aggregate(
        import_value=f.value.sum(),
        import_quantity=f.quantity.sum(),
        n_suppliers=f.count(),
        sum_sq=(f.value * f.value).sum(),
        top_value=f.value.max(),
        top_supplier=f.exporter.argmax(f.value),
        months=f.months.max(),
        basis=f.basis.max(),
        basis_min=f.basis.min(),
    )
    exp_by = f.group_by(["exporter", "product", "year"]).aggregate(x=f.value.sum())
    world = exp_by.group_by(["product", "year"]).aggregate(
        world_export=exp_by.x.sum(), world_sq=(exp_by.x * exp_by.x).sum()
    )
    own_exports = exp_by.select(
        importer=_.exporter, product=_.product, year=_.year, export_value=_.x
    )

    r = imp.join(world, ["product", "year"])
    r = r.left_join(own_exports, by)
    r = r.select(
        *by,
        "import_value",
        "import_quantity",
        "n_suppliers",
        "top_supplier",
        "months",
        top_share=_.top_value / _.import_value,
        hhi=_.sum_sq / (_.import_value * _.import_value),
        world_export_hhi=_.world_sq / (_.world_export * _.world_export),
        export_value=_.export_value.fill_null(0.0),
        basis=ibis.ifelse(_.basis == _.basis_min, _.basis, "mixed"),
    )
    r = r.mutate(
        import_export_ratio=ibis.ifelse(
            r.export_value > 0, r.import_value / r.export_value, ibis.null("float64")
        ),
        crit_import_hhi=r.hhi > p.import_hhi,
        crit_world_export_hhi=r.world_export_hhi > p.world_export_hhi,
        # No exports at all while importing: the ratio is infinite, the criterion is met.
        crit_import_export_ratio=(r.export_value <= 0)
        | (r.import_value > p.import_export_ratio * r.export_value),
    )
    r = r.mutate(
        criteria_met=r.crit_import_hhi & r.crit_world_export_hhi & r.crit_import_export_ratio,
    )
    # Persistence: criteria met in >= persistence_min of the persistence_years years ending
    # at `year`. Self-joins on year - k rather than a row frame, so missing years are absent
    # years (not the previous row) on every engine.
    met = r.select("importer", "product", "year", m=ibis.ifelse(r.criteria_met, 1, 0))
    years_met = r.select(*by, years_met=ibis.ifelse(r.criteria_met, 1, 0))
    for k in range(1, p.persistence_years):
        prev = met.select(
            importer=_.importer,
            product=_.product,
            year=(_.year + k).cast("int32"),
            **{f"m{k}": _.m},
        )
        years_met = years_met.left_join(prev, by).select(
            *by, years_met=_.years_met + _[f"m{k}"].fill_null(0)
        )
    r = r.join(years_met, by)
    r = r.mutate(
        dependent=r.years_met >= p.persistence_min,
        korea_rule=r.top_share >= p.korea_top_share,
    )
    return r.select(*RESULT_COLUMNS)


def check_observations(obs: ir.Table, countries: ir.Table | None = None) -> list[str]:
    """Problems in the trade input that the indicators work around; one line each.

    Unknown partners are dropped, negative values refused, conflicting duplicates across
    sources resolved to one source, and partial years flagged; here they are counted so the
    result says what was left out instead of giving a silently wrong figure.
    """
    notes: list[str] = []
    t = obs.filter(obs.flow.isin(["import", "export"]), obs.partner != WORLD)
    if countries is not None:
        unknown = (
            t.anti_join(countries, t.partner == countries.iso2)
            .group_by("partner")
            .aggregate(n=_.count())
            .order_by("partner")
            .to_pyarrow()
            .to_pylist()
        )
        if unknown:
            total = sum(int(u["n"]) for u in unknown)
            names = ", ".join(str(u["partner"]) for u in unknown[:10])
            notes.append(f"{total} row(s) with unknown partner(s) left out: {names}")
    counts = (
        t.aggregate(
            negative=ibis.ifelse(t.value_usd < 0, 1, 0).sum(),
            zero=ibis.ifelse(t.value_usd == 0, 1, 0).sum(),
            self_trade=ibis.ifelse(t.reporter == t.partner, 1, 0).sum(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    if counts["negative"]:
        notes.append(f"{counts['negative']} row(s) with negative value left out")
    if counts["zero"]:
        notes.append(f"{counts['zero']} row(s) with zero value: kept as 'no trade'")
    if counts["self_trade"]:
        notes.append(f"{counts['self_trade']} row(s) where reporter == partner left out")
    key = ["reporter", "partner", "flow", "freq", "period", "product_key"]
    dup = (
        t.group_by(key)
        .aggregate(n=_.count(), lo=_.value_usd.min(), hi=_.value_usd.max())
        .filter(_.n > 1)
        .aggregate(keys=_.count(), conflicting=ibis.ifelse(_.lo != _.hi, 1, 0).sum())
        .to_pyarrow()
        .to_pylist()[0]
    )
    if dup["keys"]:
        notes.append(
            f"{dup['keys']} flow(s) reported by more than one source "
            f"({dup['conflicting'] or 0} with different values): first source by id used"
        )
    return notes


def rows(expr: ir.Table) -> list[dict[str, Any]]:
    """Execute and return plain rows sorted by (importer, product, year)."""
    table = expr.order_by(["importer", "product", "year"]).to_pyarrow()
    return list(table.to_pylist())
