"""Time-indexed series for detectors: a regular calendar with explicit gaps.

A series is built from (period, value) pairs. Building it regularises the calendar (every
month between the first and last period, or every business day for daily data) and marks the
periods that had no observation as gaps: values are never interpolated, so a detector can only
score periods that were really observed, and the caller can see which ones were missing.

Every statistic here is *past-only*: the reference of period t is computed from periods before
t, never from t's own future, so a score given today is the score the same code would have
given on the day the period was published (a backtest sees no look-ahead).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from ews.errors import EwsError

Freq = Literal["M", "D"]
FloatArray = npt.NDArray[np.float64]


class SeriesError(EwsError):
    """A series whose index a detector cannot trust (unsorted, repeated or irregular)."""


def month_index(period: dt.date) -> int:
    """Months since year 0: consecutive months differ by exactly one."""
    return period.year * 12 + period.month - 1


def month_start(index: int) -> dt.date:
    """Inverse of :func:`month_index`."""
    return dt.date(index // 12, index % 12 + 1, 1)


def _next_business_day(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def regular_calendar(first: dt.date, last: dt.date, freq: Freq) -> list[dt.date]:
    """Every period from ``first`` to ``last``: month starts, or business days (Mon-Fri)."""
    if freq == "M":
        return [month_start(i) for i in range(month_index(first), month_index(last) + 1)]
    days = [first]
    while days[-1] < last:
        days.append(_next_business_day(days[-1]))
    return days


@dataclass(frozen=True)
class Series:
    """A regular series: ``values[i]`` is NaN where ``periods[i]`` had no usable observation.

    ``gaps`` lists the periods that had no observation at all; ``invalid`` those whose
    observation was refused (not finite, or not positive where the detector needs logs);
    ``duplicates`` the periods observed more than once with different values (first kept).
    """

    key: str
    periods: tuple[dt.date, ...]
    values: FloatArray
    freq: Freq = "M"
    gaps: tuple[dt.date, ...] = ()
    duplicates: tuple[dt.date, ...] = ()
    quantities: FloatArray | None = field(default=None)

    def __len__(self) -> int:
        return len(self.periods)

    @classmethod
    def from_pairs(
        cls,
        key: str,
        pairs: Iterable[tuple[dt.date, float | None]],
        *,
        freq: Freq = "M",
        quantities: Iterable[tuple[dt.date, float | None]] | None = None,
    ) -> Series:
        """Regularise observations onto the calendar; absent periods become reported gaps.

        A period given twice with the same value counts once; with different values the
        first is kept and the period is reported in ``duplicates`` (never summed silently).
        """
        seen: dict[dt.date, float] = {}
        dups: list[dt.date] = []
        for period, value in pairs:
            if freq == "M" and period.day != 1:
                raise SeriesError(f"{key}: monthly period {period} is not the first of a month")
            if freq == "D" and period.weekday() >= 5:
                raise SeriesError(f"{key}: daily period {period} is not a business day")
            v = math.nan if value is None else float(value)
            if period in seen:
                same = seen[period] == v or (math.isnan(seen[period]) and math.isnan(v))
                if not same:
                    dups.append(period)
                continue
            seen[period] = v
        if not seen:
            return cls(key=key, periods=(), values=np.array([], dtype=np.float64), freq=freq)
        calendar = regular_calendar(min(seen), max(seen), freq)
        values = np.array([seen.get(p, math.nan) for p in calendar], dtype=np.float64)
        gaps = tuple(p for p in calendar if p not in seen)
        qty: FloatArray | None = None
        if quantities is not None:
            qmap: dict[dt.date, float] = {}
            for period, q in quantities:
                qmap.setdefault(period, math.nan if q is None else float(q))
            qty = np.array([qmap.get(p, math.nan) for p in calendar], dtype=np.float64)
        return cls(
            key=key,
            periods=tuple(calendar),
            values=values,
            freq=freq,
            gaps=gaps,
            duplicates=tuple(sorted(set(dups))),
            quantities=qty,
        )

    def check_index(self) -> None:
        """Refuse an index that is unsorted, repeated or not on the regular calendar."""
        if len(self.values) != len(self.periods):
            raise SeriesError(
                f"{self.key}: {len(self.values)} values for {len(self.periods)} periods"
            )
        if self.quantities is not None and len(self.quantities) != len(self.periods):
            raise SeriesError(f"{self.key}: quantities do not match periods")
        if not self.periods:
            return
        if any(b <= a for a, b in zip(self.periods, self.periods[1:], strict=False)):
            if len(set(self.periods)) != len(self.periods):
                raise SeriesError(f"{self.key}: repeated periods in the index")
            raise SeriesError(f"{self.key}: periods are not sorted")
        expected = regular_calendar(self.periods[0], self.periods[-1], self.freq)
        if list(self.periods) != expected:
            missing = sorted(set(expected) - set(self.periods))
            raise SeriesError(
                f"{self.key}: index is not a regular {self.freq} calendar "
                f"(first missing period {missing[0] if missing else '?'}); "
                "build it with Series.from_pairs so gaps are explicit"
            )

    def months(self) -> npt.NDArray[np.int64]:
        """Calendar month (1-12) of each period."""
        return np.array([p.month for p in self.periods], dtype=np.int64)


def lag(x: FloatArray, k: int) -> FloatArray:
    """``x`` shifted by ``k`` periods along its last axis (NaN where the lag falls before the
    start); a 2-D ``x`` is a stack of series, one per row."""
    out = np.full_like(x, np.nan)
    n = x.shape[-1]
    if k < n:
        out[..., k:] = x[..., : n - k]
    return out


def _past_windows(x: FloatArray, history: int | None) -> FloatArray:
    """Row t is ``x[t-h:t]`` (NaN-padded before the start): the ``h`` points before t, never t.

    ``h`` is ``history``, or all earlier points when ``history`` is None.
    """
    n = len(x)
    h = n if history is None else max(1, min(history, n))
    padded = np.concatenate([np.full(h, np.nan), x])
    windows: FloatArray = np.lib.stride_tricks.sliding_window_view(padded, h)[:n]
    return windows


def past_median(x: FloatArray, *, history: int | None, min_count: int = 1) -> FloatArray:
    """Median of the finite values among the ``history`` points before each t (no look-ahead).

    NaN where fewer than ``min_count`` earlier values are finite; all earlier points count when
    ``history`` is None. The point itself is never part of its own reference.
    """
    out = np.full(len(x), np.nan)
    if len(x) == 0:
        return out
    windows = _past_windows(x, history)
    enough = np.isfinite(windows).sum(axis=1) >= max(1, min_count)
    if enough.any():
        out[enough] = np.nanmedian(windows[enough], axis=1)
    return out


def robust_z(
    x: FloatArray, *, history: int | None, min_history: int, min_scale: float = 0.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Robust z of each point against its own trailing history (no look-ahead).

    For point t the reference is the finite values among the ``history`` points before t
    (all earlier points when ``history`` is None): the result for t depends only on x[..t],
    so it is the same whether the series ends at t or goes on. Returns (z, median, scale)
    where scale is 1.4826 x MAD (the normal-consistent MAD), falling back to 1.2533 x mean
    absolute deviation when more than half the history is identical, and never below
    ``min_scale`` (so a perfectly flat history does not turn a tiny move into an infinite
    score); z is NaN when fewer than ``min_history`` earlier points are finite, or the history
    has no spread and no ``min_scale`` is given.
    """
    if len(x) == 0:
        return np.full(0, np.nan), np.full(0, np.nan), np.full(0, np.nan)
    # Vectorised, and the current point is never part of its own reference.
    return robust_z_rows(_past_windows(x, history), x, min_history, min_scale)


def robust_z_rows(
    windows: FloatArray, x: FloatArray, min_history: int, min_scale: float = 0.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Robust z of each ``x[i]`` against the finite values of row ``windows[i]``.

    The scoring of :func:`robust_z`, for callers that build each point's reference
    themselves (it must hold earlier periods only).
    """
    n = len(x)
    z = np.full(n, np.nan)
    med = np.full(n, np.nan)
    scale = np.full(n, np.nan)
    if n == 0:
        return z, med, scale
    enough = (np.isfinite(windows).sum(axis=1) >= min_history) & np.isfinite(x)
    if not enough.any():
        return z, med, scale
    w = windows[enough]
    m = np.nanmedian(w, axis=1)
    dev = np.abs(w - m[:, None])
    s = 1.4826 * np.nanmedian(dev, axis=1)
    s = np.where(s > 0, s, 1.2533 * np.nanmean(dev, axis=1))
    s = np.maximum(s, min_scale)
    med[enough] = m
    ok = s > 0
    idx = np.flatnonzero(enough)
    scale[idx[ok]] = s[ok]
    z[idx[ok]] = (x[idx[ok]] - m[ok]) / s[ok]
    return z, med, scale


def seasonal_robust_z(
    x: FloatArray,
    months: Sequence[int] | npt.NDArray[np.int64],
    *,
    min_years: int,
    years: int | None = None,
    min_scale: float = 0.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Robust z of each point against earlier values of the same calendar month.

    This is the FAO IFPA standardisation (each month against that month in earlier years),
    with median and normal-consistent MAD in place of mean and standard deviation; only the
    last ``years`` years count when given, and at least ``min_years`` earlier finite values of
    the month are needed. Past-only, like :func:`robust_z`: the same calendar month of later
    years never enters the reference.
    """
    n = len(x)
    z = np.full(n, np.nan)
    med = np.full(n, np.nan)
    scale = np.full(n, np.nan)
    month_arr = np.asarray(months)
    for m in range(1, 13):
        idx = np.flatnonzero(month_arr == m)
        sub_z, sub_med, sub_scale = robust_z(
            x[idx], history=years, min_history=min_years, min_scale=min_scale
        )
        z[idx], med[idx], scale[idx] = sub_z, sub_med, sub_scale
    return z, med, scale
