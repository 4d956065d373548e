"""Detectors: the contract (index checks, gaps, refused values) and each method, table-driven."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ews.errors import EwsError
from ews.indicators.anomalies import detect_prices
from ews.indicators.detectors import (
    DAILY_SPIKE,
    MONTHLY_SPIKE,
    Detector,
    PriceAnomaly,
    PriceSpike,
    TradeFlowDrop,
    UnitValueJump,
)
from ews.indicators.series import (
    Series,
    SeriesError,
    month_start,
    past_median,
    regular_calendar,
    robust_z,
    seasonal_robust_z,
)

NAN = math.nan


def months(first: dt.date, n: int) -> list[dt.date]:
    base = first.year * 12 + first.month - 1
    return [month_start(base + i) for i in range(n)]


def seasonal(n: int, *, level: float = 100.0, seed: int = 1) -> list[float]:
    """A seasonal monthly series with mild noise (deterministic)."""
    rng = np.random.default_rng(seed)
    return [
        level * (1 + 0.2 * math.sin(2 * math.pi * i / 12)) * math.exp(rng.normal(0, 0.05))
        for i in range(n)
    ]


def series(values: list[float | None], *, key: str = "s", quantities: list[float] | None = None):
    periods = months(dt.date(2015, 1, 1), len(values))
    pairs = [(p, v) for p, v in zip(periods, values, strict=True) if v is not None]
    qty = None
    if quantities is not None:
        qty = list(zip(periods, quantities, strict=True))
    return Series.from_pairs(key, pairs, quantities=qty)


# -- the series and the base class ------------------------------------------------------------
def test_from_pairs_reports_absent_months_as_gaps_and_never_fills_them() -> None:
    s = Series.from_pairs(
        "x", [(dt.date(2020, 1, 1), 1.0), (dt.date(2020, 4, 1), 4.0), (dt.date(2020, 2, 1), 2.0)]
    )
    assert s.periods == tuple(months(dt.date(2020, 1, 1), 4))
    assert s.gaps == (dt.date(2020, 3, 1),)
    assert math.isnan(s.values[2]) and s.values[3] == 4.0


def test_from_pairs_keeps_first_of_conflicting_duplicates_and_says_so() -> None:
    d = dt.date(2020, 1, 1)
    s = Series.from_pairs("x", [(d, 1.0), (d, 1.0), (d, 5.0), (dt.date(2020, 2, 1), 2.0)])
    assert s.values[0] == 1.0 and s.duplicates == (d,)
    result = TradeFlowDrop().detect(s)
    assert any("observed twice" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ((dt.date(2020, 2, 1), dt.date(2020, 1, 1)), "not sorted"),
        ((dt.date(2020, 1, 1), dt.date(2020, 1, 1)), "repeated"),
        ((dt.date(2020, 1, 1), dt.date(2020, 3, 1)), "regular"),
    ],
)
def test_base_class_refuses_a_bad_index(periods: tuple[dt.date, ...], message: str) -> None:
    bad = Series(key="bad", periods=periods, values=np.array([1.0, 2.0]))
    with pytest.raises(SeriesError, match=message):
        TradeFlowDrop().detect(bad)


def test_series_error_is_an_ews_error() -> None:
    assert issubclass(SeriesError, EwsError)


def test_monthly_periods_must_be_month_starts() -> None:
    with pytest.raises(SeriesError, match="first of a month"):
        Series.from_pairs("x", [(dt.date(2020, 1, 15), 1.0)])


@pytest.mark.parametrize(
    "detector",
    [TradeFlowDrop(), UnitValueJump(), PriceAnomaly(), PriceSpike()],
    ids=lambda d: type(d).__name__,
)
def test_every_detector_declares_frozen_parameters(detector: Detector) -> None:
    params = detector.parameters()
    assert params["detector"] == type(detector).__name__
    assert params["threshold"] == detector.threshold  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        detector.threshold = 1.0  # type: ignore[attr-defined,misc]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TradeFlowDrop(threshold=0), "threshold"),
        (lambda: TradeFlowDrop(min_history=2), "min_history"),
        (lambda: TradeFlowDrop(history=5, min_history=12), "history"),
        (lambda: TradeFlowDrop(zero_offset=0), "zero_offset"),
        (lambda: PriceAnomaly(alpha=1.5), "alpha"),
        (lambda: PriceSpike(max_step=0), "max_step"),
    ],
)
def test_bad_parameters_are_refused(make: object, message: str) -> None:
    with pytest.raises(SeriesError, match=message):
        make()  # type: ignore[operator]


# -- trade-flow drop: table-driven, with a missing value in every case ------------------------
BASE = seasonal(60)


def _with(values: list[float], changes: dict[int, float | None]) -> list[float | None]:
    out: list[float | None] = list(values)
    for i, v in changes.items():
        out[i] = v
    return out


TRADE_CASES = [
    # (id, changes to the base series, expected flagged month indexes)
    ("steady with a gap", {30: None}, set()),
    ("collapse to a tenth", {20: None, 50: BASE[50] * 0.1}, {50}),
    ("fall to zero", {10: None, 55: 0.0}, {55}),
    ("doubling is not a drop", {40: None, 48: BASE[48] * 2}, set()),
    ("gap where the drop would be", {50: None}, set()),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in TRADE_CASES], ids=[c[0] for c in TRADE_CASES]
)
def test_trade_flow_drop_cases(changes: dict[int, float | None], expected: set[int]) -> None:
    s = series(_with(BASE, changes))
    result = TradeFlowDrop().detect(s)
    flagged = {s.periods.index(a.period) for a in result.anomalies}
    assert flagged == expected
    missing = {i for i, v in changes.items() if v is None}
    assert {s.periods.index(g) for g in result.gaps} == missing
    assert result.evaluated > 0
    for a in result.anomalies:
        assert a.score <= -a.threshold and a.kind == "trade_drop"
        assert a.baseline is not None and a.baseline > a.value
        assert a.parameters["threshold"] == 3.5


def test_trade_flow_negative_value_is_refused_and_reported() -> None:
    s = series(_with(BASE, {12: None, 45: -5.0}))
    result = TradeFlowDrop().detect(s)
    assert result.invalid == (s.periods[45],)
    assert all(a.period != s.periods[45] for a in result.anomalies)


def test_trade_flow_too_short_history_scores_nothing() -> None:
    result = TradeFlowDrop().detect(series(_with(BASE[:14], {3: None})))
    assert result.evaluated == 0 and result.anomalies == ()


# -- unit values --------------------------------------------------------------------------------
def test_unit_value_jump_flags_a_price_jump_not_a_volume_change() -> None:
    rng = np.random.default_rng(11)
    qty = [v / 10 * math.exp(rng.normal(0, 0.05)) for v in BASE]
    values = list(BASE)
    values[50] = BASE[50] * 3  # same quantity, triple the value: unit value x3
    qty[40] = qty[40] * 3  # triple the quantity and value: unit value unchanged
    values[40] = BASE[40] * 3
    values_g: list[float | None] = list(values)
    values_g[30] = None
    s = series(values_g, quantities=qty)
    result = UnitValueJump().detect(s)
    assert [s.periods.index(a.period) for a in result.anomalies] == [50]
    assert result.anomalies[0].kind == "unit_value_jump"
    assert s.periods[30] in result.gaps


def test_unit_value_without_quantities_says_so() -> None:
    result = UnitValueJump().detect(series(_with(BASE, {5: None})))
    assert result.anomalies == () and "no quantities" in result.warnings[0]


# -- prices -------------------------------------------------------------------------------------
PRICE_CASES = [
    # (id, multiplicative bumps, months that must be flagged, months that must not be)
    ("calm", {}, set(), set(range(250, 300))),
    ("spike of 60%", {280: 1.6, 281: 1.6}, {280, 281}, set(range(250, 279))),
    ("fall is not a spike", {280: 0.5}, set(), {280, 281}),
]


@pytest.mark.parametrize(
    ("bumps", "expected", "forbidden"),
    [c[1:] for c in PRICE_CASES],
    ids=[c[0] for c in PRICE_CASES],
)
def test_price_anomaly_cases(
    bumps: dict[int, float], expected: set[int], forbidden: set[int]
) -> None:
    values: list[float | None] = list(seasonal(300, seed=7))
    for i, factor in bumps.items():
        values[i] = values[i] * factor  # type: ignore[operator]
    values[200] = None  # a missing month in every case
    s = series(values)
    result = PriceAnomaly().detect(s)
    flagged = {s.periods.index(a.period) for a in result.anomalies}
    assert expected <= flagged and not (forbidden & flagged)
    # Noise alone: about 2% of months cross 2.5 robust z while calendar-month histories are
    # short (8-20 years); the rate is what the docs report, not zero. The year after a bump
    # is left out: a rebound from a fall is a genuine 3-month surge.
    noise = {i for i in flagged - expected if not 280 <= i < 292}
    assert len(noise) <= 0.03 * result.evaluated
    assert s.periods[200] in result.gaps
    for a in result.anomalies:
        assert a.details["pattern"] in {"spike", "sustained"}
        assert a.score >= 2.5


@pytest.mark.parametrize("bad", [0.0, -3.0, math.inf])
def test_price_detectors_refuse_non_positive_values(bad: float) -> None:
    values: list[float | None] = list(seasonal(120, seed=3))
    values[70] = bad
    values[20] = None
    s = series(values)
    for det in (PriceAnomaly(), PriceSpike()):
        result = det.detect(s)
        assert s.periods[70] in result.invalid
        assert s.periods[20] in result.gaps


def business_days(first: dt.date, n: int) -> list[dt.date]:
    return regular_calendar(first, first + dt.timedelta(days=2 * n), "D")[:n]


def test_price_spike_on_business_days() -> None:
    days = business_days(dt.date(2024, 1, 1), 200)
    rng = np.random.default_rng(5)
    prices = list(100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days)))))
    prices[150] *= 1.25
    pairs = [(p, v) for i, (p, v) in enumerate(zip(days, prices, strict=True)) if i != 90]
    s = Series.from_pairs("daily", pairs, freq="D")
    assert s.gaps == (days[90],)  # a missing business day is a gap, a weekend is not
    result = PriceSpike(history=120, min_history=30).detect(s)
    assert [a.period for a in result.anomalies if a.kind == "price_jump"] == [days[150]]
    assert "monthly" in PriceAnomaly().detect(s).warnings[0]


@pytest.mark.parametrize(
    ("jump_at", "holidays", "flagged"),
    [
        (300, set(), True),
        (300, {299}, True),  # the day after a holiday: the change is from the day before it
        (300, {298, 299}, True),  # two closed days are still bridged
        (300, {297, 298, 299}, False),  # three are not: no previous price close enough
        (300, {300}, False),  # the jump day itself missing: nothing to score
        (40, set(), False),  # under a quarter of a year of history (min_history 60)
    ],
)
def test_daily_spike_calibration_bridges_market_holidays(
    jump_at: int, holidays: set[int], flagged: bool
) -> None:
    days = business_days(dt.date(2022, 1, 3), 400)
    rng = np.random.default_rng(9)
    prices = 50 * np.exp(np.cumsum(rng.normal(0, 0.012, len(days))))
    prices[jump_at:] *= 1.15  # a level shift of 15% in one day: one jump, then calm
    pairs = [(d, float(p)) for i, (d, p) in enumerate(zip(days, prices, strict=True))]
    s = Series.from_pairs("d", [pr for i, pr in enumerate(pairs) if i not in holidays], freq="D")
    result = DAILY_SPIKE.detect(s)
    jumps = [a for a in result.anomalies if a.period == days[jump_at]]
    assert bool(jumps) is flagged
    for a in jumps:
        assert a.kind == "price_jump" and a.parameters["history"] == 250
        previous = a.details["previous"]
        assert isinstance(previous, float)
        assert a.details["log_change"] == pytest.approx(math.log(a.value / previous), abs=1e-6)
    assert {a.kind for a in result.anomalies} <= {"price_jump"}  # rises only by default


def test_monthly_spike_flags_a_one_month_jump_and_not_a_fall() -> None:
    rng = np.random.default_rng(4)
    prices = list(80 * np.exp(np.cumsum(rng.normal(0, 0.03, 120))))
    prices[100] *= 1.5
    for i in range(110, 120):
        prices[i] *= 0.5  # a fall that lasts (a one-month dip would rebound: a jump)
    result = MONTHLY_SPIKE.detect(series(list(prices)))
    assert [a.period for a in result.anomalies] == [months(dt.date(2015, 1, 1), 120)[100]]
    assert result.anomalies[0].kind == "price_jump"
    both = PriceSpike(direction="both").detect(series(list(prices)))
    assert {a.kind for a in both.anomalies} >= {"price_jump", "price_fall"}


def test_a_rebound_from_a_collapse_is_not_a_spike() -> None:
    """Crude oil in 2020: a fall to a third, then a jump back that stays below the usual price.
    The same jump from the usual price flags; the rebound does not (with the level rule)."""
    rng = np.random.default_rng(7)
    prices = list(60 * np.exp(rng.normal(0, 0.02, 60)))
    collapsed = [*prices[:48], 20.0, 30.0, *prices[50:]]
    rebound = months(dt.date(2015, 1, 1), 60)[49]
    assert rebound not in {a.period for a in MONTHLY_SPIKE.detect(series(collapsed)).anomalies}
    without = dataclasses.replace(MONTHLY_SPIKE, above_past_level=False)
    assert rebound in {a.period for a in without.detect(series(collapsed)).anomalies}
    high = [*prices[:49], prices[48] * 1.5, *prices[50:]]
    (jump,) = MONTHLY_SPIKE.detect(series(high)).anomalies
    assert jump.period == rebound
    level = jump.details["past_level_median"]
    assert isinstance(level, float) and jump.value > level


def test_ifpa_flags_no_recovery_below_the_usual_price() -> None:
    """Fast compound growth out of a year-long slump, still under the usual price, is
    recovery and does not flag."""
    rng = np.random.default_rng(11)
    base = list(100 * np.exp(rng.normal(0, 0.03, 150)))
    slump = [*base, *(40.0 for _ in range(12)), *(40.0 + 6 * i for i in range(1, 6))]
    recovery = set(months(dt.date(2015, 1, 1), 167)[150:])
    flagged = {a.period for a in PriceAnomaly().detect(series(slump)).anomalies}
    without = {
        a.period for a in PriceAnomaly(above_past_level=False).detect(series(slump)).anomalies
    }
    assert not flagged & recovery and without & recovery


def test_detect_prices_runs_the_spike_test_on_monthly_and_daily_series() -> None:
    monthly = series(list(seasonal(150, seed=2)), key="price:m")
    days = business_days(dt.date(2024, 1, 1), 300)
    daily = Series.from_pairs("price:d", [(d, 100.0 + i % 7) for i, d in enumerate(days)], freq="D")
    report = detect_prices([monthly, daily])
    methods = {(d.series_key, d.method) for d in report.detections}
    assert methods == {
        ("price:m", PriceAnomaly.method),
        ("price:m", PriceSpike.method),
        ("price:d", PriceSpike.method),
    }


# -- properties ----------------------------------------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(min_value=-1000, max_value=1000).map(float), min_size=20, max_size=60),
    st.floats(min_value=0.1, max_value=100),
    st.floats(min_value=-1e3, max_value=1e3),
)
def test_robust_z_is_invariant_to_shift_and_scale(xs: list[float], a: float, b: float) -> None:
    x = np.array(xs)
    z1, _, _ = robust_z(x, history=24, min_history=8)
    z2, _, _ = robust_z(a * x + b, history=24, min_history=8)
    both = np.isfinite(z1) & np.isfinite(z2)
    assert np.array_equal(np.isfinite(z1), np.isfinite(z2)) or not both.all()
    assert np.allclose(z1[both], z2[both], rtol=1e-6, atol=1e-6)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.booleans(), min_size=2, max_size=40))
def test_gaps_are_exactly_the_unobserved_months(observed: list[bool]) -> None:
    observed[0] = observed[-1] = True
    periods = months(dt.date(2010, 1, 1), len(observed))
    s = Series.from_pairs("p", [(p, 1.0) for p, o in zip(periods, observed, strict=True) if o])
    assert s.periods == tuple(periods)
    assert set(s.gaps) == {p for p, o in zip(periods, observed, strict=True) if not o}
    assert int(np.isnan(s.values).sum()) == len(s.gaps)


# -- no look-ahead: a period's result is the same whether the series ends there or goes on ----
def cut(s: Series, t: int) -> Series:
    """The series as it stood at its period t: its first t + 1 periods, nothing after."""
    end = s.periods[t]
    return dataclasses.replace(
        s,
        periods=s.periods[: t + 1],
        values=s.values[: t + 1],
        quantities=None if s.quantities is None else s.quantities[: t + 1],
        gaps=tuple(g for g in s.gaps if g <= end),
        duplicates=tuple(d for d in s.duplicates if d <= end),
    )


def assert_no_look_ahead(detector: Detector, s: Series) -> int:
    """For every t, the anomalies of the series cut at t are those of the whole series up to
    t (same value, baseline, score, details): the future never moves a past result. Returns
    how many anomalies the whole series has (so a test can show it was not vacuous)."""
    whole = detector.detect(s)
    for t, period in enumerate(s.periods):
        seen_then = detector.detect(cut(s, t)).anomalies
        assert seen_then == tuple(a for a in whole.anomalies if a.period <= period), period
    return len(whole.anomalies)


# Mostly prices, with gaps (None), zeros and negative values (refused by log methods).
VALUE = st.integers(0, 19).flatmap(
    lambda i: (
        st.none()
        if i == 0
        else st.just(0.0)
        if i == 1
        else st.floats(-50, -0.5)
        if i == 2
        else st.floats(0.5, 5e4, allow_subnormal=False)
    )
)

# Short histories so that short random series get scored; threshold near zero and both
# directions so that (almost) every scored period is an anomaly and is compared.
SMALL = [
    TradeFlowDrop(threshold=0.01, direction="both", history=12, min_history=6, seasonal_years=1),
    TradeFlowDrop(threshold=0.01, direction="both", history=8, min_history=4, seasonal_years=2),
    UnitValueJump(threshold=0.01, history=12, min_history=6),
    PriceAnomaly(threshold=0.01, direction="both", min_years=3, history_years=4),
    PriceSpike(threshold=0.01, direction="both", history=10, min_history=5),
    PriceSpike(threshold=0.01, direction="both", history=10, min_history=5, max_step=3),
]


@pytest.mark.parametrize("detector", SMALL, ids=lambda d: type(d).__name__)
@settings(max_examples=30, deadline=None)
@given(values=st.lists(VALUE, min_size=40, max_size=80), data=st.data())
def test_no_look_ahead_on_random_monthly_series(
    detector: Detector, values: list[float | None], data: st.DataObject
) -> None:
    values[0] = values[0] if values[0] is not None else 1.0
    qty = data.draw(st.lists(VALUE, min_size=len(values), max_size=len(values)))
    s = series(values, quantities=[math.nan if q is None else q for q in qty])
    assert_no_look_ahead(detector, s)


@settings(max_examples=30, deadline=None)
@given(st.lists(VALUE, min_size=30, max_size=120))
def test_no_look_ahead_on_random_daily_series(values: list[float | None]) -> None:
    days = business_days(dt.date(2023, 1, 2), len(values))
    pairs = [(d, v) for d, v in zip(days, values, strict=True) if v is not None]
    if not pairs:
        return
    s = Series.from_pairs("d", pairs, freq="D")
    detector = dataclasses.replace(DAILY_SPIKE, threshold=0.01, history=30, min_history=10)
    assert_no_look_ahead(detector, s)


@pytest.mark.parametrize(
    "detector",
    [
        dataclasses.replace(TradeFlowDrop(), threshold=0.5, direction="both"),
        dataclasses.replace(UnitValueJump(), threshold=0.5),
        dataclasses.replace(MONTHLY_SPIKE, threshold=0.5, direction="both"),
    ],
    ids=lambda d: type(d).__name__,
)
def test_no_look_ahead_with_the_default_windows(detector: Detector) -> None:
    # A series whose level moves a lot, with zeros and a gap: under whole-series offsets and
    # floors the early months would change with the late ones.
    rng = np.random.default_rng(21)
    values: list[float | None] = [
        v * (20 if i > 60 else 1) * math.exp(rng.normal(0, 0.3)) for i, v in enumerate(BASE * 2)
    ]
    values[30] = values[70] = 0.0
    values[45] = None
    qty = [abs(v or 1.0) / 10 * math.exp(rng.normal(0, 0.2)) for v in values]
    assert assert_no_look_ahead(detector, series(values, quantities=qty)) > 0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.floats(-1e3, 1e3)), min_size=1, max_size=80),
    st.sampled_from([None, 5, 24]),
)
def test_past_statistics_of_a_prefix_are_those_of_the_whole(
    xs: list[float | None], history: int | None
) -> None:
    x = np.array([math.nan if v is None else v for v in xs])
    month_of = np.array([i % 12 + 1 for i in range(len(x))])
    whole = (
        robust_z(x, history=history, min_history=3, min_scale=0.01),
        (past_median(x, history=history),),
        seasonal_robust_z(x, month_of, min_years=2, years=history),
    )
    for t in range(len(x)):
        prefix = (
            robust_z(x[: t + 1], history=history, min_history=3, min_scale=0.01),
            (past_median(x[: t + 1], history=history),),
            seasonal_robust_z(x[: t + 1], month_of[: t + 1], min_years=2, years=history),
        )
        for got, full in zip(prefix, whole, strict=True):
            for a, b in zip(got, full, strict=True):
                assert np.array_equal(a, b[: t + 1], equal_nan=True)
