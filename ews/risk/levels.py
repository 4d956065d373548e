"""Levels with hysteresis: going up is immediate, coming down needs a clear and lasting fall.

At day t the level is the highest of
- ``up``: the highest level whose entry threshold the score reaches;
- ``hold``: the highest level not above yesterday's whose *exit* threshold
  (down_factor x entry) the score still reaches;
- ``dwell``: the highest level not above yesterday's whose entry threshold the score reached
  within the last ``min_days`` days.
Each part grows with the scores, so the level is monotone in every signal, and a score that
wanders inside the band between exit and entry thresholds never changes the level (no flapping).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from ews.alerts.records import LEVELS, Level
from ews.risk.config import RiskConfig

_RANKED = LEVELS[1:]


def level_for(score: float, config: RiskConfig) -> Level:
    """The highest level whose entry threshold ``score`` reaches (no history)."""
    found: Level = "normal"
    for level in _RANKED:
        if score >= config.thresholds[level]:
            found = level
    return found


@dataclass
class LevelTracker:
    """Runs the hysteresis rule day by day for one unit."""

    config: RiskConfig
    level: Level = "normal"
    last_support: dict[Level, dt.date] = field(default_factory=dict)

    def step(self, day: dt.date, score: float) -> Level:
        cfg = self.config
        rank = LEVELS.index(self.level)
        for level in _RANKED:
            if score >= cfg.thresholds[level]:
                self.last_support[level] = day
        best = LEVELS.index(level_for(score, cfg))
        for i in range(1, rank + 1):
            level = LEVELS[i]
            if score >= cfg.hysteresis.down_factor * cfg.thresholds[level]:
                best = max(best, i)
            seen = self.last_support.get(level)
            if seen is not None and (day - seen).days < cfg.hysteresis.min_days:
                best = max(best, i)
        self.level = LEVELS[best]
        return self.level


def run_levels(scores: Iterable[tuple[dt.date, float]], config: RiskConfig) -> list[Level]:
    """Levels for a day-ordered sequence of scores."""
    tracker = LevelTracker(config)
    return [tracker.step(day, score) for day, score in scores]
