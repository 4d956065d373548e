"""Levels: monotone in the score, and no flapping under small oscillations (Hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ews.alerts.records import LEVELS
from ews.risk.config import load_config
from ews.risk.levels import level_for, run_levels

CFG = load_config()
DAY0 = dt.date(2025, 1, 1)


def days(scores: list[float]) -> list[tuple[dt.date, float]]:
    return [(DAY0 + dt.timedelta(days=i), s) for i, s in enumerate(scores)]


def ranks(scores: list[float]) -> list[int]:
    return [LEVELS.index(lv) for lv in run_levels(days(scores), CFG)]


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0.0, "normal"),
        (CFG.thresholds["attention"], "attention"),
        (CFG.thresholds["caution"] - 1e-9, "attention"),
        (CFG.thresholds["caution"], "caution"),
        (CFG.thresholds["alert"], "alert"),
        (CFG.thresholds["serious"] * 3, "serious"),
    ],
)
def test_level_for_thresholds(score: float, level: str) -> None:
    assert level_for(score, CFG) == level


def test_up_at_once_down_only_after_a_clear_and_lasting_fall() -> None:
    alert = CFG.thresholds["alert"]
    hold = CFG.hysteresis.min_days
    scores = [alert] + [alert * 0.9] * 20 + [0.0] * (hold + 2)
    levels = run_levels(days(scores), CFG)
    assert levels[0] == "alert"
    assert set(levels[1:21]) == {"alert"}  # within the band: held
    assert levels[-1] == "normal"
    drop = levels.index("normal")
    assert drop - 21 == hold - 1 or drop >= 21  # not before the dwell has passed


score_lists = st.lists(
    st.floats(min_value=0, max_value=8, allow_nan=False), min_size=1, max_size=60
)


@settings(max_examples=200)
@given(
    score_lists,
    st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), min_size=60, max_size=60),
)
def test_levels_are_monotone_in_the_score(base: list[float], extra: list[float]) -> None:
    higher = [b + e for b, e in zip(base, extra, strict=False)]
    assert all(lo <= hi for lo, hi in zip(ranks(base), ranks(higher), strict=True))


@settings(max_examples=200)
@given(
    st.sampled_from(["attention", "caution", "alert", "serious"]),
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=5, max_size=80),
)
def test_no_flapping_inside_the_hysteresis_band(level: str, noise: list[float]) -> None:
    """Once a level is reached, a score wandering between its exit and entry thresholds
    never changes the level."""
    entry = CFG.thresholds[level]  # type: ignore[index]
    exit_ = CFG.hysteresis.down_factor * entry
    scores = [entry] + [exit_ + (entry - exit_) * n * 0.999 for n in noise]
    levels = run_levels(days(scores), CFG)
    assert set(levels) == {level}
