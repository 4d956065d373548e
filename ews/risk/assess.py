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
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ews.alerts.records import Alert, Level
from ews.catalog import Catalog
from ews.risk.config import Prior, RiskConfig, StructuralPriors, as_of
from ews.risk.inputs import AIMED_SUFFIX
from ews.risk.levels import LevelTracker
from ews.risk.lifecycle import AlertBook
from ews.risk.score import Score, Structure, count_voices, score_unit
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
    """Structural figures, each used only from the day it became known.

    Computed figures take precedence over the shipped priors; a prior has vintages (the
    figure as each edition of its source gave it), and on a given day the newest one already
    public is used. ``day=None`` means the newest of all (a live run)."""

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

    @staticmethod
    def _structure(prior: Prior) -> Structure:
        return Structure(prior.share, f"{prior.basis} (public {prior.known})", prior.source, True)

    def _share_prior(self, group: str, supplier: str, day: dt.date | None) -> Prior | None:
        return as_of(self.priors.supplier_share.get(group, {}).get(supplier, []), day)

    def _dependence_table(
        self, importer: str, group: str, day: dt.date | None
    ) -> dict[str, Structure]:
        table: dict[str, Structure] = {}
        for supplier, vintages in (
            self.priors.importer_dependence.get(importer, {}).get(group, {}).items()
        ):
            prior = as_of(vintages, day)
            if prior is not None:
                table[supplier] = self._structure(prior)
        for (i, g, s), v in self.computed_dependence.items():
            if i == importer and g == group:
                table[s] = v
        return table

    def supplier_share(
        self, group: str, supplier: str | None, day: dt.date | None = None
    ) -> Structure:
        if supplier is None:
            known = [
                p
                for code in self.priors.supplier_share.get(group, {})
                if (p := self._share_prior(group, code, day)) is not None
            ]
            shares = [p.share for p in known]
            shares += [s.share for (g, _), s in self.computed_share.items() if g == group]
            if shares:
                return Structure(
                    max(shares), "top supplier's share of world supply", "priors/data", True
                )
            return self.unknown("supply concentration")
        found = self.computed_share.get((group, supplier))
        if found is not None:
            return found
        prior = self._share_prior(group, supplier, day)
        if prior is not None:
            return self._structure(prior)
        return self.unknown(f"{supplier}'s share of world supply")

    def dependence(
        self, importer: str, group: str, supplier: str | None, day: dt.date | None = None
    ) -> Structure:
        table = self._dependence_table(importer, group, day)
        if supplier is None:
            if table:
                return max(table.values(), key=lambda s: s.share)
            return self.unknown(f"{importer}'s import concentration")
        if supplier in table:
            return table[supplier]
        return self.unknown(f"{importer}'s dependence on {supplier}")

    def top_supplier(self, importer: str, group: str, day: dt.date | None = None) -> str | None:
        table = self._dependence_table(importer, group, day)
        return max(table, key=lambda s: table[s].share) if table else None

    def has_dependence(self, importer: str, group: str, day: dt.date | None = None) -> bool:
        """Whether the importer has a figure of its own for the family public by ``day``."""
        return bool(self._dependence_table(importer, group, day))


def _serves(
    structures: StructureBook, importer: str, group: str, own_since: dt.date | None
) -> Callable[[dt.date], bool]:
    """Whether the watcher's view has anything of its own on a day: a dependence figure public
    by then, or a signal that concerns it alone already known (``own_since``)."""
    return lambda day: (
        (own_since is not None and day >= own_since)
        or structures.has_dependence(importer, group, day)
    )


class _Indexed:
    """A unit's signals sorted by the day they became known, for fast windows.

    Standing controls stay in every window after they are known (they have no horizon), and
    every easing is kept apart to decide whether a control still stands."""

    def __init__(self, signals: Iterable[Signal]) -> None:
        self.signals = sorted(signals, key=lambda s: (s.known, s.ref))
        self.known = [s.known for s in self.signals]
        self.standing = [s for s in self.signals if s.standing]
        self.easings = [s for s in self.signals if s.type == "restriction_eased"]

    def window(self, day: dt.date, horizon_days: int) -> list[Signal]:
        since = day - dt.timedelta(days=horizon_days)
        lo = bisect.bisect_left(self.known, since)
        hi = bisect.bisect_right(self.known, day)
        older = [s for s in self.standing if s.known < since]
        return older + self.signals[lo:hi]

    def easings_by(self, day: dt.date) -> list[Signal]:
        return [e for e in self.easings if e.known <= day]


def _days(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def contagion_signals(
    signals: Iterable[Signal], structures: StructureBook, config: RiskConfig
) -> list[Signal]:
    """A supplier's control on one material puts the other materials it dominates on watch.

    China's gallium licences of July 2023 were followed by graphite in October, antimony in
    2024 and rare earths in 2025: a dominant supplier that starts controlling one material is
    a reason to watch the others. Each derived signal carries the strength of the control it
    comes from and weighs ``weights.contagion`` (attention at most on its own)."""
    rule = config.contagion
    out: list[Signal] = []
    for s in signals:
        if s.kind != "event" or s.type not in rule.kinds or s.supplier is None:
            continue
        if s.importer is not None:
            continue
        for group, suppliers in structures.priors.supplier_share.items():
            if group == s.group or s.supplier not in suppliers:
                continue
            prior = as_of(suppliers[s.supplier], s.known)
            if prior is None or prior.share < rule.min_share:
                continue
            # The control itself, retold for the other material: its strength, its witness,
            # its evidence; never standing, and no effective date of its own.
            out.append(
                s.model_copy(
                    update={
                        "type": "contagion",
                        "ref": f"{s.ref}>{group}",
                        "group": group,
                        "hs": (),
                        "observed": s.known,
                        "summary": (
                            f"{s.supplier} has just restricted {s.group.replace('_', ' ')}; it "
                            f"holds {prior.share:.0%} of world supply here ({prior.basis})"
                        ),
                        "standing": False,
                        "effective": None,
                        "figure": None,
                    }
                )
            )
    return out


StructureAt = Callable[[dt.date], Structure]


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
    visible += contagion_signals(visible, structures, config)
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

    def run_unit(
        unit: UnitKey,
        parts: list[tuple[str | None, _Indexed, StructureAt]],
        serves: Callable[[dt.date], bool] | None = None,
    ) -> None:
        """``serves``: on a day it is false the unit scores nothing (a watchlist view without
        a figure of its own public yet only repeats the global one)."""
        first = min(p[1].known[0] for p in parts)
        last = max(p[1].known[-1] for p in parts)
        begin = max(start, first)
        # A standing control keeps the unit assessed until it can no longer stand.
        held = max(
            (s.known for p in parts for s in p[1].standing),
            default=dt.date.min + dt.timedelta(days=1),
        )
        stop = min(
            end,
            max(
                last + dt.timedelta(days=horizon),
                held + dt.timedelta(days=config.standing.max_days + 1),
            ),
        )
        tracker = LevelTracker(config)
        daily: list[tuple[dt.date, float, Level]] = []
        previous: Level = "normal"
        latest: Assessment | None = None
        for day in _days(begin, stop):
            best: tuple[Score, str | None] | None = None
            heard: list[Signal] = []
            for supplier, idx, structure_at in parts if serves is None or serves(day) else ():
                window = idx.window(day, horizon)
                if not window:
                    continue
                sc = score_unit(window, day, structure_at(day), config, easings=idx.easings_by(day))
                heard += [c.signal for c in sc.contributions if c.weight > 0 and c.effective > 0]
                if best is None or sc.value > best[0].value:
                    best = (sc, supplier)
            if best is None:
                sc, supplier = score_unit([], day, parts[0][2](day), config), parts[0][0]
            else:
                sc, supplier = best
            # A watcher's view hears every part: a price spike (global) and a report of the
            # supplier's control are two voices even though each part is scored apart.
            if sc.ceiling is not None and count_voices(heard) >= config.corroboration.min_voices:
                sc = dataclasses.replace(
                    sc, ceiling=None, flags=tuple(f for f in sc.flags if "one voice" not in f)
                )
            level = tracker.step(day, sc.level_value)
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

    def share_at(group: str, supplier: str | None) -> StructureAt:
        return lambda day: structures.supplier_share(group, supplier, day)

    def dependence_at(importer: str, group: str, supplier: str | None) -> StructureAt:
        return lambda day: structures.dependence(importer, group, supplier, day)

    for (group, supplier), idx in sorted(
        indexed.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        run_unit(UnitKey(group, supplier), [(supplier, idx, share_at(group, supplier))])

    for importer in watchlist if watchlist is not None else config.watchlist:
        groups = sorted({g for g, _ in indexed} | {g for i, g, _ in private if i == importer})
        for group in groups:
            parts: list[tuple[str | None, _Indexed, StructureAt]] = []
            suppliers = {s for g, s in by_supplier if g == group}
            suppliers |= {s for i, g, s in private if i == importer and g == group}
            for supplier in sorted(suppliers, key=lambda x: x or ""):
                if supplier == importer:
                    continue
                own = private.get((importer, group, supplier), [])
                # A measure aimed at this watcher is heard once, as its own, not also as the
                # world signal it copies (inputs.AIMED_SUFFIX).
                copied = {
                    s.ref.removesuffix(f"{AIMED_SUFFIX}{importer}")
                    for s in own
                    if s.ref.endswith(f"{AIMED_SUFFIX}{importer}")
                }
                mine = [s for s in by_supplier.get((group, supplier), []) if s.ref not in copied]
                mine += own
                if not mine:
                    continue
                idx = _Indexed(mine)
                if supplier is None:
                    # A global signal is named after the watcher's top supplier known today.
                    top = structures.top_supplier(importer, group, end)
                    parts.append((top, idx, dependence_at(importer, group, None)))
                else:
                    parts.append((supplier, idx, dependence_at(importer, group, supplier)))
            own_since = min(
                (
                    s.known
                    for (i, g, _), sigs in private.items()
                    if i == importer and g == group
                    for s in sigs
                ),
                default=None,
            )
            # Without its own dependence figures or signals of its own, a watchlist view would
            # only repeat the global one: the global alert serves that country. A figure counts
            # from the day it became public, so a replay opens no view before then.
            if parts and (own_since is not None or structures.has_dependence(importer, group, end)):
                serves = _serves(structures, importer, group, own_since)
                run_unit(UnitKey(group, None, importer), parts, serves)
    return result
