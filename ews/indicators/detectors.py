"""Anomaly detectors on time-indexed series, after adtk's tiny contract.

A detector is a frozen dataclass whose fields are its parameters; it implements one method,
``_detect``, on a checked, regular :class:`~ews.indicators.series.Series`. The base class
checks the index (sorted, unique, on a regular calendar), reports gaps and refused values,
and never fills them in. Every anomaly carries the figures that produced it (value, baseline,
score, threshold, method and parameters), so a person can check it by hand. The methods are
described in docs/indicators.md.

No look-ahead: every baseline, scale, offset and floor that scores period t is computed from
periods before t only (t itself is just the value being scored), so the anomalies of a series
cut at t are exactly the anomalies up to t of the whole series (a property test pins this). A
period with less history than a detector's ``min_history`` is left unscored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ews.indicators.series import (
    FloatArray,
    Series,
    SeriesError,
    lag,
    past_median,
    robust_z,
    robust_z_rows,
    seasonal_robust_z,
)

Direction = Literal["up", "down", "both"]


class Anomaly(BaseModel):
    """One flagged period of one series, with the figures that flagged it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    series_key: str = Field(examples=["trade:CN>JP:export:811292:value"])
    period: dt.date
    kind: str = Field(examples=["trade_drop", "unit_value_jump", "price_spike"])
    value: float = Field(description="The observed value of the period.")
    baseline: float | None = Field(
        description="What the method expected for the period, in the value's unit."
    )
    score: float = Field(description="Signed anomaly score (robust z units).")
    threshold: float = Field(description="|score| at or beyond which a period is flagged.")
    method: str = Field(examples=["yoy+seasonal-mom robust z"])
    parameters: dict[str, Any] = Field(description="The detector's parameters.")
    details: dict[str, float | str | None] = Field(
        default_factory=dict, description="Component scores and features."
    )


class Detection(BaseModel):
    """A detector's full answer for one series: anomalies plus what it could not score."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    series_key: str
    method: str
    anomalies: tuple[Anomaly, ...] = ()
    evaluated: int = Field(default=0, description="Periods that received a score.")
    periods: int = Field(default=0, description="Periods on the regular calendar.")
    gaps: tuple[dt.date, ...] = Field(default=(), description="Periods with no observation.")
    invalid: tuple[dt.date, ...] = Field(
        default=(), description="Periods whose value was refused (not finite, or <= 0)."
    )
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Detector(ABC):
    """Base class: parameters are the dataclass fields; subclasses implement ``_detect``."""

    method: ClassVar[str] = "detector"
    positive_only: ClassVar[bool] = True
    """Whether values must be > 0 (log-based methods); others are reported as invalid."""

    def parameters(self) -> dict[str, Any]:
        """The detector's parameters, as stored with every result."""
        return {"detector": type(self).__name__, **dataclasses.asdict(self)}

    def detect(self, series: Series) -> Detection:
        """Check the index, mask refused values, run the method; gaps are reported, not filled."""
        series.check_index()
        values = np.array(series.values, dtype=np.float64)
        bad = ~np.isfinite(values) & ~np.isnan(values)
        if self.positive_only:
            bad |= np.isfinite(values) & (values <= 0)
        else:
            bad |= np.isfinite(values) & (values < 0)
        invalid = tuple(p for p, b in zip(series.periods, bad, strict=True) if b)
        values[bad] = math.nan
        clean = dataclasses.replace(series, values=values)
        anomalies, evaluated, warnings = self._detect(clean)
        notes = list(warnings)
        if series.duplicates:
            notes.append(
                f"{len(series.duplicates)} period(s) observed twice with different values; "
                f"first kept: {', '.join(str(p) for p in series.duplicates[:5])}"
            )
        return Detection(
            series_key=series.key,
            method=self.method,
            anomalies=tuple(anomalies),
            evaluated=evaluated,
            periods=len(series),
            gaps=series.gaps,
            invalid=invalid,
            warnings=tuple(notes),
        )

    @abstractmethod
    def _detect(self, series: Series) -> tuple[list[Anomaly], int, list[str]]:
        """Anomalies, number of periods scored, and warnings for a checked series.

        ``series.values`` holds NaN for every gap or refused value; implementations must
        leave those periods unscored, and must score period t with data of periods up to t
        only (no look-ahead: the result for t may not change when later periods are added).
        """

    def _anomaly(
        self,
        series: Series,
        *,
        period: dt.date,
        kind: str,
        value: float,
        baseline: float | None,
        score: float,
        details: dict[str, float | str | None],
    ) -> Anomaly:
        """An anomaly of ``series`` carrying this detector's method, threshold and parameters."""
        return Anomaly(
            series_key=series.key,
            period=period,
            kind=kind,
            value=value,
            baseline=baseline,
            score=round(float(score), 4),
            threshold=self.threshold,  # type: ignore[attr-defined]
            method=self.method,
            parameters=self.parameters(),
            details=details,
        )

    def _flag(self, score: float, threshold: float, direction: Direction) -> bool:
        if not math.isfinite(score):
            return False
        if direction == "up":
            return score >= threshold
        if direction == "down":
            return score <= -threshold
        return abs(score) >= threshold


def _validate_common(threshold: float, history: int | None, min_history: int) -> None:
    if not threshold > 0:
        raise SeriesError(f"threshold must be > 0, not {threshold}")
    if min_history < 3:
        raise SeriesError(f"min_history must be >= 3, not {min_history}")
    if history is not None and history < min_history:
        raise SeriesError(f"history ({history}) must be >= min_history ({min_history})")


def _extreme(a: float, b: float, direction: Direction) -> float:
    """The more alarming of two component scores (NaN-aware)."""
    finite = [v for v in (a, b) if math.isfinite(v)]
    if not finite:
        return math.nan
    if direction == "up":
        return max(finite)
    if direction == "down":
        return min(finite)
    return max(finite, key=abs)


def _seasonal_change(y: FloatArray, years: int) -> tuple[FloatArray, FloatArray]:
    """Log deviation from the median of the previous 3 months, and that deviation minus the
    median deviation of the same calendar month in up to ``years`` earlier years.

    The median of 3 months (not the previous month alone) keeps the month after a one-off
    spike from looking like a fall. ``y`` is one series, or a stack of series (one per row).
    """
    previous = np.stack([lag(y, 1), lag(y, 2), lag(y, 3)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are the gaps
        ref = np.nanmedian(previous, axis=0)
    enough = np.isfinite(previous).sum(axis=0) >= 2
    mom = np.where(enough, y - ref, np.nan)
    earlier = np.stack([lag(mom, 12 * k) for k in range(1, years + 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        known = np.isfinite(earlier).any(axis=0)
        seasonal = np.full(y.shape, np.nan)
        if known.any():
            seasonal[known] = np.nanmedian(earlier[:, known], axis=0)
    return mom, mom - seasonal


@dataclasses.dataclass(frozen=True)
class TradeFlowDrop(Detector):
    """A monthly flow falling (or rising) beyond its seasonal expectation.

    Two features of the log value, each scored by a robust z against the series' own trailing
    history: the year-on-year change (seasonality cancels between the same months) and the
    seasonal month-on-month change (this month's change minus the median change of the same
    month in earlier years). The score is the more extreme of the two; a fall to zero is a
    finite, very large fall because logs are taken of value + ``zero_offset`` x median.

    Past-only: month t is scored with the offset of its own past (the median positive value
    of the ``history`` months before t), the whole transform redone for each t, and each
    feature against its ``history`` previous values. A month needs ``min_history`` finite
    values of a feature among those ``history`` (so about ``min_history`` + 12 months of
    data) for that feature to count; with neither feature scored it is left unscored.
    """

    method: ClassVar[str] = "trade-flow yoy + seasonal-mom robust z"
    positive_only: ClassVar[bool] = False

    threshold: float = 3.5
    direction: Direction = "down"
    history: int = 36
    min_history: int = 24
    seasonal_years: int = 3
    zero_offset: float = 0.01
    min_scale: float = 0.02

    def __post_init__(self) -> None:
        _validate_common(self.threshold, self.history, self.min_history)
        if not 0 < self.zero_offset <= 1:
            raise SeriesError(f"zero_offset must be in (0, 1], not {self.zero_offset}")

    def _detect(self, series: Series) -> tuple[list[Anomaly], int, list[str]]:
        v = series.values
        if not (np.isfinite(v) & (v > 0)).any():
            return [], 0, ["no positive value: nothing to compare against"]
        offsets = self.zero_offset * past_median(
            np.where(v > 0, v, np.nan), history=self.history, min_count=1
        )
        # Row t holds the months a score of month t may look at, ending with t itself: the
        # feature history, 12 months for a year-on-year change, the seasonal change's earlier
        # years and its 3-month median. Logs are taken with t's own offset, so the whole
        # transform is the one that could have been computed at t.
        reach = self.history + 12 * self.seasonal_years + 3
        padded = np.concatenate([np.full(reach, np.nan), v])
        rows = np.lib.stride_tricks.sliding_window_view(padded, reach + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.log(rows + offsets[:, None])
        yoy = y - lag(y, 12)
        _, smom = _seasonal_change(y, self.seasonal_years)
        # The last column is month t, scored against the ``history`` columns before it.
        h = self.history
        z1, med1, _ = robust_z_rows(
            yoy[:, -h - 1 : -1], yoy[:, -1], self.min_history, self.min_scale
        )
        z2, _, _ = robust_z_rows(
            smom[:, -h - 1 : -1], smom[:, -1], self.min_history, self.min_scale
        )
        out: list[Anomaly] = []
        evaluated = 0
        for t, period in enumerate(series.periods):
            score = _extreme(z1[t], z2[t], self.direction)
            if not math.isfinite(score):
                continue
            evaluated += 1
            if not self._flag(score, self.threshold, self.direction):
                continue
            offset = float(offsets[t])
            ly = float(v[t - 12]) if t >= 12 else math.nan
            baseline = (
                float((ly + offset) * math.exp(med1[t]) - offset)
                if math.isfinite(med1[t]) and math.isfinite(ly)
                else None
            )
            out.append(
                self._anomaly(
                    series,
                    period=period,
                    kind="trade_drop" if score < 0 else "trade_surge",
                    value=float(v[t]),
                    baseline=baseline,
                    score=float(score),
                    details={
                        "yoy_log_change": _num(yoy[t, -1]),
                        "z_yoy": _num(z1[t]),
                        "seasonal_mom_log_change": _num(smom[t, -1]),
                        "z_seasonal_mom": _num(z2[t]),
                    },
                )
            )
        return out, evaluated, []


@dataclasses.dataclass(frozen=True)
class UnitValueJump(Detector):
    """A jump in unit value (value / quantity) beyond the series' own variation.

    Features of the log unit value: the year-on-year change and the deviation from the median
    of the previous 12 months (at least 6 of them observed), each scored by a robust z against
    trailing history; the score is the more extreme. Months whose value is below
    ``min_value_share`` of the median monthly value of the ``history`` months before them are
    left out, as scored months and as history: unit values of token shipments are noise.

    Past-only: the value floor, the level's median and both robust z look only at earlier
    months. A month needs ``min_history`` finite values of a feature among the ``history``
    before it for that feature to count.
    """

    method: ClassVar[str] = "unit-value yoy + level robust z"

    threshold: float = 5.0
    direction: Direction = "both"
    history: int = 36
    min_history: int = 24
    min_value_share: float = 0.25
    min_scale: float = 0.02

    def __post_init__(self) -> None:
        _validate_common(self.threshold, self.history, self.min_history)

    def _detect(self, series: Series) -> tuple[list[Anomaly], int, list[str]]:
        if series.quantities is None:
            return [], 0, ["no quantities: unit values cannot be computed"]
        v, q = series.values, series.quantities
        with np.errstate(all="ignore"):
            ok = np.isfinite(v) & np.isfinite(q) & (v > 0) & (q > 0)
            uv = np.where(ok, v / np.where(q > 0, q, 1.0), np.nan)
        if not (np.isfinite(v) & (v > 0)).any():
            return [], 0, ["no positive value"]
        # Each month's floor is from the months before it (a month with no earlier value has
        # no floor to pass, so it is left out).
        floor = self.min_value_share * past_median(
            np.where(v > 0, v, np.nan), history=self.history, min_count=1
        )
        with np.errstate(invalid="ignore"):
            uv[~(np.isfinite(v) & np.isfinite(floor) & (v >= floor))] = np.nan
        y = np.log(uv)
        yoy = y - lag(y, 12)
        level = np.full(len(y), np.nan)
        for t in range(len(y)):
            h = y[max(0, t - 12) : t]
            h = h[np.isfinite(h)]
            if len(h) >= 6 and math.isfinite(y[t]):
                level[t] = y[t] - float(np.median(h))
        z1, _, _ = robust_z(
            yoy, history=self.history, min_history=self.min_history, min_scale=self.min_scale
        )
        z2, _, _ = robust_z(
            level, history=self.history, min_history=self.min_history, min_scale=self.min_scale
        )
        out: list[Anomaly] = []
        evaluated = 0
        for t, period in enumerate(series.periods):
            score = _extreme(z1[t], z2[t], self.direction)
            if not math.isfinite(score):
                continue
            evaluated += 1
            if not self._flag(score, self.threshold, self.direction):
                continue
            base = uv[max(0, t - 12) : t]
            base = base[np.isfinite(base)]
            out.append(
                self._anomaly(
                    series,
                    period=period,
                    kind="unit_value_jump" if score > 0 else "unit_value_drop",
                    value=float(uv[t]),
                    baseline=float(np.median(base)) if len(base) else None,
                    score=float(score),
                    details={
                        "z_yoy": _num(z1[t]),
                        "z_level": _num(z2[t]),
                        "trade_value": float(v[t]),
                        "quantity": float(q[t]),
                    },
                )
            )
        return out, evaluated, []


@dataclasses.dataclass(frozen=True)
class PriceAnomaly(Detector):
    """FAO IFPA-style weighted compound-growth anomaly on monthly prices (robust variant).

    CQGR = (P_t / P_{t-3})^(1/3) - 1 and CAGR = (P_t / P_{t-12})^(1/12) - 1; each is
    standardised against the same calendar month in earlier years (median and MAD instead of
    FAO's mean and standard deviation, so one past crisis does not mask the next), and the
    score is alpha x z(CQGR) + (1 - alpha) x z(CAGR). FAO's alpha is 0.4. ``pattern`` in the
    details says which horizon dominates: 'spike' (quarterly) or 'sustained' (annual).

    Past-only: a month is standardised against the same month of the ``history_years`` years
    before it, and needs ``min_years`` of them with both growth rates (so about
    ``min_years`` + 1 years of prices) to be scored. Monthly series only.

    With ``above_past_level`` a rise flags only when the price is above its median of the
    ``level_history`` months before: fast growth out of a slump is recovery, not scarcity.
    """

    method: ClassVar[str] = "IFPA robust (CQGR/CAGR, calendar-month median/MAD)"

    threshold: float = 2.5
    direction: Direction = "up"
    alpha: float = 0.4
    min_years: int = 8
    history_years: int | None = 20
    min_scale: float = 0.002
    above_past_level: bool = True
    level_history: int = 36

    def __post_init__(self) -> None:
        _validate_common(self.threshold, None, max(3, self.min_years))
        if not 0 <= self.alpha <= 1:
            raise SeriesError(f"alpha must be in [0, 1], not {self.alpha}")

    def _detect(self, series: Series) -> tuple[list[Anomaly], int, list[str]]:
        if series.freq != "M":
            return [], 0, ["IFPA needs monthly prices; use PriceSpike for daily series"]
        y = np.log(series.values)
        cqgr = np.exp((y - lag(y, 3)) / 3) - 1
        cagr = np.exp((y - lag(y, 12)) / 12) - 1
        months = series.months()
        zq, _, _ = seasonal_robust_z(
            cqgr,
            months,
            min_years=self.min_years,
            years=self.history_years,
            min_scale=self.min_scale,
        )
        za, _, _ = seasonal_robust_z(
            cagr,
            months,
            min_years=self.min_years,
            years=self.history_years,
            min_scale=self.min_scale,
        )
        score = self.alpha * zq + (1 - self.alpha) * za
        out: list[Anomaly] = []
        evaluated = 0
        p12 = lag(series.values, 12)
        level = past_median(
            series.values, history=self.level_history, min_count=self.level_history // 2
        )
        for t, period in enumerate(series.periods):
            s = float(score[t])
            if not math.isfinite(s):
                continue
            evaluated += 1
            if not self._flag(s, self.threshold, self.direction):
                continue
            if self.above_past_level and s > 0 and not series.values[t] > level[t]:
                continue
            quarterly, annual = self.alpha * zq[t], (1 - self.alpha) * za[t]
            out.append(
                self._anomaly(
                    series,
                    period=period,
                    kind="price_spike" if s > 0 else "price_drop",
                    value=float(series.values[t]),
                    baseline=_num(p12[t]),
                    score=s,
                    details={
                        "cqgr": _num(cqgr[t]),
                        "cagr": _num(cagr[t]),
                        "z_cqgr": _num(zq[t]),
                        "z_cagr": _num(za[t]),
                        "pattern": "spike" if abs(quarterly) >= abs(annual) else "sustained",
                        "past_level_median": _num(level[t]),
                    },
                )
            )
        return out, evaluated, []


@dataclasses.dataclass(frozen=True)
class PriceSpike(Detector):
    """A one-period jump: the log change from the previous period against its own past.

    The log change of period t is scored by a robust z against the log changes of the
    ``history`` periods before t: (change - median) / (1.4826 x MAD), the scale never below
    ``min_scale``. z >= ``threshold`` flags an upward jump, 'price_jump' (with ``direction``
    'down' or 'both', z <= -``threshold`` is a 'price_fall'). The change is from the last
    observed period at most ``max_step`` periods back: 1 on monthly prices (a missing month
    breaks the chain), 3 on business days (a market holiday or two is bridged). A period needs
    ``min_history`` finite changes among the ``history`` before it. :data:`MONTHLY_SPIKE` and
    :data:`DAILY_SPIKE` are the two calibrations. The baseline is the previous price times the
    typical (median) change.

    With ``above_past_level`` a rise flags only when it leaves the price above the median
    price of the same ``history`` periods: a rebound from a collapse (crude oil in May 2020,
    after April's fall below zero in the US) is the market recovering, not supply tightening.
    """

    method: ClassVar[str] = "period log-change robust z"

    threshold: float = 4.0
    # A supply problem shows as a rise; the risk stage reads only rises (price_jump).
    direction: Direction = "up"
    history: int = 36
    min_history: int = 24
    min_scale: float = 0.005
    max_step: int = 1
    above_past_level: bool = True

    def __post_init__(self) -> None:
        _validate_common(self.threshold, self.history, self.min_history)
        if self.max_step < 1:
            raise SeriesError(f"max_step must be >= 1, not {self.max_step}")

    def _detect(self, series: Series) -> tuple[list[Anomaly], int, list[str]]:
        y = np.log(series.values)
        prev = np.full(len(y), np.nan)
        for k in range(self.max_step, 0, -1):  # the nearest observed period wins
            earlier = lag(series.values, k)
            prev = np.where(np.isfinite(earlier), earlier, prev)
        change = y - np.log(prev)
        z, med, scale = robust_z(
            change, history=self.history, min_history=self.min_history, min_scale=self.min_scale
        )
        level = past_median(series.values, history=self.history, min_count=self.min_history)
        out: list[Anomaly] = []
        evaluated = 0
        for t, period in enumerate(series.periods):
            if not math.isfinite(z[t]):
                continue
            evaluated += 1
            if not self._flag(float(z[t]), self.threshold, self.direction):
                continue
            if self.above_past_level and z[t] > 0 and not series.values[t] > level[t]:
                continue
            out.append(
                self._anomaly(
                    series,
                    period=period,
                    kind="price_jump" if z[t] > 0 else "price_fall",
                    value=float(series.values[t]),
                    baseline=float(prev[t] * math.exp(med[t])),
                    score=float(z[t]),
                    details={
                        "log_change": _num(change[t]),
                        "median_log_change": _num(med[t]),
                        "robust_scale": _num(scale[t]),
                        "previous": _num(prev[t]),
                        "past_level_median": _num(level[t]),
                    },
                )
            )
        return out, evaluated, []


MONTHLY_SPIKE = PriceSpike()
"""The one-period test on monthly prices: 36 months of changes, at least 24."""

DAILY_SPIKE = PriceSpike(history=250, min_history=60, max_step=3)
"""The one-period test on business-day prices: a year of changes (250), at least 60; the
change bridges up to two missing days (market holidays)."""


def _num(x: float | np.floating[Any]) -> float | None:
    f = float(x)
    return round(f, 6) if math.isfinite(f) else None
