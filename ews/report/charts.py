"""Vega-Lite charts (built with Altair) for the dashboard and the weekly report.

A chart is a Vega-Lite spec (a dict): the dashboard embeds it and Vega renders it in the
browser from the JavaScript this node serves itself; the report renders the same spec to
SVG with vl-convert, so both show identical charts without a browser or the internet.

Every chart is written for a reader outside the project: each time axis carries years and
spaces its labels so they never overlap, money is in millions of dollars with the period in
the axis title ("$M per month"), counts have whole-number ticks, scores are named in plain
words (the statistic's own name is left to the tooltip), and a subtitle names the source,
taken from the frame's ``source`` column where it has one, else from the kind of data.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any

import altair as alt
import pandas as pd

from ews.alerts.records import LEVELS
from ews.report.formats import source_name

# Level colours follow the usual crisis-level scheme: grey, blue, yellow, orange, red.
LEVEL_COLOURS: dict[str, str] = {
    "normal": "#6b7280",
    "attention": "#2563eb",
    "caution": "#ca8a04",
    "alert": "#ea580c",
    "serious": "#dc2626",
}
WIDTH = 640

Spec = dict[str, Any]


def _spec(chart: alt.TopLevelMixin) -> Spec:
    # Inline data, no external URLs: the page must render offline. Dates become ISO strings,
    # which Vega parses for temporal fields, so the spec is plain JSON wherever it goes.
    spec: Spec = json.loads(json.dumps(chart.to_dict(format="vega-lite"), default=str))
    return spec


def _level_scale() -> alt.Scale:
    return alt.Scale(domain=list(LEVELS), range=[LEVEL_COLOURS[v] for v in LEVELS])


# -- axes, titles and sources ------------------------------------------------------------------
# A label in millions of dollars: d3 writes "$400" (trailing zeros trimmed: "$0.5"), the
# expression adds the M; the axis title says over what period.
MONEY_FORMAT = "$,.2~f"
MONEY_LABEL = "datum.label + 'M'"
# Time labels, finest first: (span in days up to which it is used, d3 format, width in pixels
# a label needs with room around it, tick steps allowed as (Vega interval, step, days)). Every
# format carries the year: "Mar", "Apr" alone do not say which March. Steps of a few days are
# whole weeks: d3 counts "every 14 days" from each month's first, which puts the 29th next
# to the 1st.
_TIME_SCALES: tuple[tuple[float, str, int, tuple[tuple[str, int, float], ...]], ...] = (
    (
        92,
        "%-d %b %Y",
        80,
        (("day", 1, 1), ("day", 2, 2), ("week", 1, 7), ("week", 2, 14), ("month", 1, 30.44)),
    ),
    (
        4 * 366,
        "%b %Y",
        62,
        (*(("month", n, 30.44 * n) for n in (1, 2, 3, 6)), ("year", 1, 365.25)),
    ),
    (math.inf, "%Y", 40, tuple(("year", n, 365.25 * n) for n in (1, 2, 5, 10, 20, 50))),
)


def _as_datetimes(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    # A datetime.date goes into the spec as "2024-01-01", which JavaScript reads as midnight
    # UTC and Vega then shows in the reader's time zone: west of UTC the first of a month
    # falls in the month before. A naive pandas datetime is written "2024-01-01T00:00:00",
    # read as local midnight, so every browser and the SVG renderer show the same day.
    return frame.assign(**{c: pd.to_datetime(frame[c]) for c in columns})


def _time_scale(
    dates: Iterable[Any],
) -> tuple[str, int, tuple[tuple[str, int, float], ...], float]:
    """The format, label width and tick steps for the span of ``dates``, and that span in
    days."""
    stamps = pd.to_datetime(pd.Series(list(dates))).dropna()
    days = float((stamps.max() - stamps.min()).days) if len(stamps) else 0.0
    # The finest scale whose span covers the dates (the last one covers any span).
    _, fmt, label, steps = next(scale for scale in _TIME_SCALES if days <= scale[0])
    return fmt, label, steps, days


def _time_axis(dates: Iterable[Any], *, width: int = WIDTH) -> alt.Axis:
    """A time axis whose every label carries the year, with the finest tick step whose
    labels fit the width (``labelOverlap`` drops any that would still touch)."""
    fmt, label, steps, days = _time_scale(dates)
    fits = max(2, width // label)
    interval, step, _ = next((s for s in steps if days / s[2] + 1 <= fits), steps[-1])
    return alt.Axis(
        title=None,
        format=fmt,
        tickCount={"interval": interval, "step": step},
        labelOverlap=True,
        labelSeparation=6,
        labelAngle=0,
    )


def _date_format(dates: Iterable[Any]) -> str:
    """The tooltip format of a date field: the day when the data span days, else the month."""
    fmt = _time_scale(dates)[0]
    return fmt if "%-d" in fmt else "%b %Y"


def _money_axis(title: str) -> alt.Axis:
    """An axis of millions of dollars ("$400M"); ``title`` names the unit and period."""
    return alt.Axis(title=title, format=MONEY_FORMAT, labelExpr=MONEY_LABEL)


def _count_axis(title: str) -> alt.Axis:
    """An axis of counts: whole numbers only (no 0.5 alert)."""
    return alt.Axis(title=title, tickMinStep=1, format="d")


def _in_millions(frame: pd.DataFrame, column: str = "value_usd") -> pd.DataFrame:
    return frame.assign(musd=frame[column] / 1e6)


def _title(text: str, *subtitle: str) -> alt.TitleParams:
    """A chart's title, with its source (and any caveat) as subtitle lines beneath."""
    return alt.TitleParams(
        text=text, subtitle=list(subtitle), anchor="start", subtitleColor="#4b5563"
    )


def _cited(frame: pd.DataFrame) -> str:
    """The names of the sources in a frame's ``source`` column (ids, several joined with
    "; "), each once; "" when the frame has no such column."""
    if "source" not in frame.columns:
        return ""
    ids = {part.strip() for v in frame["source"] if v for part in str(v).split(";")}
    return ", ".join(sorted({source_name(i) for i in ids if i}))


def _per(freq: str) -> str:
    """The period of a trade frame's values, for an axis title."""
    return {"M": "month", "A": "year", "Y": "year", "Q": "quarter"}.get(freq, "period")


def _nodes(frame: pd.DataFrame) -> str:
    """The nodes that issued a frame's alerts: "node KR", "nodes JP, KR" (at most three)."""
    if "origin" not in frame.columns:
        return "this node"
    nodes = sorted({str(v) for v in frame["origin"] if v})
    if not nodes:
        return "this node"
    more = f" and {len(nodes) - 3} more" if len(nodes) > 3 else ""
    return ("node " if len(nodes) == 1 else "nodes ") + ", ".join(nodes[:3]) + more


# -- charts --------------------------------------------------------------------------------
def price_chart(prices: pd.DataFrame, anomalies: pd.DataFrame) -> Spec | None:
    """Monthly prices, one line per series, anomalies marked as red points."""
    if prices.empty:
        return None
    prices = _as_datetimes(prices, "period")
    units = sorted({str(u) for u in prices["unit"]}) if "unit" in prices.columns else []
    # One unit goes in the axis title; several stay in the series names of the legend.
    unit = f"price, {units[0]} (monthly average)" if len(units) == 1 else "price (unit in legend)"
    month = alt.Tooltip("period:T", title="month", format="%b %Y")
    base = alt.Chart(prices).encode(
        x=alt.X("period:T", axis=_time_axis(prices["period"])),
        y=alt.Y("value:Q", title=unit),
        color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None)),
    )
    line = base.mark_line(strokeWidth=1.4).encode(
        tooltip=[alt.Tooltip("series:N"), month, alt.Tooltip("value:Q", format=",.2f")]
    )
    layers: list[alt.Chart] = [line]
    if not anomalies.empty:
        anomalies = _as_datetimes(anomalies, "period").assign(
            kind=[str(k).replace("_", " ") for k in anomalies["kind"]]
        )
        points = (
            alt.Chart(anomalies)
            .mark_point(filled=True, size=60, color="#dc2626", shape="triangle-up")
            .encode(
                x="period:T",
                y="value:Q",
                tooltip=[
                    alt.Tooltip("series:N"),
                    month,
                    alt.Tooltip("value:Q", format=",.2f"),
                    alt.Tooltip("kind:N", title="anomaly"),
                    alt.Tooltip("score:Q", format=".1f", title="how unusual (robust z)"),
                    alt.Tooltip("method:N", title="method"),
                ],
            )
        )
        layers.append(points)
    source = _cited(prices) or "stored price observations"
    chart = alt.layer(*layers).properties(
        width=WIDTH,
        height=240,
        title=_title(
            "Prices (red: anomalies flagged by the indicators)",
            f"Source: {source}, monthly averages in nominal US dollars",
        ),
    )
    return _spec(chart.interactive(bind_y=False))


def destinations_chart(frame: pd.DataFrame) -> Spec | None:
    """Each exporter's exports by destination over time (stacked areas), in $M."""
    if frame.empty:
        return None
    frame = _in_millions(_as_datetimes(frame, "period"))
    freq = str(frame["freq"].iloc[0]) if "freq" in frame.columns else "M"
    per = _per(freq)
    exporters = sorted({str(e) for e in frame["exporter"]})
    chart = (
        alt.Chart(frame)
        .mark_area()
        .encode(
            x=alt.X("period:T", axis=_time_axis(frame["period"])),
            y=alt.Y("sum(musd):Q", axis=_money_axis(f"exports, $M per {per}")),
            color=alt.Color("partner:N", title="destination", sort="-y"),
            tooltip=[
                alt.Tooltip("exporter:N"),
                alt.Tooltip("partner:N", title="destination"),
                alt.Tooltip("period:T", title=per, format=_date_format(frame["period"])),
                alt.Tooltip("sum(musd):Q", format="$,.2f", title=f"exports, $M per {per}"),
            ],
        )
        .properties(width=WIDTH, height=220)
    )
    reporters = " and ".join(f"{e}'s" for e in exporters)
    subtitle = f"Source: {_cited(frame) or 'stored trade rows'} ({reporters} reported exports)"
    subtitle += ", monthly" if per == "month" else ""
    if len(exporters) > 1:
        faceted = chart.facet(row=alt.Row("exporter:N", title=None))
        return _spec(faceted.properties(title=_title("Exports by destination", subtitle)))
    return _spec(
        chart.properties(title=_title(f"{exporters[0]}'s exports by destination", subtitle))
    )


def shares_chart(shares: pd.DataFrame, hhi: pd.DataFrame, basis: str) -> Spec | None:
    """Supplier shares by year (stacked to 100%) above the Herfindahl-Hirschman index."""
    if shares.empty:
        return None
    shares = _in_millions(shares)
    measure = str(shares["measure"].iloc[0]) if "measure" in shares.columns else "supply"
    bars = (
        alt.Chart(shares)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "share:Q",
                stack="normalize",
                axis=alt.Axis(format="%"),
                title=f"share of {measure}, %",
            ),
            color=alt.Color("supplier:N", sort="-y"),
            tooltip=[
                alt.Tooltip("year:O"),
                alt.Tooltip("supplier:N"),
                alt.Tooltip("share:Q", format=".1%", title=f"share of {measure}"),
                alt.Tooltip("musd:Q", format="$,.2f", title=f"{measure}, $M in the year"),
            ],
        )
        .properties(width=WIDTH, height=180)
    )
    line = (
        alt.Chart(hhi)
        .mark_line(point=True, color="#111827")
        .encode(
            x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("hhi:Q", scale=alt.Scale(domain=[0, 1]), title="index, 0 to 1"),
            tooltip=[
                alt.Tooltip("year:O"),
                alt.Tooltip("hhi:Q", format=".3f", title="Herfindahl-Hirschman index"),
                alt.Tooltip("suppliers:Q", format="d", title="suppliers"),
            ],
        )
    )
    # 0.25 is the usual "highly concentrated" line (2,500 on the 0-10,000 scale).
    rule = (
        alt.Chart(pd.DataFrame({"y": [0.25]}))
        .mark_rule(strokeDash=[4, 4], color="#dc2626")
        .encode(y="y:Q")
    )
    index = alt.layer(line, rule).properties(
        width=WIDTH,
        height=110,
        title=alt.TitleParams(
            "How concentrated supply is (Herfindahl-Hirschman index; dashed: highly concentrated)",
            anchor="start",
            fontSize=11,
        ),
    )
    title = _title(
        f"Supplier shares of {measure} by year",
        f"Source: {_cited(shares) or 'stored trade rows'}",
        f"Basis: {basis}; complete years only",
    )
    return _spec(alt.vconcat(bars, index).properties(title=title))


def anomalies_chart(anomalies: pd.DataFrame, title: str) -> Spec | None:
    """Scores of flagged anomalies over time, one colour per series."""
    if anomalies.empty:
        return None
    anomalies = _as_datetimes(anomalies, "period").assign(
        kind=[str(k).replace("_", " ") for k in anomalies["kind"]]
    )
    tooltip = [
        alt.Tooltip("series:N"),
        alt.Tooltip("period:T", title="month", format=_date_format(anomalies["period"])),
        alt.Tooltip("kind:N", title="anomaly"),
        alt.Tooltip("score:Q", format=".1f", title="robust z-score"),
    ]
    if "method" in anomalies.columns:
        tooltip.append(alt.Tooltip("method:N", title="method"))
    chart = (
        alt.Chart(anomalies)
        .mark_circle(size=70)
        .encode(
            x=alt.X("period:T", axis=_time_axis(anomalies["period"])),
            # Far from 0 is unusual for the series: below 0 a fall, above a rise.
            y=alt.Y("score:Q", title=["How unusual", "(deviations from the usual level)"]),
            color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=tooltip,
        )
    )
    source = _cited(anomalies)
    cited = f"{source}, scored by this node's indicators" if source else "this node's indicators"
    return _spec(chart.properties(width=WIDTH, height=180, title=_title(title, f"Source: {cited}")))


def events_chart(frame: pd.DataFrame) -> Spec | None:
    """The events timeline: one mark per event, by type."""
    if frame.empty:
        return None
    frame = _as_datetimes(frame, "date")
    source = _cited(frame) or "news and notices"
    chart = (
        alt.Chart(frame)
        .mark_tick(thickness=3, size=18)
        .encode(
            x=alt.X("date:T", axis=_time_axis(frame["date"])),
            y=alt.Y("event_type:N", title=None),
            color=alt.Color("event_type:N", legend=None),
            tooltip=[
                alt.Tooltip("date:T", title="date", format="%-d %b %Y"),
                alt.Tooltip("event_type:N", title="event"),
                alt.Tooltip("country:N"),
                alt.Tooltip("lang:N", title="language"),
                alt.Tooltip("evidence:N"),
                alt.Tooltip("english:N", title="in English"),
            ],
        )
        .properties(
            width=WIDTH,
            title=_title(
                "Events found in news and notices",
                f"Source: events this node found in {source}",
            ),
        )
    )
    return _spec(chart)


def level_chart(history: pd.DataFrame) -> Spec | None:
    """An alert's level over its versions (step line, points coloured by level)."""
    if history.empty:
        return None
    history = _as_datetimes(history, "sent")
    y = alt.Y(
        "rank:Q",
        scale=alt.Scale(domain=[0, len(LEVELS) - 1]),
        axis=alt.Axis(
            values=list(range(len(LEVELS))),
            labelExpr="[" + ",".join(f"'{v}'" for v in LEVELS) + "][datum.value]",
        ),
        title=None,
    )
    base = alt.Chart(history).encode(x=alt.X("sent:T", axis=_time_axis(history["sent"])), y=y)
    step = base.mark_line(interpolate="step-after", color="#9ca3af")
    points = base.mark_point(filled=True, size=80).encode(
        color=alt.Color("level:N", scale=_level_scale(), legend=None),
        tooltip=[
            alt.Tooltip("version:Q", format="d"),
            alt.Tooltip("sent:T", title="sent", format="%-d %b %Y"),
            alt.Tooltip("level:N"),
            alt.Tooltip("score:Q", format=".2f", title="risk score"),
        ],
    )
    title = _title("Level", f"Source: alert versions issued by {_nodes(history)}")
    return _spec(alt.layer(step, points).properties(width=WIDTH, height=150, title=title))


def board_chart(frame: pd.DataFrame) -> Spec | None:
    """Alert versions issued per month, by level."""
    if frame.empty:
        return None
    frame = _as_datetimes(frame, "month")
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", axis=_time_axis(frame["month"])),
            y=alt.Y("count():Q", axis=_count_axis("alert versions issued")),
            color=alt.Color("level:N", scale=_level_scale(), sort=list(LEVELS)),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="month", format="%b %Y"),
                alt.Tooltip("level:N"),
                alt.Tooltip("count():Q", format="d", title="alert versions"),
            ],
        )
        .properties(
            width=WIDTH,
            height=140,
            title=_title(
                "Alert versions issued per month, by level",
                f"Source: alerts issued by {_nodes(frame)}",
            ),
        )
    )
    return _spec(chart)


def _publications(sources: Iterable[str]) -> str:
    """The source line of figures from many publications: the most cited one (without its
    parenthesised detail, e.g. the mineral) and how many others."""
    named = Counter(re.sub(r"\s*\([^)]*\)\s*$", "", str(s)) for s in sources if s)
    if not named:
        return "Source: sourced structural figures"
    ranked = [name for name, _ in named.most_common()]
    if len(ranked) == 1:
        return f"Source: {ranked[0]}"
    others = len(ranked) - 1
    return (
        f"Sources: {ranked[0]} and {others} other{'s' if others > 1 else ''} "
        "(each bar's tooltip names its own)"
    )


def concentration_chart(frame: pd.DataFrame) -> Spec | None:
    """Top supplier's share per family and view, labelled with the supplier."""
    if frame.empty:
        return None
    base = alt.Chart(frame).encode(
        y=alt.Y("family:N", sort="-x", title=None),
        x=alt.X(
            "share:Q",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
            title="top supplier's share, %",
        ),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("supplier:N", title="top supplier"),
        yOffset="view:N",
        tooltip=[
            "family:N",
            alt.Tooltip("view:N", title="whose supply"),
            alt.Tooltip("supplier:N", title="top supplier"),
            alt.Tooltip("share:Q", format=".0%"),
            "basis:N",
            "source:N",
        ],
    )
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(
        text="supplier:N", yOffset="view:N"
    )
    rule = (
        alt.Chart(pd.DataFrame({"x": [0.5]}))
        .mark_rule(strokeDash=[4, 4], color="#dc2626")
        .encode(x="x:Q")
    )
    chart = alt.layer(bars, labels, rule).properties(
        width=WIDTH - 120,
        title=_title(
            "Top supplier's share (dashed: half of supply)", _publications(frame["source"])
        ),
    )
    return _spec(chart)


def country_chart(frame: pd.DataFrame, country: str) -> Spec | None:
    if frame.empty:
        return None
    own_figures = bool((~frame["direction"].astype(str).str.startswith("received")).any())
    frame = _in_millions(frame)
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0, labelOverlap=True)),
            y=alt.Y("musd:Q", axis=_money_axis("$M per year")),
            color=alt.Color("family:N"),
            column=alt.Column("direction:N", title=None),
            tooltip=[
                "family:N",
                "year:O",
                "direction:N",
                alt.Tooltip("musd:Q", format="$,.2f", title="$M in the year"),
            ],
        )
        .properties(
            width=300,
            height=200,
            title=_title(
                f"Critical items traded by {country}"
                if own_figures
                # Only the partners' export figures are held: say whose figures these are,
                # so China's exports to Korea are not read as Korea's trade.
                else f"Critical items {country} received, as its partners report their exports",
                f"Source: {_cited(frame) or 'stored trade rows'}; yearly totals"
                + ("" if own_figures else f"; {country}'s own statistics are not in the store"),
            ),
        )
    )
    return _spec(chart)


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script (from vl-convert's own copy: no CDN)."""
    import vl_convert as vlc

    bundle: str = vlc.javascript_bundle(
        "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
    )
    return bundle


def to_svg(spec: Spec) -> str:
    """Render a spec to SVG without a browser (for reports)."""
    import vl_convert as vlc

    svg: str = vlc.vegalite_to_svg(spec)
    return svg
