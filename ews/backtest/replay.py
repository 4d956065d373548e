"""The backtest: replay history with the clock set back, on the live code path.

Signals come from the store exactly as in a live run (text events, trade and price
anomalies), each usable only from the day it became known; the replay steps day by day to the
clock. Each known episode gets its first day at each level and its lead time; every
alert-level episode that matches no known disruption is listed as a false alarm for review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ews.alerts.records import LEVELS, Level
from ews.catalog import Catalog
from ews.risk.assess import ReplayResult, UnitKey

REVIEW_LEVEL: Level = "alert"


@dataclass(frozen=True)
class Episode:
    id: str
    title: str
    group: str
    supplier: str | None
    importer: str | None
    signals: str
    announced: dt.date
    reference_date: dt.date
    window: tuple[dt.date, dt.date]
    eased: dt.date | None = None

    @property
    def unit(self) -> UnitKey:
        if self.importer:
            return UnitKey(self.group, None, self.importer)
        return UnitKey(self.group, self.supplier)


def load_episodes() -> list[Episode]:
    raw = yaml.safe_load(
        resources.files("ews.backtest").joinpath("episodes.yaml").read_text(encoding="utf-8")
    )
    out = []
    for e in raw["episodes"]:
        out.append(
            Episode(
                id=e["id"],
                title=e["title"],
                group=e["group"],
                supplier=e.get("supplier"),
                importer=e.get("importer"),
                signals=e["signals"],
                announced=e["announced"],
                reference_date=e["reference_date"],
                window=(e["window"][0], e["window"][1]),
                eased=e.get("eased"),
            )
        )
    return out


@dataclass
class EpisodeResult:
    episode: Episode
    item: str
    country: str | None
    first: dict[Level, dt.date | None]
    peak: Level
    peak_score: float
    lead_days: int | None
    fell_after_easing: dt.date | None = None
    level_at_easing: Level | None = None
    level_on_reference: Level = "normal"

    def as_json(self) -> dict[str, Any]:
        def d(x: dt.date | None) -> str | None:
            return x.isoformat() if x else None

        return {
            "episode": self.episode.id,
            "item": self.item,
            "country": self.country,
            "importer": self.episode.importer,
            "reference_date": d(self.episode.reference_date),
            "announced": d(self.episode.announced),
            "first_attention": d(self.first.get("attention")),
            "first_caution": d(self.first.get("caution")),
            "first_alert": d(self.first.get("alert")),
            "first_serious": d(self.first.get("serious")),
            "peak_level": self.peak,
            "peak_score": round(self.peak_score, 3),
            "lead_days": self.lead_days,
            "level_on_reference": self.level_on_reference,
            "eased": d(self.episode.eased),
            "level_fell_on": d(self.fell_after_easing),
        }


@dataclass
class FalseAlarm:
    unit: UnitKey
    start: dt.date
    end: dt.date
    peak: Level
    peak_score: float
    evidence: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.unit.group,
            "supplier": self.unit.supplier,
            "importer": self.unit.importer,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "peak_level": self.peak,
            "peak_score": round(self.peak_score, 3),
            "evidence": self.evidence,
        }


def _rank(level: Level) -> int:
    return LEVELS.index(level)


def evaluate(
    result: ReplayResult, episodes: list[Episode], catalog: Catalog
) -> tuple[list[EpisodeResult], list[FalseAlarm]]:
    """Score each known episode and list unmatched alert-level runs."""
    out: list[EpisodeResult] = []
    for ep in episodes:
        every = result.daily.get(ep.unit, [])
        daily = [row for row in every if ep.window[0] <= row[0] <= ep.window[1]]
        first = {level: _run_start(every, level, ep) for level in LEVELS[1:]}
        peak: Level = "normal"
        peak_score = 0.0
        for _, score, level in daily:
            if _rank(level) > _rank(peak):
                peak = level
            peak_score = max(peak_score, score)
        caution = first["caution"]
        lead = (ep.reference_date - caution).days if caution else None
        fell: dt.date | None = None
        at_easing: Level | None = None
        if ep.eased is not None:
            before = [lv for day, _, lv in daily if day <= ep.eased]
            at_easing = before[-1] if before else "normal"
            for day, _, level in daily:
                if day > ep.eased and _rank(level) < _rank(at_easing):
                    fell = day
                    break
        on_ref: Level = next((lv for day, _, lv in every if day == ep.reference_date), "normal")
        members = catalog.items_in_group(ep.group)
        item = catalog.groups[ep.group].names["en"] if len(members) != 1 else members[0].names["en"]
        out.append(
            EpisodeResult(
                episode=ep,
                item=item,
                country=ep.supplier,
                first=first,
                peak=peak,
                peak_score=peak_score,
                lead_days=lead,
                fell_after_easing=fell,
                level_at_easing=at_easing,
                level_on_reference=on_ref,
            )
        )
    alarms: list[FalseAlarm] = []
    # A watchlist run that repeats a global run of the same family (same days) is not listed twice.
    seen: set[tuple[str, dt.date, dt.date]] = set()
    units = sorted(result.daily.items(), key=lambda kv: (kv[0].importer is not None, kv[0].label()))
    for unit, daily in units:
        run: list[tuple[dt.date, float, Level]] = []
        for row in [*daily, None]:
            if row is not None and _rank(row[2]) >= _rank(REVIEW_LEVEL):
                run.append(row)
                continue
            duplicate = (
                run and unit.importer is not None and (unit.group, run[0][0], run[-1][0]) in seen
            )
            if run and not duplicate and not _matches(unit, run[0][0], episodes):
                seen.add((unit.group, run[0][0], run[-1][0]))
                peak_row = max(run, key=lambda r: r[1])
                alarms.append(
                    FalseAlarm(
                        unit=unit,
                        start=run[0][0],
                        end=run[-1][0],
                        peak=max((r[2] for r in run), key=_rank),
                        peak_score=peak_row[1],
                        evidence=_evidence(result, unit, peak_row[0]),
                    )
                )
            run = []
    return out, alarms


def _run_start(
    daily: list[tuple[dt.date, float, Level]], level: Level, ep: Episode
) -> dt.date | None:
    """Start of the run at >= ``level`` that covers the announcement, else of the first run
    starting after it within the episode's window (a unit already elevated by earlier news
    counts from when it rose)."""
    start: dt.date | None = None
    for day, _, lv in daily:
        if _rank(lv) >= _rank(level):
            if start is None:
                start = day
            if day >= ep.announced and start <= ep.window[1]:
                return start
        else:
            start = None
    return None


def _matches(unit: UnitKey, start: dt.date, episodes: list[Episode]) -> bool:
    for ep in episodes:
        if unit.group != ep.group or not ep.window[0] <= start <= ep.window[1]:
            continue
        if unit.importer is not None or unit.supplier in (ep.supplier, None):
            return True
    return False


def _evidence(result: ReplayResult, unit: UnitKey, day: dt.date) -> list[str]:
    for a in reversed(result.assessments):
        if a.unit == unit and a.day <= day:
            return [c.signal.summary for c in a.score.contributions[:3]]
    return []
