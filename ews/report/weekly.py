"""The weekly brief: ``ews report --week 2025-W41 --format html|pdf``.

One ISO week's picture for ministries and procurement teams: which alerts were raised,
changed or still stood at the week's end, why (evidence in its original language beside a
structured English rendering, each sentence once, with the matched terms glossed), the
charts behind them, and the week's events. The HTML
is one self-contained file (styles and SVG charts inline: it opens offline and can be mailed);
the PDF is the same document typeset by WeasyPrint.

The brief is marked with the most restrictive TLP among the alerts it carries; RED alerts are
left out unless asked for, since a brief is made to be passed on.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ews.alerts.board import visible
from ews.alerts.records import LEVELS, TLPS, Alert, Evidence, Tlp
from ews.alerts.repository import load_alerts
from ews.catalog import Catalog
from ews.errors import InputError
from ews.records import Item
from ews.report import charts, views
from ews.report.formats import when
from ews.risk.explain import EvidenceLine, explain_evidence
from ews.store import Store
from ews.text.gloss import Glossary

WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")
MAX_DETAILED = 8  # alerts shown with charts and evidence; the rest are listed


def parse_week(text: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week written ``2025-W41``."""
    match = WEEK.match(text.strip().upper())
    if match is None:
        raise InputError(f"--week: expected an ISO week like 2025-W41, got {text!r}")
    year, week = int(match[1]), int(match[2])
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InputError(f"--week: {year} has no week {week}") from None
    return monday, monday + dt.timedelta(days=6)


@dataclass
class AlertLine:
    """One alert as the week saw it."""

    alert: Alert  # the last version sent on or before the week's end
    start_level: str  # level when the week began ("normal" if not yet raised)
    change: str  # raised | up | down | closed | unchanged
    versions_in_week: int
    evidence: tuple[Evidence, ...]
    item: Item | None
    versions: list[Alert]  # every version up to the week's end, oldest first
    charts: dict[str, str] = field(default_factory=dict)  # title -> SVG
    evidence_lines: list[EvidenceLine] = field(default_factory=list)  # each sentence once


@dataclass
class WeeklyBrief:
    week: str
    monday: dt.date
    sunday: dt.date
    node_id: str
    generated: dt.datetime
    lines: list[AlertLine]
    events: list[views.EventRow]
    tlp: Tlp
    left_out_red: int
    counts: dict[str, int]


def _change(start: str, end: Alert, new: bool) -> str:
    if new:
        return "raised"
    if end.msg_type == "Cancel":
        return "closed"
    a, b = LEVELS.index(start), LEVELS.index(end.level)
    return "up" if b > a else "down" if b < a else "unchanged"


def build_weekly(
    store: Store,
    catalog: Catalog,
    week: str,
    *,
    node_id: str,
    include_red: bool = False,
    with_charts: bool = True,
) -> WeeklyBrief:
    monday, sunday = parse_week(week)
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(sunday, dt.time.max, tzinfo=dt.UTC)
    every = load_alerts(store)
    by_id: dict[str, list[Alert]] = {}
    for a in every:
        by_id.setdefault(a.alert_id, []).append(a)
    lines: list[AlertLine] = []
    red = 0
    for versions in by_id.values():
        versions.sort(key=lambda a: a.version)
        upto = [a for a in versions if _aware(a.sent) <= end]
        if not upto:
            continue
        last = upto[-1]
        before = [a for a in upto if _aware(a.sent) < start]
        in_week = [a for a in upto if _aware(a.sent) >= start]
        open_before = bool(before) and before[-1].msg_type != "Cancel"
        # In the brief: alerts that moved this week, and those standing open through it.
        if not in_week and not open_before:
            continue
        if not visible(last, include_red=include_red):
            red += 1
            continue
        start_level = before[-1].level if open_before else "normal"
        source = next((a for a in reversed(upto) if a.evidence), last)
        lines.append(
            AlertLine(
                alert=last,
                start_level=start_level,
                change=_change(start_level, last, new=not before),
                versions_in_week=len(in_week),
                evidence=source.evidence,
                item=catalog.item_for_code(last.hs),
                versions=upto,
            )
        )
    # Highest level first, then what moved this week, then the newest.
    lines.sort(
        key=lambda x: (
            -LEVELS.index(x.alert.level),
            x.change == "unchanged",
            -x.alert.sent.timestamp(),
        )
    )
    glossary = Glossary(catalog)
    for line in lines:
        line.evidence_lines = explain_evidence(store, catalog, glossary, line.evidence)
    if with_charts:
        for line in lines[:MAX_DETAILED]:
            line.charts = _charts(store, catalog, line, monday, sunday)
    events = views.events(store, catalog, glossary, since=monday, until=sunday, limit=100)
    counts: dict[str, int] = {lvl: sum(1 for x in lines if x.alert.level == lvl) for lvl in LEVELS}
    tlps = [x.alert.tlp for x in lines] or ["CLEAR"]
    return WeeklyBrief(
        week=f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}",
        monday=monday,
        sunday=sunday,
        node_id=node_id,
        generated=dt.datetime.now(dt.UTC).replace(microsecond=0),
        lines=lines,
        events=events,
        tlp=max(tlps, key=TLPS.index),
        left_out_red=red,
        counts=counts,
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _charts(
    store: Store, catalog: Catalog, line: AlertLine, monday: dt.date, sunday: dt.date
) -> dict[str, str]:
    """The alert's level history, and its item's prices and exports over the last 3 years."""
    out: dict[str, str] = {}
    spec = charts.level_chart(views.level_history(line.versions))
    if spec is not None:
        out["Level"] = charts.to_svg(spec)
    item = line.item
    if item is None:
        return out
    since = monday.replace(year=monday.year - 3)
    prices = views.prices(store, item)
    prices = prices[(prices["period"] >= since) & (prices["period"] <= sunday)]
    anomalies = views.price_anomalies(store, prices)
    spec = charts.price_chart(prices, anomalies)
    if spec is not None:
        out["Prices"] = charts.to_svg(spec)
    trade = views.trade_rows(store, item)
    trade = trade[(trade["period"] >= since) & (trade["period"] <= sunday)]
    spec = charts.destinations_chart(views.destinations(trade, catalog))
    if spec is not None:
        out["Exports by destination"] = charts.to_svg(spec)
    return out


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ews.report", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["level_colours"] = charts.LEVEL_COLOURS
    env.globals["levels"] = LEVELS
    env.filters["when"] = when  # a date, or "YYYY-MM-DD HH:MM UTC"; never "+00:00"
    # SVG from vl-convert is our own rendering of our own spec: safe to inline.
    env.filters["svg"] = lambda text: Markup(_strip_xml_prolog(text))  # noqa: S704
    return env


def _strip_xml_prolog(svg: str) -> str:
    return re.sub(r"^<\?xml[^>]*>\s*", "", svg)


def render_html(brief: WeeklyBrief, catalog: Catalog) -> str:
    css = resources.files("ews.report").joinpath("static", "ews.css").read_text("utf-8")
    return (
        _environment()
        .get_template("weekly.html")
        .render(brief=brief, catalog=catalog, css=Markup(css))  # noqa: S704 - our stylesheet
    )


def render_pdf(html: str) -> bytes:
    """Typeset the HTML brief as PDF (WeasyPrint; fonts from the system's fontconfig)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
