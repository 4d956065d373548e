"""Trade-flow and price anomalies over what the store holds.

The monthly series are gathered with Ibis (so the aggregation runs where the data lives);
scoring is per series in numpy by the detectors of :mod:`ews.indicators.detectors`, because
a trailing median/MAD is not a portable window function (Spark has no exact windowed median)
and each series is small: one row per month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import ibis  # type: ignore[import-untyped, unused-ignore]
import ibis.expr.types as ir  # type: ignore[import-untyped, unused-ignore]
from ibis import _  # type: ignore[import-untyped, unused-ignore]

from ews.indicators.detectors import (
    DAILY_SPIKE,
    MONTHLY_SPIKE,
    Detection,
    Detector,
    PriceAnomaly,
    TradeFlowDrop,
    UnitValueJump,
)
from ews.indicators.engine import nullable
from ews.indicators.series import Freq, Series, SeriesError
from ews.records import WORLD

TOTAL = "*"
"""Partner label of a series summed over all bilateral partners (no WLD row reported)."""


@dataclass
class AnomalyReport:
    """Detections over many series, with the counts a reader needs to judge the flags."""

    detections: list[Detection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> int:
        return sum(len(d.anomalies) for d in self.detections)

    @property
    def evaluated(self) -> int:
        return sum(d.evaluated for d in self.detections)

    @property
    def gaps(self) -> int:
        return sum(len(d.gaps) for d in self.detections)

    def anomalies(self) -> list[tuple[Detection, int]]:
        """(detection, index) of every anomaly, most extreme score first."""
        out = [(d, i) for d in self.detections for i in range(len(d.anomalies))]
        return sorted(out, key=lambda di: -abs(di[0].anomalies[di[1]].score))


def trade_key(reporter: str, partner: str, flow: str, product: str) -> str:
    """Stable series key: ``trade:CN>JP:export:811292``."""
    return f"trade:{reporter}>{partner}:{flow}:{product}"


class TradeKey(NamedTuple):
    """The parts of a :func:`trade_key`."""

    reporter: str
    partner: str
    """An ISO code, or ``*`` / ``WLD`` for the reporter's total over all partners."""
    flow: str
    product: str
    """An HS code, or ``group:<family>`` for a family's total."""


def parse_trade_key(key: str) -> TradeKey | None:
    """The parts of a key made by :func:`trade_key`; None for any other key."""
    head, _, rest = key.partition(":")
    pair, _, rest = rest.partition(":")
    flow, _, product = rest.partition(":")
    reporter, sep, partner = pair.partition(">")
    if head != "trade" or not sep or not flow or not product:
        return None
    return TradeKey(reporter, partner, flow, product)


def monthly_trade(
    obs: ir.Table,
    *,
    country: str | None = None,
    item: str | None = None,
    flow: str = "export",
) -> ir.Table:
    """Monthly value and quantity per (reporter, partner, flow, product), plus totals.

    One value per key across sources (first source id wins). For products with no WLD row,
    a total over partners is added with partner ``*``; a month in which no partner was
    reported is absent, so it becomes a gap rather than a zero.
    """
    t = obs.filter(obs.freq == "M", obs.flow == flow, obs.value_usd >= 0)
    if item:
        t = t.filter(t.product_key.startswith(item) | (t.item_group == item))
    if country:
        t = t.filter((t.reporter == country) | (t.partner == country))
    key = ["reporter", "partner", "flow", "period", "product_key"]
    w = ibis.window(group_by=key, order_by=["source_id"])
    t = t.mutate(_rn=ibis.row_number().over(w)).filter(_._rn == 0)
    t = t.select(*key, value=_.value_usd, quantity=_.quantity)
    with_world = t.filter(t.partner == WORLD).select("reporter", "flow", "product_key").distinct()
    bilateral = t.filter(t.partner != WORLD)
    totals = (
        bilateral.anti_join(with_world, ["reporter", "flow", "product_key"])
        .group_by(["reporter", "flow", "period", "product_key"])
        .aggregate(value=_.value.sum(), quantity=_.quantity.sum())
        .mutate(partner=ibis.literal(TOTAL))
    )
    return nullable(t).union(nullable(totals.select(*key, "value", "quantity")))


def trade_series(table: ir.Table) -> list[Series]:
    """Execute :func:`monthly_trade` and build one regular series per key."""
    data = table.order_by(["reporter", "partner", "product_key", "period"]).to_pyarrow()
    grouped: dict[str, list[tuple[dt.date, float | None, float | None]]] = defaultdict(list)
    for r in data.to_pylist():
        k = trade_key(r["reporter"], r["partner"], r["flow"], r["product_key"])
        grouped[k].append((r["period"], r["value"], r["quantity"]))
    out = []
    for k, rows in grouped.items():
        out.append(
            Series.from_pairs(
                k, [(p, v) for p, v, _ in rows], quantities=[(p, q) for p, _, q in rows]
            )
        )
    return out


def detect_trade(
    series: Sequence[Series],
    detectors: Sequence[Detector] = (TradeFlowDrop(), UnitValueJump()),
) -> AnomalyReport:
    """Run every detector on every series."""
    report = AnomalyReport()
    for s in series:
        for det in detectors:
            report.detections.append(det.detect(s))
    return report


def monthly_prices(obs: ir.Table, *, item: str | None = None, freq: str = "M") -> ir.Table:
    """Price observations of one frequency, optionally of one item (HS prefix or series id)."""
    t = obs.filter(obs.freq == freq)
    if item:
        t = t.filter(t.hs.startswith(item) | (t.series_id == item))
    return t.select("source_id", "series_id", "hs", "period", "value", "unit")


def price_series(
    table: ir.Table, freq: Freq = "M", *, problems: list[str] | None = None
) -> list[Series]:
    """Execute :func:`monthly_prices` and build one regular series per (source, series).

    A series whose periods are off the calendar (a monthly price not on the 1st, a daily
    price on a weekend) raises :class:`SeriesError`; with ``problems`` given it is left out
    and the reason appended there instead, so one bad series does not stop the others.
    """
    data = table.order_by(["source_id", "series_id", "period"]).to_pyarrow()
    grouped: dict[str, list[tuple[dt.date, float | None]]] = defaultdict(list)
    for r in data.to_pylist():
        grouped[f"price:{r['source_id']}:{r['series_id']}"].append((r["period"], r["value"]))
    out: list[Series] = []
    for k, pairs in grouped.items():
        try:
            out.append(Series.from_pairs(k, pairs, freq=freq))
        except SeriesError as exc:
            if problems is None:
                raise
            problems.append(f"{k}: not scored: {exc}")
    return out


def detect_prices(
    series: Sequence[Series],
    detectors: Sequence[Detector] = (PriceAnomaly(), MONTHLY_SPIKE),
    daily: Sequence[Detector] = (DAILY_SPIKE,),
) -> AnomalyReport:
    """Run ``detectors`` on every monthly series and ``daily`` on every business-day series.

    By default: the IFPA-style anomaly and the one-period spike test on monthly prices; the
    spike test alone, with a year of business days as history, on daily prices (IFPA is a
    monthly method).
    """
    report = AnomalyReport()
    for s in series:
        for det in daily if s.freq == "D" else detectors:
            report.detections.append(det.detect(s))
    return report
