"""Scoring one unit (family x supplier, or importer x family) on one day.

score = V x sum over kinds k of  w_k x (1 - prod_i (1 - s_i))
where s_i = strength_i x 0.5 ** (age_i / half_life) for the unit's signals known by that day,
an easing (a control lifted or suspended) scales down the controls known before it, and
V = floor + share is the structural multiplier (supplier share of world supply, or the
importer's dependence on the supplier). Every term is kept for the explanation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ews.alerts.records import LEVELS
from ews.risk.config import RiskConfig
from ews.risk.signals import Signal


@dataclass(frozen=True)
class Structure:
    """The structural multiplier of a unit and where its share came from."""

    share: float
    basis: str
    source: str
    known: bool

    def multiplier(self, config: RiskConfig) -> float:
        return config.structural.floor + self.share


@dataclass(frozen=True)
class Contribution:
    signal: Signal
    weight: float
    effective: float
    """Strength after decay and any easing offset, in [0, 1]."""


@dataclass(frozen=True)
class Score:
    value: float
    live: float
    structure: Structure
    contributions: tuple[Contribution, ...]
    by_kind: dict[str, float]
    easing: float
    flags: tuple[str, ...]
    ceiling: float | None = None
    """The most the level may read from this score: set while one voice alone carries it."""

    @property
    def level_value(self) -> float:
        """The score the level is read from: ``value``, held under ``ceiling`` if one voice."""
        return self.value if self.ceiling is None else min(self.value, self.ceiling)


def count_voices(signals: Iterable[Signal]) -> int:
    """Independent witnesses: each outlet or measured series once; an official notice of the
    measure, or a control in force, counts two."""
    weight: dict[str, int] = {}
    for s in signals:
        key = s.witness or s.ref
        weight[key] = max(weight.get(key, 0), 2 if s.official or s.standing else 1)
    return sum(weight.values())


def _ceiling(config: RiskConfig) -> float:
    """Just under the entry threshold of the level above the cap."""
    above = LEVELS[LEVELS.index(config.corroboration.cap) + 1]
    return math.nextafter(config.thresholds[above], 0.0)


def _half_life(signal: Signal, config: RiskConfig) -> float:
    hl = config.half_life_days
    return hl.event if signal.kind == "event" else getattr(hl, signal.kind)


def decayed(signal: Signal, day: dt.date, config: RiskConfig) -> float:
    """The signal's strength on ``day`` as news: 0 before it is known or past the horizon."""
    age = (day - signal.known).days
    if age < 0:
        return 0.0
    half_life = _half_life(signal, config)
    if age > config.horizon_half_lives * half_life:
        return 0.0
    return signal.strength * math.pow(0.5, age / half_life)


def standing_floor(
    signal: Signal, day: dt.date, config: RiskConfig, *, ended: bool = False
) -> float:
    """What a control in force still weighs on ``day`` however old its news: ``floor`` x its
    strength, until an easing ends it or ``max_days`` pass (an easing the node never read
    must not hold a level for ever)."""
    if not signal.standing or ended:
        return 0.0
    age = (day - signal.known).days
    if age < 0 or age > config.standing.max_days:
        return 0.0
    return signal.strength * config.standing.floor


def ended_by_easing(
    signal: Signal, easings: Sequence[Signal], day: dt.date, config: RiskConfig
) -> bool:
    """Whether an easing of enough strength, reported on or after the control and by ``day``,
    has ended a standing control."""
    return any(
        signal.known <= e.known <= day and e.strength >= config.standing.ended_by for e in easings
    )


def _kind_key(signal: Signal) -> str:
    """The weight key: the event type, the measured anomaly type, or 'price_anomaly'."""
    return "price_anomaly" if signal.kind == "price_anomaly" else signal.type


def score_unit(
    signals: Sequence[Signal],
    day: dt.date,
    structure: Structure,
    config: RiskConfig,
    *,
    easings: Sequence[Signal] = (),
) -> Score:
    """The unit's score on ``day`` from its signals (see the module docstring).

    ``easings``: every easing of the unit ever known (also those past the horizon), which end
    standing controls; the easings among ``signals`` are enough when none is older."""
    every_easing = list(easings) or [s for s in signals if s.type == "restriction_eased"]
    floors = {
        id(s): standing_floor(s, day, config, ended=ended_by_easing(s, every_easing, day, config))
        for s in signals
        if s.standing
    }
    live_now = [(s, decayed(s, day, config)) for s in signals]
    live_now = [(s, v) for s, v in live_now if v > 0 or floors.get(id(s), 0.0) > 0]
    live_easings = [(s, v) for s, v in live_now if s.type == "restriction_eased"]
    ease = 1.0 - math.prod(1.0 - v for _, v in live_easings) if live_easings else 0.0
    ease = min(ease, config.easing.max_offset)
    last_ease = max((s.known for s, _ in live_easings), default=None)
    flags = []
    if live_easings:
        same_day = {s.known for s, _ in live_easings}
        if any(s.type in config.easing.offsets and s.known in same_day for s, _ in live_now):
            flags.append("contradictory signals: a control and its easing reported the same day")
    contributions: list[Contribution] = []
    survival: dict[str, float] = {}
    # Controls in force weigh by the strongest one's floor, not by their number: five outlets
    # repeating one standing control are one control.
    floor_by_kind: dict[str, float] = {}
    for s, v in live_now:
        key = _kind_key(s)
        weight = config.weights.get(key, 0.0)
        if s.type == "restriction_eased" or weight <= 0:
            contributions.append(Contribution(s, 0.0, v))  # shown in the explanation, no score
            continue
        keep = 1.0
        if ease and key in config.easing.offsets and last_ease is not None and s.known <= last_ease:
            keep = 1.0 - ease
        fresh, floor = v * keep, floors.get(id(s), 0.0) * keep
        survival[key] = survival.get(key, 1.0) * (1.0 - fresh)
        floor_by_kind[key] = max(floor_by_kind.get(key, 0.0), floor)
        contributions.append(Contribution(s, weight, max(fresh, floor)))
    by_kind = {
        k: config.weights[k] * max(1.0 - surv, floor_by_kind.get(k, 0.0))
        for k, surv in survival.items()
    }
    live = sum(by_kind.values())
    value = structure.multiplier(config) * live
    voices = count_voices(c.signal for c in contributions if c.weight > 0 and c.effective > 0)
    ceiling: float | None = None
    if 0 < voices < config.corroboration.min_voices:
        ceiling = _ceiling(config)
        if value > ceiling:
            flags.append(
                f"one voice only ({voices}): held at {config.corroboration.cap} until a second "
                "outlet, an official notice or a measured series confirms it"
            )
    contributions.sort(key=lambda c: c.weight * c.effective, reverse=True)
    return Score(
        value=value,
        live=live,
        ceiling=ceiling,
        structure=structure,
        contributions=tuple(contributions),
        by_kind=by_kind,
        easing=ease,
        flags=tuple(flags),
    )
