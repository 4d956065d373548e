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


# -- corroboration: one voice holds a unit at attention ----------------------------------------
def _voice(ref: str, witness: str, **kw: object) -> Signal:
    return sig(ref=ref, strength=0.9).model_copy(update={"witness": witness, **kw})


def test_one_outlet_is_held_under_caution_and_a_second_lifts_it() -> None:
    caution = CFG.thresholds["caution"]
    one = score_unit([_voice("a", "outlet-a.example")], DAY, KNOWN, CFG)
    assert one.value >= caution  # the score itself is kept and shown
    assert one.level_value < caution and one.ceiling is not None
    assert any("one voice only" in f for f in one.flags)
    # Two stories from the same outlet are still one voice.
    same = score_unit(
        [_voice("a", "outlet-a.example"), _voice("b", "outlet-a.example")], DAY, KNOWN, CFG
    )
    assert same.level_value < caution
    two = score_unit(
        [_voice("a", "outlet-a.example"), _voice("b", "outlet-b.example")], DAY, KNOWN, CFG
    )
    assert two.ceiling is None and two.level_value == two.value >= caution


def test_an_official_notice_or_a_standing_control_is_two_voices() -> None:
    official = score_unit([_voice("a", "gov.example", official=True)], DAY, KNOWN, CFG)
    assert official.ceiling is None and official.level_value >= CFG.thresholds["caution"]
    standing = score_unit([_voice("a", "paper.example", standing=True)], DAY, KNOWN, CFG)
    assert standing.ceiling is None


def test_a_measured_series_is_one_voice_whatever_its_months() -> None:
    series = "trade:CN>WLD:export:2805"
    months = [
        sig(kind="trade_anomaly", type_="trade_drop", ref=f"{series}@{m}", strength=1).model_copy(
            update={"witness": series}
        )
        for m in ("2025-07", "2025-08")
    ]
    assert score_unit(months, DAY, KNOWN, CFG).ceiling is not None
    price = sig(kind="price_anomaly", type_="price_anomaly", ref="price:x@2025-08", strength=1)
    both = score_unit([*months, price.model_copy(update={"witness": "price:x"})], DAY, KNOWN, CFG)
    assert both.ceiling is None  # a trade series and a price series: two witnesses


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4),
    st.sampled_from(["a", "b", "c", "d"]),
)
def test_the_level_score_never_falls_when_a_signal_is_added(
    witnesses: list[str], extra: str
) -> None:
    signals = [_voice(f"s{i}", w) for i, w in enumerate(witnesses)]
    more = [*signals, _voice("new", extra)]
    assert (
        score_unit(more, DAY, KNOWN, CFG).level_value
        >= score_unit(signals, DAY, KNOWN, CFG).level_value - 1e-12
    )
