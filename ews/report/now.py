"""What is at risk for one watching country now, and one alert as a card people can act on.

The *now view* answers an analyst's first question of the day: which open alerts touch my
country, worst first, what changed this week, and can I trust the data behind them. An alert
touches a watching country when it is the country's own watchlist alert, a world-supply alert,
or a supplier alert on a family the country is known to buy from that supplier (a dated
dependence figure or trade rows); other open alerts are counted, not listed, so a Korean
analyst is not handed Zimbabwe's lithium tax as Korea's problem, yet knows it is there.

The *alert card* turns an alert's formula into reading: a plain reason built from its
evidence, the watcher's exposure (its dependence on the supplier and the value it receives,
each with its source, or "unknown" said plainly), the top alternative suppliers with figures,
suggested actions for the level (``actions.yaml``) and a level history in words.

Figures are used as known on the day asked about (``day``): a dependence figure published
later is not shown as if it had been known.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ews.alerts.board import BoardEntry, BoardFilter, board
from ews.alerts.records import LEVELS, Alert, Evidence, level_rank
from ews.catalog import Catalog
from ews.indicators import queries as indicators
from ews.records import WORLD, Item
from ews.risk.config import Prior, as_of, load_config, load_priors
from ews.risk.explain import EvidenceLine, explain_evidence
from ews.sources.freshness import Freshness, data_freshness
from ews.sources.registry import load_specs
from ews.store import Store
from ews.text.gloss import Glossary

WEEK = dt.timedelta(days=7)
TOP_ALTERNATIVES = 3
EXPOSURE_MONTHS = 12


# -- figures with their sources ---------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """A number people may quote, with where it comes from."""

    value: float
    text: str
    """The figure in a sentence: "Korea took 52 % of its gallium from China"."""
    source: str
    url: str = ""
    known: dt.date | None = None
    """The day it became public, or the newest period it covers."""

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "text": self.text,
            "source": self.source,
            "url": self.url or None,
            "known": self.known.isoformat() if self.known else None,
        }


@dataclass(frozen=True)
class Alternative:
    """Another supplier of the family, with the figure that makes it one."""

    country: str
    name: str
    share: float | None
    what: str
    """What the share is of: "of Korea's imports", "of world production"."""
    source: str
    url: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "name": self.name,
            "share": self.share,
            "what": self.what,
            "source": self.source,
            "url": self.url or None,
        }


@dataclass(frozen=True)
class Exposure:
    """How much the watching country has at stake in one alert."""

    watcher: str | None
    dependence: Figure | None
    received: Figure | None
    alternatives: tuple[Alternative, ...]
    unknown: tuple[str, ...]
    """What could not be said, each in a sentence ("Korea's dependence on Iran: unknown …")."""

    @property
    def known(self) -> bool:
        return self.dependence is not None or self.received is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "watcher": self.watcher,
            "dependence": self.dependence.as_json() if self.dependence else None,
            "received": self.received.as_json() if self.received else None,
            "alternatives": [a.as_json() for a in self.alternatives],
            "unknown": list(self.unknown),
        }


def _pct(share: float) -> str:
    return f"{share:.0%}" if share >= 0.1 else f"{share:.1%}"


def _money(usd: float) -> str:
    if usd >= 1e9:
        return f"${usd / 1e9:,.1f} billion"
    if usd >= 1e6:
        return f"${usd / 1e6:,.1f} million"
    return f"${usd / 1e3:,.0f} thousand"


def _family_name(catalog: Catalog, group: str) -> str:
    """The family's English name as it reads inside a sentence ("rare earths", "PGMs")."""
    found = catalog.groups.get(group)
    name = found.names["en"] if found else group.replace("_", " ")
    return name[0].lower() + name[1:] if name[1:2].islower() else name


def _source_names() -> dict[str, str]:
    return {s.id: s.name for s in load_specs().values()}


def _prior_figure(prior: Prior, text: str) -> Figure:
    return Figure(prior.share, text, prior.source, prior.url, prior.known)


def _received(
    store: Store, catalog: Catalog, watcher: str, item: Item, supplier: str
) -> tuple[Figure | None, dict[str, float]]:
    """The value ``watcher`` received of the item from ``supplier`` over the 12 months to the
    newest month held, the same per partner from the watcher's own import statistics (for
    alternatives), and the source of the first."""
    rows = indicators.received_by(store, watcher, item)
    # Rows of the item's own code, where a source has them, rather than its family's total.
    coded = {(r["source_id"], r["reporter"], r["partner"]) for r in rows if r["by_code"]}
    rows = [
        r
        for r in rows
        if r["by_code"] or (r["source_id"], r["reporter"], r["partner"]) not in coded
    ]
    own = [r for r in rows if r["flow"] == "import" and r["reporter"] == watcher]
    mirror = [r for r in rows if r["flow"] == "export" and r["reporter"] == supplier]
    by_partner: dict[str, float] = defaultdict(float)
    if own:
        newest = max(r["period"] for r in own)
        start = _months_before(newest, EXPOSURE_MONTHS)
        for r in own:
            if start < r["period"] <= newest:
                by_partner[str(r["partner"])] += float(r["value_usd"])
    figure: Figure | None = None
    names = _source_names()
    chosen = [r for r in own if r["partner"] == supplier] or mirror
    if chosen:
        newest = max(r["period"] for r in chosen)
        start = _months_before(newest, EXPOSURE_MONTHS)
        total = sum(float(r["value_usd"]) for r in chosen if start < r["period"] <= newest)
        reported_by = (
            "its own import statistics"
            if chosen is not mirror
            else (f"{catalog.country_name(supplier)}'s reported exports")
        )
        source = names.get(str(chosen[0]["source_id"]), str(chosen[0]["source_id"]))
        figure = Figure(
            total,
            f"{catalog.country_name(watcher)} received {_money(total)} of {item.names['en']} "
            f"from {catalog.country_name(supplier)} in the 12 months to {newest:%b %Y} "
            f"({reported_by})",
            source,
            known=newest,
        )
    return figure, dict(by_partner)


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def exposure(
    store: Store, catalog: Catalog, alert: Alert, watcher: str | None, day: dt.date
) -> Exposure:
    """The watcher's stake in ``alert`` as known on ``day`` (see module)."""
    item = catalog.item_for_code(alert.hs)
    if item is None:
        return Exposure(watcher, None, None, (), (f"{alert.hs} is not in this node's catalogue",))
    group, supplier = item.group, alert.supplier
    family = _family_name(catalog, group)
    priors = load_priors()
    unknown: list[str] = []
    dependence: Figure | None = None
    received: Figure | None = None
    by_partner: dict[str, float] = {}
    alternatives: list[Alternative] = []
    if watcher is None:
        unknown.append("No watching country chosen: exposure is per country.")
    else:
        who = catalog.country_name(watcher)
        table = priors.importer_dependence.get(watcher, {}).get(group, {})
        if supplier is not None:
            prior = as_of(table.get(supplier, []), day)
            if prior is not None:
                dependence = _prior_figure(
                    prior,
                    f"{who} took {_pct(prior.share)} of its {family} from "
                    f"{catalog.country_name(supplier)} ({prior.basis})",
                )
            else:
                unknown.append(
                    f"{who}'s dependence on {catalog.country_name(supplier)} for {family}: "
                    "unknown (no dated import figure held)."
                )
            received, by_partner = _received(store, catalog, watcher, item, supplier)
            if received is None:
                unknown.append(
                    f"Value {who} receives of {item.names['en']} from "
                    f"{catalog.country_name(supplier)}: unknown (no trade rows held)."
                )
        else:
            known = {s: p for s, v in table.items() if (p := as_of(v, day)) is not None}
            if known:
                top = max(known, key=lambda s: known[s].share)
                dependence = _prior_figure(
                    known[top],
                    f"{who}'s largest supplier of {family} is {catalog.country_name(top)}, "
                    f"{_pct(known[top].share)} ({known[top].basis})",
                )
            else:
                unknown.append(f"{who}'s suppliers of {family}: unknown (no dated figure held).")
        # Alternatives: the watcher's other suppliers first (its own figures), then its own
        # import statistics, then the world's other producers.
        for country, vintages in table.items():
            prior = as_of(vintages, day)
            if country != supplier and prior is not None:
                alternatives.append(
                    Alternative(
                        country,
                        catalog.country_name(country),
                        prior.share,
                        f"of {who}'s {family} imports",
                        prior.source,
                        prior.url,
                    )
                )
        total = sum(by_partner.values())
        for country, value in sorted(by_partner.items(), key=lambda kv: -kv[1]):
            if country in (supplier, WORLD) or any(a.country == country for a in alternatives):
                continue
            alternatives.append(
                Alternative(
                    country,
                    catalog.country_name(country),
                    value / total if total else None,
                    f"of {who}'s imports of {item.names['en']}, last 12 months",
                    "trade statistics held by this node",
                )
            )
    for country, vintages in priors.supplier_share.get(group, {}).items():
        prior = as_of(vintages, day)
        if (
            country not in (supplier, watcher)
            and prior is not None
            and not any(a.country == country for a in alternatives)
        ):
            alternatives.append(
                Alternative(
                    country,
                    catalog.country_name(country),
                    prior.share,
                    f"of world {family} supply",
                    prior.source,
                    prior.url,
                )
            )
    if not alternatives:
        unknown.append(f"Other suppliers of {family}: unknown (this node holds no figure on them).")
    ranked = sorted(alternatives, key=lambda a: -(a.share or 0.0))[:TOP_ALTERNATIVES]
    return Exposure(watcher, dependence, received, tuple(ranked), tuple(unknown))


# -- the reason, in words ---------------------------------------------------------------------
_TRADE_REF = re.compile(
    r"^trade:(?P<reporter>[A-Z]{2,3})>(?P<partner>[A-Z*]{1,3}):(?P<flow>\w+):(?P<code>[\w]+)"
    r"@(?P<month>\d{4}-\d{2}):(?P<kind>\w+)$"
)
_PRICE_REF = re.compile(r"^price:(?P<source>[^:]+):(?P<series>[^@]+)@(?P<month>\d{4}-\d{2}):")
_EXPECTED = re.compile(r"value (?P<value>[\d.,]+) vs expected (?P<expected>[\d.,]+)")
_KIND_WORDS = {
    "value_drop": "fell",
    "drop": "fell",
    "unit_value_jump": "unit value jumped",
    "price_jump": "price jumped",
    "surge": "surged",
}


def _month_words(text: str) -> str:
    return dt.date.fromisoformat(text + "-01").strftime("%b %Y")


def evidence_words(e: Evidence, catalog: Catalog) -> str:
    """One evidence record in plain English, for people who do not read refs and z-scores."""
    if e.kind == "trade_anomaly" and (m := _TRADE_REF.match(e.ref)):
        reporter = catalog.country_name(m["reporter"])
        partner = "all partners" if m["partner"] == "*" else catalog.country_name(m["partner"])
        item = catalog.item_for_code(m["code"]) if m["code"].isdigit() else None
        goods = item.names["en"] if item else _family_name(catalog, m["code"])
        verb = _KIND_WORDS.get(m["kind"], m["kind"].replace("_", " "))
        month = _month_words(m["month"])
        line = f"{reporter}'s {m['flow']}s of {goods} to {partner} {verb} in {month}"
        if (x := _EXPECTED.search(e.summary)) is not None:
            line += f" ({x['value']} against {x['expected']} expected)"
        return line
    if e.kind == "price_anomaly" and (m := _PRICE_REF.match(e.ref)):
        series = m["series"].replace("_", " ")
        figure = f" to {e.figure:,.2f}" if e.figure is not None else ""
        return f"The {series} price jumped{figure} in {_month_words(m['month'])}"
    return e.summary


def reason(
    alert: Alert, lines: Sequence[EvidenceLine], catalog: Catalog, exposure_: Exposure
) -> list[str]:
    """Why the alert stands at its level, in sentences: what happened (events grouped by what
    they say, with how many sources and when), what the figures show, and what the watcher
    has at stake."""
    out: list[str] = []
    events = [ln for ln in lines if ln.evidence.kind == "event"]
    groups: dict[str, list[EvidenceLine]] = defaultdict(list)
    for ln in events:
        key = ln.rendering.summary().split(",")[0] if ln.rendering else ln.evidence.summary
        groups[key].append(ln)
    for key, members in sorted(groups.items(), key=lambda kv: -len(kv[1]))[:3]:
        dates = sorted(d for ln in members if (d := ln.evidence.date) is not None)
        outlets = {ln.evidence.source for ln in members if ln.evidence.source}
        documents = sum(ln.documents for ln in members)
        first = "%d %b" if dates and dates[0].year == dates[-1].year else "%d %b %Y"
        when = (
            f" between {dates[0]:{first}} and {dates[-1]:%d %b %Y}"
            if dates and dates[0] != dates[-1]
            else (f" on {dates[0]:%d %b %Y}" if dates else "")
        )
        count = f"{documents} report{'s' if documents > 1 else ''}"
        if len(outlets) > 1:
            count += f" from {len(outlets)} sources"
        out.append(f"{key}: {count}{when}.")
    if len(groups) > 3:
        out.append(f"{len(groups) - 3} more kinds of report; see the evidence.")
    figures = [ln for ln in lines if ln.evidence.kind in ("trade_anomaly", "price_anomaly")]
    for ln in figures[:3]:
        out.append(evidence_words(ln.evidence, catalog) + ".")
    if len(figures) > 3:
        out.append(f"{len(figures) - 3} more unusual figures; see the evidence.")
    if not out:
        out.append("No evidence is attached to this version; the level holds from earlier ones.")
    if exposure_.dependence is not None:
        out.append(exposure_.dependence.text + ".")
    elif exposure_.received is not None:
        out.append(exposure_.received.text + ".")
    if "one voice only" in alert.summary:
        out.append("Only one independent source so far: the level is capped until a second.")
    return out


# -- actions and history ----------------------------------------------------------------------
@cache
def _actions() -> dict[str, list[str]]:
    text = resources.files("ews.report").joinpath("actions.yaml").read_text("utf-8")
    data: dict[str, list[str]] = yaml.safe_load(text)
    return data


def actions(alert: Alert, catalog: Catalog, exposure_: Exposure) -> list[str]:
    """Suggested steps for the alert's level, filled in with its item, supplier, watcher and
    alternatives."""
    if alert.msg_type == "Cancel":
        return ["Closed: no action; keep the evidence for the record."]
    alternatives = (
        ", ".join(
            f"{a.name} ({_pct(a.share)} {a.what})" if a.share is not None else a.name
            for a in exposure_.alternatives
        )
        or "none known to this node"
    )
    fill = {
        "item": alert.item_name,
        "supplier": catalog.country_name(alert.supplier) if alert.supplier else "the suppliers",
        "watcher": catalog.country_name(exposure_.watcher) if exposure_.watcher else "your country",
        "alternatives": alternatives,
    }
    return [step.format(**fill) for step in _actions().get(alert.level, [])]


@dataclass(frozen=True)
class Step:
    """One change of level, in words."""

    day: dt.date
    level: str
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "level": self.level, "text": self.text}


def history(versions: Sequence[Alert], day: dt.date) -> list[Step]:
    """The alert's levels as steps people read: raised, lowered, closed, each with how long
    the level held; versions that kept the level are folded into their step."""
    steps: list[Step] = []
    changes = [
        v
        for n, v in enumerate(versions)
        if n == 0 or v.level != versions[n - 1].level or v.msg_type == "Cancel"
    ]
    for n, v in enumerate(changes):
        start = v.sent.date()
        end = changes[n + 1].sent.date() if n + 1 < len(changes) else day
        held = (end - start).days
        span = (
            f"held {held // 7} week{'s' if held // 7 != 1 else ''}"
            if held >= 14
            else f"held {held} day{'s' if held != 1 else ''}"
        )
        if v.msg_type == "Cancel":
            text = f"closed, back to {v.level}"
        elif n == 0:
            text = f"raised at {v.level}"
        else:
            before = changes[n - 1].level
            text = f"{'raised' if level_rank(v.level) > level_rank(before) else 'lowered'} "
            text += f"to {v.level} (from {before})"
        if v.msg_type != "Cancel":
            text += f"; {span}" + (" so far" if n + 1 == len(changes) else "")
        steps.append(Step(start, v.level, text))
    return steps


def this_week(versions: Sequence[Alert], day: dt.date) -> str:
    """What changed in the seven days to ``day``, in a phrase."""
    start = day - WEEK
    recent = [v for v in versions if start < v.sent.date() <= day]
    last = versions[-1]
    if not recent:
        new = [e for e in last.evidence if e.date is not None and start < e.date <= day]
        if new:
            return f"no level change; {len(new)} new piece{'s' if len(new) > 1 else ''} of evidence"
        return f"no change since {last.sent:%d %b %Y}"
    before = [v for v in versions if v.sent.date() <= start]
    if not before:
        return f"new this week: raised at {recent[0].level} on {recent[0].sent:%d %b}"
    was, now = before[-1].level, recent[-1].level
    if was == now:
        return f"updated {recent[-1].sent:%d %b}, still {now}"
    verb = "raised" if level_rank(now) > level_rank(was) else "lowered"
    return f"{verb} from {was} to {now} on {recent[-1].sent:%d %b}"


# -- the card ---------------------------------------------------------------------------------
@dataclass
class AlertCard:
    alert: Alert
    peak: str
    watcher: str | None
    reason: list[str]
    exposure: Exposure
    actions: list[str]
    history: list[Step]
    evidence: list[EvidenceLine]
    changed: str
    words: list[str] = field(default_factory=list)
    """Each evidence line in plain English (:func:`evidence_words`)."""
    versions: list[Alert] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        a = self.alert
        return {
            "id": a.alert_id,
            "headline": a.headline,
            "item": a.hs,
            "item_name": a.item_name,
            "supplier": a.supplier,
            "importer": a.importer,
            "watcher": self.watcher,
            "level": a.level,
            "peak_level": self.peak,
            "status": "closed" if a.msg_type == "Cancel" else "open",
            "onset": a.onset.isoformat(),
            "updated": a.sent.isoformat(),
            "this_week": self.changed,
            "reason": self.reason,
            "exposure": self.exposure.as_json(),
            "actions": self.actions,
            "history": [s.as_json() for s in self.history],
            "evidence": [
                {
                    "kind": ln.evidence.kind,
                    "date": ln.evidence.date.isoformat() if ln.evidence.date else None,
                    "words": words,
                    "text": ln.evidence.text,
                    "lang": ln.evidence.lang,
                    "link": ln.evidence.link,
                    "english": ln.rendering.as_json() if ln.rendering else None,
                    "documents": ln.documents,
                }
                for ln, words in zip(self.evidence, self.words, strict=True)
            ],
            "score_formula": a.summary,
        }


def alert_card(
    store: Store,
    catalog: Catalog,
    glossary: Glossary,
    versions: Sequence[Alert],
    *,
    watcher: str | None,
    day: dt.date,
) -> AlertCard:
    """The card of one alert (its versions, oldest first) for ``watcher`` (its own importer
    when it has one) as of ``day``."""
    last = versions[-1]
    watcher = last.importer or watcher
    source = next((a for a in reversed(versions) if a.evidence), last)
    lines = explain_evidence(store, catalog, glossary, source.evidence)
    stake = exposure(store, catalog, last, watcher, day)
    peak = LEVELS[max(level_rank(v.level) for v in versions)]
    return AlertCard(
        alert=last,
        peak=peak,
        watcher=watcher,
        reason=reason(last, lines, catalog, stake),
        exposure=stake,
        actions=actions(last, catalog, stake),
        history=history(versions, day),
        evidence=lines,
        changed=this_week(versions, day),
        words=[evidence_words(ln.evidence, catalog) for ln in lines],
        versions=list(versions),
    )


# -- the now view -----------------------------------------------------------------------------
@dataclass(frozen=True)
class NowAlert:
    entry: BoardEntry
    scope: str
    """"own watchlist", "world supply" or "supplier of <watcher>"."""
    exposure: Exposure
    changed: str

    def as_json(self) -> dict[str, Any]:
        a = self.entry.alert
        return {
            "id": a.alert_id,
            "headline": a.headline,
            "item": a.hs,
            "item_name": a.item_name,
            "supplier": a.supplier,
            "importer": a.importer,
            "level": a.level,
            "peak_level": self.entry.peak,
            "score": a.score,
            "onset": a.onset.isoformat(),
            "updated": a.sent.isoformat(),
            "this_week": self.changed,
            "scope": self.scope,
            "exposure": self.exposure.as_json(),
        }


@dataclass
class NowView:
    country: str
    day: dt.date
    alerts: list[NowAlert]
    freshness: list[Freshness]
    elsewhere: int
    """Open alerts on suppliers the country is not known to buy from."""
    closed_this_week: list[BoardEntry]
    total_alerts: int
    """Every alert stored (any status), to tell an empty store from a quiet day."""

    @property
    def stale(self) -> list[Freshness]:
        return [f for f in self.freshness if f.stale]

    @property
    def newest_data(self) -> dt.date | None:
        dates = [f.newest for f in self.freshness if f.newest is not None]
        return max(dates) if dates else None

    def empty_text(self) -> str:
        """What is true when no open alert touches the country."""
        if self.total_alerts == 0:
            return (
                "No alerts have been raised on this node yet: run ews assess after ingesting data."
            )
        text = "No open alert touches this country today."
        newest = self.newest_data
        if self.stale and newest is not None:
            text += (
                f" But the newest data held are from {newest:%d %b %Y}: "
                f"{len(self.stale)} source{'s are' if len(self.stale) > 1 else ' is'} behind, "
                "so this says nothing about what happened since."
            )
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "as_of": self.day.isoformat(),
            "alerts": [a.as_json() for a in self.alerts],
            "other_open_alerts": self.elsewhere,
            "closed_this_week": [
                {"id": e.alert.alert_id, "headline": e.alert.headline, "peak_level": e.peak}
                for e in self.closed_this_week
            ],
            "freshness": [f.as_json() for f in self.freshness],
            "newest_data": self.newest_data.isoformat() if self.newest_data else None,
            "empty": self.empty_text() if not self.alerts else None,
        }


def _buys_from(
    store: Store, catalog: Catalog, country: str, alert: Alert, day: dt.date, memo: dict[Any, bool]
) -> bool:
    """Whether ``country`` is known to buy the alert's family from its supplier: a dated
    dependence figure, or trade rows of what it receives from that supplier."""
    item = catalog.item_for_code(alert.hs)
    if item is None or alert.supplier is None:
        return False
    key = (item.group, alert.supplier, item.hs)
    if key not in memo:
        table = load_priors().importer_dependence.get(country, {}).get(item.group, {})
        known = as_of(table.get(alert.supplier, []), day) is not None
        if not known:
            known = any(
                (r["flow"] == "export" and r["reporter"] == alert.supplier)
                or (r["flow"] == "import" and r["partner"] == alert.supplier)
                for r in indicators.received_by(store, country, item)
            )
        memo[key] = known
    return memo[key]


def now_view(
    store: Store,
    catalog: Catalog,
    alerts: Iterable[Alert],
    country: str,
    *,
    day: dt.date,
    include_red: bool,
    stale_after: float,
) -> NowView:
    """The now view of ``country`` on ``day`` (see module): the alerts as they stood that
    day, so a past day shows what the node said then."""
    every = [a for a in alerts if a.sent.date() <= day]
    entries = board(every, BoardFilter(status="all", include_red=include_red))
    by_id: dict[str, list[Alert]] = defaultdict(list)
    for a in every:
        by_id[a.alert_id].append(a)
    memo: dict[Any, bool] = {}
    shown: list[NowAlert] = []
    elsewhere = 0
    closed: list[BoardEntry] = []
    for entry in entries:
        a = entry.alert
        if a.importer not in (None, country):
            continue  # another watcher's own view
        if a.msg_type == "Cancel":
            if day - WEEK < a.sent.date() <= day:
                closed.append(entry)
            continue
        if a.importer == country:
            scope = "own watchlist"
        elif a.supplier is None:
            scope = "world supply"
        elif a.supplier == country:
            elsewhere += 1  # the country's own output: not an import risk
            continue
        elif _buys_from(store, catalog, country, a, day, memo):
            scope = f"supplier of {catalog.country_name(country)}"
        else:
            elsewhere += 1
            continue
        versions = sorted(by_id[a.alert_id], key=lambda v: v.version)
        shown.append(
            NowAlert(
                entry, scope, exposure(store, catalog, a, country, day), this_week(versions, day)
            )
        )
    shown.sort(key=lambda n: (-level_rank(n.entry.alert.level), -n.entry.alert.score))
    return NowView(
        country=country,
        day=day,
        alerts=shown,
        freshness=data_freshness(store, day, stale_after=stale_after),
        elsewhere=elsewhere,
        closed_this_week=closed,
        total_alerts=len(entries),
    )


def default_watcher() -> str:
    """The first watching country of the risk configuration (the node's own, by convention)."""
    return load_config().watchlist[0]
