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

Every sentence is written in the language asked for (``lang``: en, ko or ja; English by
default) through the ``report`` gettext domain (:mod:`ews.report.i18n`); country, item and
family names come from the catalogue in that language. What is data stays as published: the
``basis`` and ``source`` of a structural figure, headlines, the English rendering of evidence.
JSON keys and level codes stay English.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ews.alerts.board import BoardEntry, BoardFilter, board, peak_levels
from ews.alerts.records import Alert, Evidence, level_rank
from ews.catalog import Catalog
from ews.indicators import queries as indicators
from ews.indicators.anomalies import TradeKey, parse_trade_key
from ews.records import WORLD, Item
from ews.report.i18n import (
    Lang,
    checked,
    day_text,
    level_name,
    list_text,
    money_text,
    month_text,
    translator,
)
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
    """The figure in a sentence without its full stop: "Korea took 52 % of its gallium from
    China" (a line of its own in the now view, a sentence on the card)."""
    source: str
    url: str = ""
    known: dt.date | None = None
    """The day it became public, or the newest period it covers."""
    full_stop: str = "."

    @property
    def sentence(self) -> str:
        """:attr:`text` as a sentence: Japanese ends with 。"""
        return self.text + self.full_stop

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
    """What the share is of: "of Korea's imports", "of world production" (in the language
    asked for)."""
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


def _full_stop(lang: Lang) -> str:
    return "。" if lang == "ja" else "."


def _family_name(catalog: Catalog, group: str, lang: Lang = "en") -> str:
    """The family's name as it reads inside a sentence ("rare earths", "PGMs"; "희토류")."""
    found = catalog.groups.get(group)
    if found is None:
        return group.replace("_", " ")
    if lang != "en":
        return found.names[lang]
    name = found.names["en"]
    return name[0].lower() + name[1:] if name[1:2].islower() else name


def _country(catalog: Catalog, code: str, lang: Lang) -> str:
    """A country's name in ``lang``; the catalogue's pseudo-country "World" is no country."""
    if code == WORLD:
        return translator(lang).gettext("World")
    return catalog.country_name(code, lang)


def _alert_item(catalog: Catalog, alert: Alert, lang: Lang) -> str:
    """The alert's item in ``lang``: its name is stored in English, either the item's own or,
    when the signals name the whole family, the family's."""
    if lang == "en":
        # Inside a sentence: "import rare earths", but "PGMs" and "Li-ion" keep their case.
        name = alert.item_name
        return name[0].lower() + name[1:] if name[1:2].islower() else name
    item = catalog.item_for_code(alert.hs)
    if item is None:
        return alert.item_name
    group = catalog.groups.get(item.group)
    if group is not None and alert.item_name == group.names["en"]:
        return group.names[lang]
    return item.names[lang]


def _source_names() -> dict[str, str]:
    return {s.id: s.name for s in load_specs().values()}


def _prior_figure(prior: Prior, text: str, lang: Lang) -> Figure:
    return Figure(prior.share, text, prior.source, prior.url, prior.known, _full_stop(lang))


def _received(
    store: Store, catalog: Catalog, watcher: str, item: Item, supplier: str, lang: Lang = "en"
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
        t = translator(lang)
        supplier_name = _country(catalog, supplier, lang)
        reported_by = (
            t.gettext("its own import statistics")
            if chosen is not mirror
            else t.gettext("{supplier}'s reported exports").format(supplier=supplier_name)
        )
        source = names.get(str(chosen[0]["source_id"]), str(chosen[0]["source_id"]))
        text = t.gettext(
            "{watcher} received {money} of {item} from {supplier} in the 12 months to "
            "{month} ({reported_by})"
        ).format(
            watcher=_country(catalog, watcher, lang),
            money=money_text(total, lang),
            item=item.names[lang],
            supplier=supplier_name,
            month=month_text(newest, lang),
            reported_by=reported_by,
        )
        figure = Figure(total, text, source, known=newest, full_stop=_full_stop(lang))
    return figure, dict(by_partner)


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def exposure(
    store: Store,
    catalog: Catalog,
    alert: Alert,
    watcher: str | None,
    day: dt.date,
    lang: str = "en",
) -> Exposure:
    """The watcher's stake in ``alert`` as known on ``day`` (see module), said in ``lang``."""
    lang = checked(lang)
    t = translator(lang)
    item = catalog.item_for_code(alert.hs)
    if item is None:
        return Exposure(
            watcher,
            None,
            None,
            (),
            (t.gettext("{code} is not in this node's catalogue").format(code=alert.hs),),
        )
    group, supplier = item.group, alert.supplier
    family = _family_name(catalog, group, lang)
    goods = item.names[lang]
    supplier_name = _country(catalog, supplier, lang) if supplier is not None else ""
    priors = load_priors()
    unknown: list[str] = []
    dependence: Figure | None = None
    received: Figure | None = None
    by_partner: dict[str, float] = {}
    alternatives: list[Alternative] = []
    if watcher is None:
        unknown.append(t.gettext("No watching country chosen: exposure is per country."))
    else:
        who = _country(catalog, watcher, lang)
        table = priors.importer_dependence.get(watcher, {}).get(group, {})
        if supplier is not None:
            prior = as_of(table.get(supplier, []), day)
            if prior is not None:
                dependence = _prior_figure(
                    prior,
                    t.gettext(
                        "{watcher} took {share} of its {family} from {supplier} ({basis})"
                    ).format(
                        watcher=who,
                        share=_pct(prior.share),
                        family=family,
                        supplier=supplier_name,
                        basis=prior.basis,
                    ),
                    lang,
                )
            else:
                unknown.append(
                    t.gettext(
                        "{watcher}'s dependence on {supplier} for {family}: "
                        "unknown (no dated import figure held)."
                    ).format(watcher=who, supplier=supplier_name, family=family)
                )
            received, by_partner = _received(store, catalog, watcher, item, supplier, lang)
            if received is None:
                unknown.append(
                    t.gettext(
                        "Value {watcher} receives of {item} from {supplier}: "
                        "unknown (no trade rows held)."
                    ).format(watcher=who, item=goods, supplier=supplier_name)
                )
        else:
            known = {s: p for s, v in table.items() if (p := as_of(v, day)) is not None}
            if known:
                top = max(known, key=lambda s: known[s].share)
                dependence = _prior_figure(
                    known[top],
                    t.gettext(
                        "{watcher}'s largest supplier of {family} is {supplier}, {share} ({basis})"
                    ).format(
                        watcher=who,
                        family=family,
                        supplier=_country(catalog, top, lang),
                        share=_pct(known[top].share),
                        basis=known[top].basis,
                    ),
                    lang,
                )
            else:
                unknown.append(
                    t.gettext(
                        "{watcher}'s suppliers of {family}: unknown (no dated figure held)."
                    ).format(watcher=who, family=family)
                )
        # Alternatives: the watcher's other suppliers first (its own figures), then its own
        # import statistics, then the world's other producers.
        for country, vintages in table.items():
            prior = as_of(vintages, day)
            if country != supplier and prior is not None:
                alternatives.append(
                    Alternative(
                        country,
                        _country(catalog, country, lang),
                        prior.share,
                        t.gettext("of {watcher}'s {family} imports").format(
                            watcher=who, family=family
                        ),
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
                    _country(catalog, country, lang),
                    value / total if total else None,
                    t.gettext("of {watcher}'s imports of {item}, last 12 months").format(
                        watcher=who, item=goods
                    ),
                    t.gettext("trade statistics held by this node"),
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
                    _country(catalog, country, lang),
                    prior.share,
                    t.gettext("of world {family} supply").format(family=family),
                    prior.source,
                    prior.url,
                )
            )
    if not alternatives:
        unknown.append(
            t.gettext(
                "Other suppliers of {family}: unknown (this node holds no figure on them)."
            ).format(family=family)
        )
    ranked = sorted(alternatives, key=lambda a: -(a.share or 0.0))[:TOP_ALTERNATIVES]
    return Exposure(watcher, dependence, received, tuple(ranked), tuple(unknown))


# -- the reason, in words ---------------------------------------------------------------------
_MONTH = re.compile(r"\d{4}-\d{2}")


def _trade_ref(ref: str) -> tuple[TradeKey, str, str] | None:
    """The series, month and kind of a trade anomaly's ref (``trade:CN>KR:export:250410@
    2024-05:trade_drop``)."""
    key, _, tail = ref.partition("@")
    month, _, kind = tail.partition(":")
    parsed = parse_trade_key(key)
    if parsed is None or not _MONTH.fullmatch(month) or not kind:
        return None
    return parsed, month, kind


_PRICE_REF = re.compile(r"^price:(?P<source>[^:]+):(?P<series>[^@]+)@(?P<month>\d{4}-\d{2}):")
_EXPECTED = re.compile(r"value (?P<value>[\d.,]+) vs expected (?P<expected>[\d.,]+)")


def _kind_words(kind: str, lang: Lang) -> str:
    """What an anomaly did, as the verb of :func:`evidence_words`."""
    t = translator(lang)
    words = {
        "value_drop": t.gettext("fell"),
        "drop": t.gettext("fell"),
        "unit_value_jump": t.gettext("unit value jumped"),
        "price_jump": t.gettext("price jumped"),
        "surge": t.gettext("surged"),
    }
    return words.get(kind, kind.replace("_", " "))


def _month_words(text: str, lang: Lang = "en") -> str:
    return month_text(dt.date.fromisoformat(text + "-01"), lang)


def evidence_words(e: Evidence, catalog: Catalog, lang: str = "en") -> str:
    """One evidence record in plain words, for people who do not read refs and z-scores."""
    lang = checked(lang)
    t = translator(lang)
    if e.kind == "trade_anomaly" and (ref := _trade_ref(e.ref)) is not None:
        key, month, kind = ref
        reporter = _country(catalog, key.reporter, lang)
        partner = (
            t.gettext("all partners")
            if key.partner in ("*", WORLD)
            else _country(catalog, key.partner, lang)
        )
        code = key.product.removeprefix("group:")
        item = catalog.item_for_code(code) if code.isdigit() else None
        goods = item.names[lang] if item else _family_name(catalog, code, lang)
        fill = {
            "reporter": reporter,
            "goods": goods,
            "partner": partner,
            "verb": _kind_words(kind, lang),
            "month": _month_words(month, lang),
        }
        if key.flow == "export":
            line = t.gettext("{reporter}'s exports of {goods} to {partner} {verb} in {month}")
        elif key.flow == "import":
            line = t.gettext("{reporter}'s imports of {goods} to {partner} {verb} in {month}")
        else:
            # Another flow (re-exports): its name is the data's own word.
            line = t.gettext("{reporter}'s {flow}s of {goods} to {partner} {verb} in {month}")
            fill["flow"] = key.flow
        line = line.format(**fill)
        if (x := _EXPECTED.search(e.summary)) is not None:
            line += t.gettext(" ({value} against {expected} expected)").format(
                value=x["value"], expected=x["expected"]
            )
        return line
    if e.kind == "price_anomaly" and (m := _PRICE_REF.match(e.ref)):
        series = m["series"].replace("_", " ")  # the source's own series name: data
        month = _month_words(m["month"], lang)
        if e.figure is not None:
            return t.gettext("The {series} price jumped to {figure} in {month}").format(
                series=series, figure=f"{e.figure:,.2f}", month=month
            )
        return t.gettext("The {series} price jumped in {month}").format(series=series, month=month)
    return e.summary


def reason(
    alert: Alert,
    lines: Sequence[EvidenceLine],
    catalog: Catalog,
    exposure_: Exposure,
    lang: str = "en",
) -> list[str]:
    """Why the alert stands at its level, in sentences: what happened (events grouped by what
    they say, with how many sources and when), what the figures show, and what the watcher
    has at stake. The events' own words are their English rendering (English by design,
    docs/text.md): they stay English inside a translated sentence."""
    lang = checked(lang)
    t = translator(lang)
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
        count = t.ngettext("{n} report", "{n} reports", documents).format(n=documents)
        if len(outlets) > 1:
            count = t.gettext("{reports} from {n} sources").format(reports=count, n=len(outlets))
        if dates and dates[0] != dates[-1]:
            same_year = dates[0].year == dates[-1].year
            out.append(
                t.gettext("{what}: {count} between {start} and {end}.").format(
                    what=key,
                    count=count,
                    start=day_text(dates[0], lang, year=not same_year),
                    end=day_text(dates[-1], lang),
                )
            )
        elif dates:
            out.append(
                t.gettext("{what}: {count} on {day}.").format(
                    what=key, count=count, day=day_text(dates[0], lang)
                )
            )
        else:
            out.append(t.gettext("{what}: {count}.").format(what=key, count=count))
    if len(groups) > 3:
        out.append(
            t.gettext("{n} more kinds of report; see the evidence.").format(n=len(groups) - 3)
        )
    figures = [ln for ln in lines if ln.evidence.kind in ("trade_anomaly", "price_anomaly")]
    for ln in figures[:3]:
        out.append(evidence_words(ln.evidence, catalog, lang) + _full_stop(lang))
    if len(figures) > 3:
        out.append(
            t.gettext("{n} more unusual figures; see the evidence.").format(n=len(figures) - 3)
        )
    if not out:
        out.append(
            t.gettext("No evidence is attached to this version; the level holds from earlier ones.")
        )
    if exposure_.dependence is not None:
        out.append(exposure_.dependence.sentence)
    elif exposure_.received is not None:
        out.append(exposure_.received.sentence)
    if "one voice only" in alert.summary:
        out.append(
            t.gettext("Only one independent source so far: the level is capped until a second.")
        )
    return out


# -- actions and history ----------------------------------------------------------------------
@cache
def _actions() -> dict[str, dict[str, list[str]]]:
    """Per level, the steps in each language (``actions.yaml``)."""
    text = resources.files("ews.report").joinpath("actions.yaml").read_text("utf-8")
    data: dict[str, dict[str, list[str]]] = yaml.safe_load(text)
    return data


def actions(alert: Alert, catalog: Catalog, exposure_: Exposure, lang: str = "en") -> list[str]:
    """Suggested steps for the alert's level, filled in with its item, supplier, watcher and
    alternatives."""
    lang = checked(lang)
    t = translator(lang)
    if alert.msg_type == "Cancel":
        return [t.gettext("Closed: no action; keep the evidence for the record.")]
    alternatives = list_text(
        [
            t.gettext("{name} ({share} {what})").format(
                name=a.name, share=_pct(a.share), what=a.what
            )
            if a.share is not None
            else a.name
            for a in exposure_.alternatives
        ],
        lang,
    ) or t.gettext("none known to this node")
    fill = {
        "item": _alert_item(catalog, alert, lang),
        "supplier": _country(catalog, alert.supplier, lang)
        if alert.supplier
        else t.gettext("the suppliers"),
        "watcher": _country(catalog, exposure_.watcher, lang)
        if exposure_.watcher
        else t.gettext("your country"),
        "alternatives": alternatives,
    }
    steps = _actions().get(alert.level, {})
    return [step.format(**fill) for step in steps.get(lang, [])]


@dataclass(frozen=True)
class Step:
    """One change of level, in words."""

    day: dt.date
    level: str
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "level": self.level, "text": self.text}


def history(versions: Sequence[Alert], day: dt.date, lang: str = "en") -> list[Step]:
    """The alert's levels as steps people read: raised, lowered, closed, each with how long
    the level held; versions that kept the level are folded into their step."""
    lang = checked(lang)
    t = translator(lang)
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
            t.ngettext("held {n} week", "held {n} weeks", held // 7).format(n=held // 7)
            if held >= 14
            else t.ngettext("held {n} day", "held {n} days", held).format(n=held)
        )
        level = level_name(v.level, lang)
        if v.msg_type == "Cancel":
            text = t.gettext("closed, back to {level}").format(level=level)
        elif n == 0:
            text = t.gettext("raised at {level}").format(level=level)
        else:
            before = changes[n - 1].level
            change = (
                t.gettext("raised to {level} (from {before})")
                if level_rank(v.level) > level_rank(before)
                else t.gettext("lowered to {level} (from {before})")
            )
            text = change.format(level=level, before=level_name(before, lang))
        if v.msg_type != "Cancel":
            joined = (
                t.gettext("{step}; {span} so far")
                if n + 1 == len(changes)
                else t.gettext("{step}; {span}")
            )
            text = joined.format(step=text, span=span)
        steps.append(Step(start, v.level, text))
    return steps


def this_week(versions: Sequence[Alert], day: dt.date, lang: str = "en") -> str:
    """What changed in the seven days to ``day``, in a phrase."""
    lang = checked(lang)
    t = translator(lang)
    start = day - WEEK
    recent = [v for v in versions if start < v.sent.date() <= day]
    last = versions[-1]
    if not recent:
        new = [e for e in last.evidence if e.date is not None and start < e.date <= day]
        if new:
            return t.ngettext(
                "no level change; {n} new piece of evidence",
                "no level change; {n} new pieces of evidence",
                len(new),
            ).format(n=len(new))
        return t.gettext("no change since {day}").format(day=day_text(last.sent.date(), lang))
    before = [v for v in versions if v.sent.date() <= start]
    if not before:
        return t.gettext("new this week: raised at {level} on {day}").format(
            level=level_name(recent[0].level, lang),
            day=day_text(recent[0].sent.date(), lang, year=False),
        )
    was, now = before[-1].level, recent[-1].level
    when = day_text(recent[-1].sent.date(), lang, year=False)
    if was == now:
        return t.gettext("updated {day}, still {level}").format(
            day=when, level=level_name(now, lang)
        )
    change = (
        t.gettext("raised from {was} to {now} on {day}")
        if level_rank(now) > level_rank(was)
        else t.gettext("lowered from {was} to {now} on {day}")
    )
    return change.format(was=level_name(was, lang), now=level_name(now, lang), day=when)


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
    """Each evidence line in plain words (:func:`evidence_words`)."""

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
    lang: str = "en",
) -> AlertCard:
    """The card of one alert (its versions, oldest first) for ``watcher`` (its own importer
    when it has one) as of ``day``, in ``lang``."""
    lang = checked(lang)
    last = versions[-1]
    watcher = last.importer or watcher
    source = next((a for a in reversed(versions) if a.evidence), last)
    lines = explain_evidence(store, catalog, glossary, source.evidence)
    stake = exposure(store, catalog, last, watcher, day, lang)
    return AlertCard(
        alert=last,
        peak=peak_levels(versions)[last.alert_id],
        watcher=watcher,
        reason=reason(last, lines, catalog, stake, lang),
        exposure=stake,
        actions=actions(last, catalog, stake, lang),
        history=history(versions, day, lang),
        evidence=lines,
        changed=this_week(versions, day, lang),
        words=[evidence_words(ln.evidence, catalog, lang) for ln in lines],
    )


# -- the now view -----------------------------------------------------------------------------
@dataclass(frozen=True)
class NowAlert:
    entry: BoardEntry
    scope: str
    """"own watchlist", "world supply" or "supplier of <watcher>" (in the view's language)."""
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
    lang: Lang = "en"
    """The language of the view's sentences (this week, scope, exposure, notes)."""

    @property
    def stale(self) -> list[Freshness]:
        return [f for f in self.freshness if f.stale]

    @property
    def newest_data(self) -> dt.date | None:
        dates = [f.newest for f in self.freshness if f.newest is not None]
        return max(dates) if dates else None

    def empty_text(self) -> str:
        """What is true when no open alert touches the country."""
        t = translator(self.lang)
        if self.total_alerts == 0:
            return t.gettext(
                "No alerts have been raised on this node yet: run ews assess after ingesting data."
            )
        newest = self.newest_data
        if self.stale and newest is not None:
            return t.ngettext(
                "No open alert touches this country today. But the newest data held are from "
                "{day}: {n} source is behind, so this says nothing about what happened since.",
                "No open alert touches this country today. But the newest data held are from "
                "{day}: {n} sources are behind, so this says nothing about what happened since.",
                len(self.stale),
            ).format(day=day_text(newest, self.lang), n=len(self.stale))
        return t.gettext("No open alert touches this country today.")

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


def _days(n: float, lang: Lang) -> str:
    t = translator(lang)
    return t.gettext("a day") if n == 1 else t.gettext("{n} days").format(n=f"{n:g}")


def freshness_note(f: Freshness, lang: str = "en") -> str:
    """A source's freshness note in ``lang``. A file source's is said from its fields in the
    same words as the sources layer's English ``note`` (tests/report hold them together); a
    live source's English note is its poller's own record (with its error), which Korean and
    Japanese sum up as the poller's state and last success."""
    lang = checked(lang)
    t = translator(lang)
    if f.kind.startswith("live "):
        if lang == "en":
            return f.note
        last = day_text(f.received.date(), lang) if f.received else None
        if f.state == "disabled":
            return t.gettext("not polled (disabled)")
        if last is None:
            return (
                t.gettext("failing: never succeeded")
                if f.state == "failing"
                else t.gettext("not polled yet")
            )
        if f.state == "ok":
            return t.gettext("polled: last success {day}").format(day=last)
        if f.state == "failing":
            return t.gettext("failing: last success {day}").format(day=last)
        return t.gettext("behind: last success {day}").format(day=last)
    if f.newest is None:
        return t.gettext("no dated data held")
    if f.stale and f.due is not None:
        return t.gettext(
            "newest data {newest}, {age} days old: data to about {due} should be public by now "
            "({basis}); alerts cannot see what came after"
        ).format(
            newest=day_text(f.newest, lang),
            age=f.age_days,
            due=day_text(f.due, lang),
            basis=f.lag_basis,  # the source's schedule as published: data
        )
    if f.every_days is None or f.lag_days is None:
        return f.note
    return t.gettext("up to date: new data every {every}, public {lag} later").format(
        every=_days(f.every_days, lang), lag=_days(f.lag_days, lang)
    )


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
    lang: str = "en",
) -> NowView:
    """The now view of ``country`` on ``day`` (see module): the alerts as they stood that
    day, so a past day shows what the node said then; its sentences in ``lang``."""
    lang = checked(lang)
    t = translator(lang)
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
            scope = t.gettext("own watchlist")
        elif a.supplier is None:
            scope = t.gettext("world supply")
        elif a.supplier == country:
            elsewhere += 1  # the country's own output: not an import risk
            continue
        elif _buys_from(store, catalog, country, a, day, memo):
            scope = t.gettext("supplier of {country}").format(
                country=_country(catalog, country, lang)
            )
        else:
            elsewhere += 1
            continue
        versions = sorted(by_id[a.alert_id], key=lambda v: v.version)
        shown.append(
            NowAlert(
                entry,
                scope,
                exposure(store, catalog, a, country, day, lang),
                this_week(versions, day, lang),
            )
        )
    shown.sort(key=lambda n: (-level_rank(n.entry.alert.level), -n.entry.alert.score))
    return NowView(
        country=country,
        day=day,
        alerts=shown,
        freshness=[
            replace(f, note=freshness_note(f, lang))
            for f in data_freshness(store, day, stale_after=stale_after)
        ],
        elsewhere=elsewhere,
        closed_this_week=closed,
        total_alerts=len(entries),
        lang=lang,
    )


def default_watcher() -> str:
    """The first watching country of the risk configuration (the node's own, by convention)."""
    return load_config().watchlist[0]
