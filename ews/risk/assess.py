"""Replaying signals day by day into scores, levels and alert versions.

The live run and the backtest are this same function: the live run replays up to today, the
backtest up to a clock set in the past, and neither sees a signal before it was known.

Units:
- supplier view: (family, supplier country), or (family, None) for global signals (prices);
- importer view: (watching country, family); each supplier's signals are scored with the
  watcher's dependence on that supplier, global signals with its dependence on its top
  supplier, and the unit takes the highest (the supplier behind it is named).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ews.alerts.records import Alert, Level
from ews.catalog import Catalog
from ews.risk.config import RiskConfig, StructuralPriors
from ews.risk.levels import LevelTracker
from ews.risk.lifecycle import AlertBook
from ews.risk.score import Score, Structure, score_unit
from ews.risk.signals import Signal


@dataclass(frozen=True)
class UnitKey:
    group: str
    supplier: str | None
    importer: str | None = None

    def label(self) -> str:
        who = self.supplier or "world"
        return f"{self.group}/{who}" + (f" for {self.importer}" if self.importer else "")


@dataclass
class Assessment:
    """A unit's state on one day, with the score that produced it."""

    unit: UnitKey
    day: dt.date
    level: Level
    score: Score
    supplier: str | None


@dataclass
class ReplayResult:
    assessments: list[Assessment] = field(default_factory=list)
    """Level changes and each unit's last day."""
    alerts: list[Alert] = field(default_factory=list)
    daily: dict[UnitKey, list[tuple[dt.date, float, Level]]] = field(default_factory=dict)


class StructureBook:
    """Structural figures: computed ones take precedence over the shipped priors."""

    def __init__(
        self,
        config: RiskConfig,
        priors: StructuralPriors,
        computed_share: dict[tuple[str, str], Structure] | None = None,
        computed_dependence: dict[tuple[str, str, str], Structure] | None = None,
    ) -> None:
        self.config = config
        self.priors = priors
        self.computed_share = computed_share or {}
        self.computed_dependence = computed_dependence or {}

    def unknown(self, what: str) -> Structure:
        return Structure(self.config.structural.unknown_share, f"{what} unknown", "default", False)

    def supplier_share(self, group: str, supplier: str | None) -> Structure:
        if supplier is None:
            shares = [p.share for p in self.priors.supplier_share.get(group, {}).values()]
            shares += [s.share for (g, _), s in self.computed_share.items() if g == group]
            if shares:
                return Structure(
                    max(shares), "top supplier's share of world supply", "priors/data", True
                )
            return self.unknown("supply concentration")
        found = self.computed_share.get((group, supplier))
        if found is not None:
            return found
        prior = self.priors.supplier_share.get(group, {}).get(supplier)
        if prior is not None:
            return Structure(prior.share, prior.basis, prior.source, True)
        return self.unknown(f"{supplier}'s share of world supply")

    def dependence(self, importer: str, group: str, supplier: str | None) -> Structure:
        table = self.priors.importer_dependence.get(importer, {}).get(group, {})
        computed = {
            s: v
            for (i, g, s), v in self.computed_dependence.items()
            if i == importer and g == group
        }
        if supplier is None:
            options = [Structure(p.share, p.basis, p.source, True) for p in table.values()]
            options += list(computed.values())
            if options:
                return max(options, key=lambda s: s.share)
            return self.unknown(f"{importer}'s import concentration")
        if supplier in computed:
            return computed[supplier]
        prior = table.get(supplier)
        if prior is not None:
            return Structure(prior.share, prior.basis, prior.source, True)
        return self.unknown(f"{importer}'s dependence on {supplier}")

    def top_supplier(self, importer: str, group: str) -> str | None:
        table = {
            s: p.share
            for s, p in self.priors.importer_dependence.get(importer, {}).get(group, {}).items()
        }
        for (i, g, s), v in self.computed_dependence.items():
            if i == importer and g == group:
                table[s] = v.share
        return max(table, key=lambda s: table[s]) if table else None


class _Indexed:
    """A unit's signals sorted by the day they became known, for fast windows."""

    def __init__(self, signals: Iterable[Signal]) -> None:
        self.signals = sorted(signals, key=lambda s: (s.known, s.ref))
        self.known = [s.known for s in self.signals]

    def window(self, day: dt.date, horizon_days: int) -> list[Signal]:
        lo = bisect.bisect_left(self.known, day - dt.timedelta(days=horizon_days))
        hi = bisect.bisect_right(self.known, day)
        return self.signals[lo:hi]


def _days(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def replay(
    signals: Sequence[Signal],
    *,
    start: dt.date,
    end: dt.date,
    config: RiskConfig,
    structures: StructureBook,
    catalog: Catalog,
    node: str,
    watchlist: Sequence[str] | None = None,
    legacy_ids: frozenset[str] = frozenset(),
) -> ReplayResult:
    """Run every unit from ``start`` to ``end`` (the clock) and collect levels and alerts.

    ``legacy_ids``: this node's own alerts stored under ids from before namespacing, which
    their episodes keep (:attr:`~ews.risk.lifecycle.AlertBook.legacy_ids`)."""
    visible = [s for s in signals if s.known <= end]
    horizon = (
        int(
            config.horizon_half_lives
            * max(
                config.half_life_days.event,
                config.half_life_days.trade_anomaly,
                config.half_life_days.price_anomaly,
            )
        )
        + 1
    )
    by_supplier: dict[tuple[str, str | None], list[Signal]] = defaultdict(list)
    for s in visible:
        if s.importer is None:
            by_supplier[(s.group, s.supplier)].append(s)
    indexed = {k: _Indexed(v) for k, v in by_supplier.items()}
    # Signals that concern one importer only join that importer's view.
    private: dict[tuple[str, str, str | None], list[Signal]] = defaultdict(list)
    for s in visible:
        if s.importer is not None:
            private[(s.importer, s.group, s.supplier)].append(s)
    book = AlertBook(config=config, catalog=catalog, node=node, legacy_ids=legacy_ids)
    result = ReplayResult()

    def run_unit(unit: UnitKey, parts: list[tuple[str | None, _Indexed, Structure]]) -> None:
        first = min(p[1].known[0] for p in parts)
        last = max(p[1].known[-1] for p in parts)
        begin = max(start, first)
        stop = min(end, last + dt.timedelta(days=horizon))
        tracker = LevelTracker(config)
        daily: list[tuple[dt.date, float, Level]] = []
        previous: Level = "normal"
        latest: Assessment | None = None
        for day in _days(begin, stop):
            best: tuple[Score, str | None] | None = None
            for supplier, idx, structure in parts:
                window = idx.window(day, horizon)
                if not window:
                    continue
                sc = score_unit(window, day, structure, config)
                if best is None or sc.value > best[0].value:
                    best = (sc, supplier)
            if best is None:
                sc, supplier = score_unit([], day, parts[0][2], config), parts[0][0]
            else:
                sc, supplier = best
            level = tracker.step(day, sc.value)
            daily.append((day, sc.value, level))
            latest = Assessment(unit, day, level, sc, supplier)
            if level != previous:
                result.assessments.append(latest)
                alert = book.on_level(unit, day, level, previous, sc, supplier)
                if alert is not None:
                    result.alerts.append(alert)
                previous = level
        if latest is not None and (not result.assessments or result.assessments[-1] is not latest):
            result.assessments.append(latest)
        result.daily[unit] = daily

    for (group, supplier), idx in sorted(
        indexed.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        structure = structures.supplier_share(group, supplier)
        run_unit(UnitKey(group, supplier), [(supplier, idx, structure)])

    for importer in watchlist if watchlist is not None else config.watchlist:
        groups = sorted({g for g, _ in indexed} | {g for i, g, _ in private if i == importer})
        for group in groups:
            parts: list[tuple[str | None, _Indexed, Structure]] = []
            suppliers = {s for g, s in by_supplier if g == group}
            suppliers |= {s for i, g, s in private if i == importer and g == group}
            for supplier in sorted(suppliers, key=lambda x: x or ""):
                if supplier == importer:
                    continue
                mine = by_supplier.get((group, supplier), []) + private.get(
                    (importer, group, supplier), []
                )
                if not mine:
                    continue
                idx = _Indexed(mine)
                if supplier is None:
                    structure = structures.dependence(importer, group, None)
                    parts.append((structures.top_supplier(importer, group), idx, structure))
                else:
                    parts.append((supplier, idx, structures.dependence(importer, group, supplier)))
            private_here = any(i == importer and g == group for i, g, _ in private)
            # Without its own dependence figures or signals of its own, a watchlist view would
            # only repeat the global one: the global alert serves that country.
            if parts and (private_here or any(p[2].known for p in parts)):
                run_unit(UnitKey(group, None, importer), parts)
    return result
