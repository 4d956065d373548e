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
from ews.errors import InputError
from ews.risk.assess import ReplayResult, UnitKey
from ews.risk.config import load_chokepoints

REVIEW_LEVEL: Level = "caution"
"""Unmatched runs are counted at the level leads are measured at (caution)."""

FIT_BEFORE = dt.date(2022, 1, 1)
"""Episodes announced before this day are the fitting set; the later ones are reported."""


@dataclass(frozen=True)
class EpisodeSource:
    url: str
    title: str
    published: dt.date | None


@dataclass(frozen=True)
class Episode:
    id: str
    title: str
    group: str
    supplier: str | None
    importer: str | None
    announced: dt.date | None
    """The day the measure was made public; None for a market crisis no one announced (its
    leads count from the impact date only)."""
    impact: dt.date
    window: tuple[dt.date, dt.date]
    eased: dt.date | None = None
    impact_note: str = ""
    sources: tuple[EpisodeSource, ...] = ()
    also: tuple[str, ...] = ()
    """Other families the same measure covers: a run on one of them is this episode's too
    (leads are measured on ``group`` only)."""
    chokepoint: str | None = None
    """A closure of this chokepoint: a run on any supplier x family shipped through it
    (``chokepoints.yaml``) in the window is this episode's."""
    parties: tuple[str, ...] = ()
    """Other countries whose measures make up the same episode (the Dutch order on Nexperia
    beside China's ban on Nexperia China's exports): their units are watched and matched
    like the supplier's, and each is named in the results."""

    def covers(self, unit: UnitKey, start: dt.date, end: dt.date) -> bool:
        """Whether a run of ``unit`` from ``start`` to ``end`` belongs to this episode."""
        if end < self.window[0] or start > self.window[1]:
            return False
        if unit.group in (self.group, *self.also) and (
            unit.importer is not None or unit.supplier in (self.supplier, None, *self.parties)
        ):
            return True
        if self.chokepoint is None:
            return False
        through = load_chokepoints()[self.chokepoint].through
        if unit.supplier is None:
            return any(unit.group in groups for groups in through.values())
        return unit.group in through.get(unit.supplier, ())

    @property
    def unit(self) -> UnitKey:
        if self.importer:
            return UnitKey(self.group, None, self.importer)
        return UnitKey(self.group, self.supplier)

    @property
    def split(self) -> str:
        return "fit" if self.onset < FIT_BEFORE else "report"

    @property
    def onset(self) -> dt.date:
        """The announcement, or the impact date of an unannounced crisis."""
        return self.announced or self.impact


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(f"episodes: {what} is not a date: {value!r}") from exc


def _chokepoint(value: Any, ident: str) -> str | None:
    if value is None:
        return None
    if value not in load_chokepoints():
        raise InputError(f"episodes: {ident} names an unknown chokepoint {value!r}")
    return str(value)


def load_episodes() -> list[Episode]:
    raw = yaml.safe_load(
        resources.files("ews.backtest").joinpath("episodes.yaml").read_text(encoding="utf-8")
    )
    out = []
    for e in raw["episodes"]:
        ident = e["id"]
        out.append(
            Episode(
                id=ident,
                title=e["title"],
                group=e["group"],
                supplier=e.get("supplier"),
                importer=e.get("importer"),
                announced=_date(e["announced"], f"{ident} announced")
                if e.get("announced")
                else None,
                impact=_date(e.get("impact", e.get("reference_date")), f"{ident} impact"),
                window=(
                    _date(e["window"][0], f"{ident} window"),
                    _date(e["window"][1], f"{ident} window"),
                ),
                eased=_date(e["eased"], f"{ident} eased") if e.get("eased") else None,
                impact_note=e.get("impact_note", ""),
                also=tuple(e.get("also", ())),
                chokepoint=_chokepoint(e.get("chokepoint"), ident),
                parties=tuple(e.get("parties", ())),
                sources=tuple(
                    EpisodeSource(
                        url=src["url"],
                        title=src.get("title", ""),
                        published=_date(src["published"], f"{ident} source")
                        if src.get("published")
                        else None,
                    )
                    for src in e.get("sources", ())
                ),
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
    """Impact date - first day at caution (positive: warned before the impact)."""
    lead_days_from_announcement: int | None
    """Announcement - first day at caution (0: the same day; -1: the next day)."""
    raised_before_announcement: bool = False
    raised_by: list[str] = field(default_factory=list)
    fell_after_easing: dt.date | None = None
    level_at_easing: Level | None = None
    level_on_reference: Level = "normal"
    level_day_after_announcement: Level = "normal"

    def as_json(self) -> dict[str, Any]:
        def d(x: dt.date | None) -> str | None:
            return x.isoformat() if x else None

        ep = self.episode
        return {
            "episode": ep.id,
            "title": ep.title,
            "split": ep.split,
            "item": self.item,
            "group": ep.group,
            "country": self.country,
            "importer": ep.importer,
            "also": list(ep.also),
            "chokepoint": ep.chokepoint,
            "parties": list(ep.parties),
            "announced": d(ep.announced),
            "reference_date": d(ep.impact),
            "impact_note": ep.impact_note,
            "first_attention": d(self.first.get("attention")),
            "first_caution": d(self.first.get("caution")),
            "first_alert": d(self.first.get("alert")),
            "first_serious": d(self.first.get("serious")),
            "lead_days": self.lead_days,
            "lead_days_from_announcement": self.lead_days_from_announcement,
            "caution_within_a_day": None
            if ep.announced is None
            else self.lead_days_from_announcement is not None
            and self.lead_days_from_announcement >= -1,
            "raised_before_announcement": self.raised_before_announcement,
            "raised_by": self.raised_by,
            "level_day_after_announcement": self.level_day_after_announcement,
            "peak_level": self.peak,
            "peak_score": round(self.peak_score, 3),
            "level_on_reference": self.level_on_reference,
            "eased": d(ep.eased),
            "level_fell_on": d(self.fell_after_easing),
            "sources": [s.url for s in ep.sources],
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
            "days": (self.end - self.start).days + 1,
            "peak_level": self.peak,
            "peak_score": round(self.peak_score, 3),
            "evidence": self.evidence,
        }


def _rank(level: Level) -> int:
    return LEVELS.index(level)


def evaluate(
    result: ReplayResult, episodes: list[Episode], catalog: Catalog
) -> tuple[list[EpisodeResult], list[FalseAlarm]]:
    """Score each known episode and list unmatched runs at caution or above."""
    out: list[EpisodeResult] = []
    for ep in episodes:
        every, units = _episode_days(result, ep)
        daily = [row for row in every if ep.window[0] <= row[0] <= ep.window[1]]
        first = {level: _run_start(every, level, ep) for level in LEVELS[1:]}
        peak: Level = "normal"
        peak_score = 0.0
        for _, score, level in daily:
            if _rank(level) > _rank(peak):
                peak = level
            peak_score = max(peak_score, score)
        caution = first["caution"]
        fell: dt.date | None = None
        at_easing: Level | None = None
        if ep.eased is not None:
            before = [lv for day, _, lv in daily if day <= ep.eased]
            at_easing = before[-1] if before else "normal"
            for day, _, level in daily:
                if day > ep.eased and _rank(level) < _rank(at_easing):
                    fell = day
                    break
        on_ref: Level = next((lv for day, _, lv in every if day == ep.impact), "normal")
        next_day = ep.onset + dt.timedelta(days=1)
        after: Level = next((lv for day, _, lv in every if day == next_day), "normal")
        early = caution is not None and ep.announced is not None and caution < ep.announced
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
                lead_days=(ep.impact - caution).days if caution else None,
                lead_days_from_announcement=(ep.announced - caution).days
                if caution and ep.announced
                else None,
                raised_before_announcement=early,
                raised_by=_evidence_of(result, units, caution) if caution else [],
                fell_after_easing=fell,
                level_at_easing=at_easing,
                level_on_reference=on_ref,
                level_day_after_announcement=after,
            )
        )
    return out, false_alarms(result, episodes)


def false_alarms(
    result: ReplayResult, episodes: list[Episode], level: Level = REVIEW_LEVEL
) -> list[FalseAlarm]:
    """Runs at ``level`` or above that overlap no known episode of their family and supplier.

    A watchlist run that repeats a global run of the same family (same days) is listed once."""
    alarms: list[FalseAlarm] = []
    seen: set[tuple[str, dt.date, dt.date]] = set()
    units = sorted(result.daily.items(), key=lambda kv: (kv[0].importer is not None, kv[0].label()))
    for unit, daily in units:
        run: list[tuple[dt.date, float, Level]] = []
        for row in [*daily, None]:
            if row is not None and _rank(row[2]) >= _rank(level):
                run.append(row)
                continue
            if run:
                span = (unit.group, run[0][0], run[-1][0])
                duplicate = unit.importer is not None and span in seen
                if not duplicate and not _matches(unit, run[0][0], run[-1][0], episodes):
                    seen.add(span)
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
    alarms.sort(key=lambda a: (a.start, a.unit.label()))
    return alarms


def _episode_days(
    result: ReplayResult, ep: Episode
) -> tuple[list[tuple[dt.date, float, Level]], list[UnitKey]]:
    """The days an analyst watching this episode sees, the highest level each day:
    - a supplier's episode: the supplier's unit, the family's world unit (a price spike
      has no supplier) and the units of the other parties to the measure;
    - a watcher's episode: the watcher's view and the supplier's unit, whose alert serves the
      watcher on the days its own view is not open yet (no figure of its own public)."""
    units = [ep.unit]
    if ep.importer is None and ep.supplier is not None:
        units.append(UnitKey(ep.group, None))
        units.extend(UnitKey(ep.group, party) for party in ep.parties)
    elif ep.importer is not None and ep.supplier is not None:
        units.append(UnitKey(ep.group, ep.supplier))
    best: dict[dt.date, tuple[dt.date, float, Level]] = {}
    for unit in units:
        for row in result.daily.get(unit, []):
            old = best.get(row[0])
            if old is None or (_rank(row[2]), row[1]) > (_rank(old[2]), old[1]):
                best[row[0]] = row
    return [best[d] for d in sorted(best)], units


def _evidence_of(result: ReplayResult, units: list[UnitKey], day: dt.date) -> list[str]:
    """Evidence of the first of ``units`` at caution or above on ``day``."""
    for unit in units:
        row = next((r for r in result.daily.get(unit, []) if r[0] == day), None)
        if row is not None and _rank(row[2]) >= _rank(REVIEW_LEVEL):
            return _evidence(result, unit, day)
    return _evidence(result, units[0], day)


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
            if day >= ep.onset and start <= ep.window[1]:
                return start
        else:
            start = None
    return None


def _matches(unit: UnitKey, start: dt.date, end: dt.date, episodes: list[Episode]) -> bool:
    return any(ep.covers(unit, start, end) for ep in episodes)


def _evidence(result: ReplayResult, unit: UnitKey, day: dt.date) -> list[str]:
    for a in reversed(result.assessments):
        if a.unit == unit and a.day <= day:
            return [c.signal.summary for c in a.score.contributions[:3]]
    return []
