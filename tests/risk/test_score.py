"""Scores: each contribution is explained, easing offsets controls, decay, monotonicity."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ews.catalog import Catalog
from ews.risk.config import load_config
from ews.risk.score import Structure, decayed, score_unit
from ews.risk.signals import Signal, screen

CFG = load_config()
DAY = dt.date(2025, 10, 10)
KNOWN = Structure(0.9, "share of refining", "test", True)


def sig(
    kind: str = "event",
    type_: str = "export_restriction",
    strength: float = 0.8,
    known: dt.date = DAY,
    ref: str = "e1",
    supplier: str | None = "CN",
) -> Signal:
    return Signal(
        kind=kind,
        type=type_,
        ref=ref,
        group="rare_earths",
        hs=("280530",),  # type: ignore[arg-type]
        supplier=supplier,
        observed=known,
        known=known,
        strength=strength,
        summary=ref,
    )


def test_score_is_structure_times_noisy_or() -> None:
    s = score_unit([sig(strength=0.5), sig(strength=0.5, ref="e2")], DAY, KNOWN, CFG)
    expected = (CFG.structural.floor + 0.9) * CFG.weights["export_restriction"] * (1 - 0.5 * 0.5)
    assert s.value == pytest.approx(expected)
    assert [c.signal.ref for c in s.contributions] == ["e1", "e2"]
    assert s.by_kind == {
        "export_restriction": pytest.approx(CFG.weights["export_restriction"] * 0.75)
    }


def test_decay_halves_after_a_half_life() -> None:
    s = sig(strength=1.0)
    later = DAY + dt.timedelta(days=int(CFG.half_life_days.event))
    assert decayed(s, later, CFG) == pytest.approx(0.5, rel=0.02)
    assert decayed(s, DAY - dt.timedelta(days=1), CFG) == 0.0  # not known yet
    far = DAY + dt.timedelta(days=int(CFG.half_life_days.event * CFG.horizon_half_lives) + 1)
    assert decayed(s, far, CFG) == 0.0


def test_easing_offsets_earlier_controls() -> None:
    control = sig(strength=0.9, known=DAY - dt.timedelta(days=5))
    eased = sig(type_="restriction_eased", strength=0.9, ref="lift")
    before = score_unit([control], DAY, KNOWN, CFG).value
    after = score_unit([control, eased], DAY, KNOWN, CFG)
    assert after.value < before * 0.2
    assert after.easing == pytest.approx(min(0.9, CFG.easing.max_offset))
    # a control announced after the easing is not offset by it
    new = sig(strength=0.9, known=DAY + dt.timedelta(days=1), ref="again")
    assert (
        score_unit([control, eased, new], DAY + dt.timedelta(days=1), KNOWN, CFG).value
        > after.value
    )


def test_contradictory_signals_are_flagged() -> None:
    s = score_unit([sig(), sig(type_="restriction_eased", ref="lift")], DAY, KNOWN, CFG)
    assert any("contradictory" in f for f in s.flags)


def test_cooperation_never_scores() -> None:
    s = score_unit([sig(type_="cooperation", strength=1.0)], DAY, KNOWN, CFG)
    assert s.value == 0.0 and len(s.contributions) == 1


@settings(max_examples=150)
@given(
    st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=8),
    st.integers(min_value=0, max_value=7),
    st.floats(min_value=0, max_value=1),
)
def test_score_is_monotone_in_each_disruption_signal(
    strengths: list[float], which: int, more: float
) -> None:
    which %= len(strengths)
    types = ["export_restriction", "shortage", "production_disruption", "sanction"]
    signals = [sig(type_=types[i % 4], strength=v, ref=f"s{i}") for i, v in enumerate(strengths)]
    stronger = list(signals)
    old = signals[which]
    stronger[which] = sig(type_=old.type, strength=min(1.0, old.strength + more), ref=old.ref)
    assert (
        score_unit(stronger, DAY, KNOWN, CFG).value
        >= score_unit(signals, DAY, KNOWN, CFG).value - 1e-12
    )


def test_screen_refuses_future_unknown_and_unprovenanced(catalog: Catalog) -> None:
    good = sig()
    future = sig(known=DAY + dt.timedelta(days=3), ref="future")
    no_ref = sig(ref="")
    bad_group = good.model_copy(update={"group": "unobtainium", "ref": "g"})
    bad_country = sig(supplier="XQ", ref="c")
    ok, problems = screen([good, future, no_ref, bad_group, bad_country], catalog, today=DAY)
    assert ok == [good]
    reasons = {p.ref: p.reason for p in problems}
    assert "future" in reasons["future"]
    assert "provenance" in reasons["?"]
    assert "unknown family" in reasons["g"] and "unknown country" in reasons["c"]
