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
from collections.abc import Sequence
from dataclasses import dataclass

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


def _half_life(signal: Signal, config: RiskConfig) -> float:
    hl = config.half_life_days
    return hl.event if signal.kind == "event" else getattr(hl, signal.kind)


def decayed(signal: Signal, day: dt.date, config: RiskConfig) -> float:
    """The signal's strength on ``day``; 0 before it is known or past the horizon."""
    age = (day - signal.known).days
    if age < 0:
        return 0.0
    half_life = _half_life(signal, config)
    if age > config.horizon_half_lives * half_life:
        return 0.0
    return signal.strength * math.pow(0.5, age / half_life)


def _kind_key(signal: Signal) -> str:
    """The weight key: the event type, the measured anomaly type, or 'price_anomaly'."""
    return "price_anomaly" if signal.kind == "price_anomaly" else signal.type


def score_unit(
    signals: Sequence[Signal], day: dt.date, structure: Structure, config: RiskConfig
) -> Score:
    """The unit's score on ``day`` from its signals (see the module docstring)."""
    live_now = [(s, decayed(s, day, config)) for s in signals]
    live_now = [(s, v) for s, v in live_now if v > 0]
    easings = [(s, v) for s, v in live_now if s.type == "restriction_eased"]
    ease = 1.0 - math.prod(1.0 - v for _, v in easings) if easings else 0.0
    ease = min(ease, config.easing.max_offset)
    last_ease = max((s.known for s, _ in easings), default=None)
    flags = []
    if easings:
        same_day = {s.known for s, _ in easings}
        if any(s.type in config.easing.offsets and s.known in same_day for s, _ in live_now):
            flags.append("contradictory signals: a control and its easing reported the same day")
    contributions: list[Contribution] = []
    survival: dict[str, float] = {}
    for s, v in live_now:
        key = _kind_key(s)
        weight = config.weights.get(key, 0.0)
        if s.type == "restriction_eased" or weight <= 0:
            contributions.append(Contribution(s, 0.0, v))  # shown in the explanation, no score
            continue
        effective = v
        if ease and key in config.easing.offsets and last_ease is not None and s.known <= last_ease:
            effective = v * (1.0 - ease)
        survival[key] = survival.get(key, 1.0) * (1.0 - effective)
        contributions.append(Contribution(s, weight, effective))
    by_kind = {k: config.weights[k] * (1.0 - surv) for k, surv in survival.items()}
    live = sum(by_kind.values())
    value = structure.multiplier(config) * live
    contributions.sort(key=lambda c: c.weight * c.effective, reverse=True)
    return Score(
        value=value,
        live=live,
        structure=structure,
        contributions=tuple(contributions),
        by_kind=by_kind,
        easing=ease,
        flags=tuple(flags),
    )
