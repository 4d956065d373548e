"""Alert lifecycle: level changes of a unit become alert versions (new -> update -> cancel).

An episode opens when a unit reaches the raising level (caution by default) and gets a
stable id from its family's item, supplier, importer and onset day, namespaced by this node
(``...@<node>``, see :func:`~ews.alerts.records.alert_id_for`); every later change of level is
an Update referencing all earlier versions; the return to normal is a Cancel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ews.alerts.records import (
    LEVELS,
    Alert,
    Evidence,
    Level,
    MsgType,
    Tlp,
    alert_id_for,
    legacy_alert_id_for,
)
from ews.catalog import Catalog
from ews.risk.config import RiskConfig

if TYPE_CHECKING:
    from ews.risk.assess import UnitKey
    from ews.risk.score import Score

RAISE_AT: Level = "caution"
DEFAULT_TLP: Tlp = "GREEN"
MAX_EVIDENCE = 8


@dataclass
class _Episode:
    alert_id: str
    hs: str
    supplier: str | None
    onset: dt.date
    specific: bool
    versions: list[Alert] = field(default_factory=list)


def names_one_item(score: Score) -> bool:
    """True when every scored signal names the same single HS code."""
    named = {hs for c in score.contributions if c.weight > 0 for hs in c.signal.hs}
    return len(named) == 1


def representative_hs(catalog: Catalog, group: str, score: Score) -> str:
    """The HS code an alert is about: the one all its signals name, else the family's first."""
    named = {hs for c in score.contributions if c.weight > 0 for hs in c.signal.hs}
    if len(named) == 1:
        return next(iter(named))
    members = [i.hs for i in catalog.items.values() if i.group == group]
    for hs in members:
        if hs in named:
            return hs
    return members[0]


def evidence_of(score: Score) -> tuple[Evidence, ...]:
    """The strongest contributions (and any easing) as evidence records."""
    out: list[Evidence] = []
    for c in score.contributions[:MAX_EVIDENCE]:
        s = c.signal
        kind = "event" if s.kind == "event" else s.kind
        out.append(
            Evidence(
                kind=kind,
                ref=s.ref,
                summary=s.summary,
                date=s.observed,
                lang=s.lang,
                text=s.text,
                link=s.link,
                source=s.source,
                figure=s.figure,
                weight=round(c.weight * c.effective, 4),
            )
        )
    return tuple(out)


def _timestamp(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


@dataclass
class AlertBook:
    """Open episodes by unit; turns level changes into alert versions."""

    config: RiskConfig
    catalog: Catalog
    node: str
    raise_at: Level = RAISE_AT
    tlp: Tlp = DEFAULT_TLP
    legacy_ids: frozenset[str] = frozenset()
    """This node's own alerts stored under legacy ids (before ids named their node): an
    episode whose legacy id is among them keeps it, so a store from before namespacing goes
    on updating its open alerts instead of raising them again under a new id."""
    open: dict[Any, _Episode] = field(default_factory=dict)

    def episode_id(self, hs: str, supplier: str | None, importer: str | None, day: dt.date) -> str:
        """The id of the episode opening on ``day``: this node's namespaced id, or the legacy
        id this node already issued for the same episode."""
        legacy = legacy_alert_id_for(hs, supplier, importer, day)
        if legacy in self.legacy_ids:
            return legacy
        return alert_id_for(hs, supplier, importer, day, node=self.node)

    def on_level(
        self,
        unit: UnitKey,
        day: dt.date,
        level: Level,
        previous: Level,
        score: Score,
        supplier: str | None,
    ) -> Alert | None:
        episode = self.open.get(unit)
        if episode is None:
            if LEVELS.index(level) < LEVELS.index(self.raise_at):
                return None
            hs = representative_hs(self.catalog, unit.group, score)
            episode = _Episode(
                alert_id=self.episode_id(hs, supplier, unit.importer, day),
                hs=hs,
                supplier=supplier,
                onset=day,
                specific=names_one_item(score),
            )
            self.open[unit] = episode
            msg: MsgType = "Alert"
        elif level == "normal":
            msg = "Cancel"
        else:
            msg = "Update"
        alert = self._version(episode, unit, day, level, previous, score, msg)
        episode.versions.append(alert)
        if msg == "Cancel":
            del self.open[unit]
        return alert

    def _version(
        self,
        episode: _Episode,
        unit: UnitKey,
        day: dt.date,
        level: Level,
        previous: Level,
        score: Score,
        msg: MsgType,
    ) -> Alert:
        group = self.catalog.groups[unit.group]
        item = self.catalog.items.get(episode.hs)
        name = item.names["en"] if item and episode.specific else group.names["en"]
        where = self.catalog.country_name(episode.supplier) if episode.supplier else "world supply"
        watcher = (
            f" — {self.catalog.country_name(unit.importer)} watchlist" if unit.importer else ""
        )
        verb = {"Alert": "raised", "Update": "now", "Cancel": "cancelled, back to"}[msg]
        headline = f"{name} from {where}: {verb} {level}{watcher}"
        kinds = ", ".join(
            f"{k} {v:.2f}" for k, v in sorted(score.by_kind.items(), key=lambda kv: -kv[1])
        )
        summary = (
            f"Score {score.value:.2f} on {day:%Y-%m-%d} = structure "
            f"x{score.structure.multiplier(self.config):.2f} "
            f"({score.structure.basis}; {score.structure.source}) x signals {score.live:.2f}"
            + (f" [{kinds}]" if kinds else "")
            + (f"; easing offsets controls by {score.easing:.0%}" if score.easing else "")
            + ("; " + "; ".join(score.flags) if score.flags else "")
            + f". Level {previous} -> {level}."
        )
        return Alert(
            alert_id=episode.alert_id,
            version=len(episode.versions) + 1,
            msg_type=msg,
            hs=episode.hs,
            item_name=name,
            supplier=episode.supplier,
            importer=unit.importer,
            level=level,
            previous_level=previous,
            score=round(score.value, 4),
            headline=headline,
            summary=summary,
            evidence=evidence_of(score),
            references=tuple(v.key for v in episode.versions),
            tlp=self.tlp,
            origin_node=self.node,
            onset=episode.onset,
            sent=_timestamp(day),
        )
