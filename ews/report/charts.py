"""Vega-Lite charts (built with Altair) for the dashboard and the weekly report.

A chart is a Vega-Lite spec (a dict): the dashboard embeds it and Vega renders it in the
browser from the JavaScript this node serves itself; the report renders the same spec to
SVG with vl-convert, so both show identical charts without a browser or the internet.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import altair as alt
import pandas as pd

from ews.alerts.records import LEVELS

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


def price_chart(prices: pd.DataFrame, anomalies: pd.DataFrame) -> Spec | None:
    """Monthly prices, one line per series, anomalies marked as red points."""
    if prices.empty:
        return None
    base = alt.Chart(prices).encode(
        x=alt.X("period:T", title=None),
        y=alt.Y("value:Q", title="price"),
        color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None)),
    )
    line = base.mark_line(strokeWidth=1.4).encode(
        tooltip=[alt.Tooltip("series:N"), alt.Tooltip("period:T"), alt.Tooltip("value:Q")]
    )
    layers: list[alt.Chart] = [line]
    if not anomalies.empty:
        points = (
            alt.Chart(anomalies)
            .mark_point(filled=True, size=60, color="#dc2626", shape="triangle-up")
            .encode(
                x="period:T",
                y="value:Q",
                tooltip=[
                    alt.Tooltip("series:N"),
                    alt.Tooltip("period:T"),
                    alt.Tooltip("value:Q"),
                    alt.Tooltip("kind:N", title="anomaly"),
                    alt.Tooltip("score:Q", format=".1f"),
                ],
            )
        )
        layers.append(points)
    chart = alt.layer(*layers).properties(
        width=WIDTH, height=240, title="Prices (red: anomalies flagged by the indicators)"
    )
    return _spec(chart.interactive(bind_y=False))


def destinations_chart(frame: pd.DataFrame) -> Spec | None:
    """Each exporter's exports by destination over time (stacked areas)."""
    if frame.empty:
        return None
    chart = (
        alt.Chart(frame)
        .mark_area()
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("sum(value_usd):Q", title="exports, USD"),
            color=alt.Color("partner:N", title="destination", sort="-y"),
            tooltip=[
                alt.Tooltip("exporter:N"),
                alt.Tooltip("partner:N"),
                alt.Tooltip("period:T"),
                alt.Tooltip("sum(value_usd):Q", format=",.0f", title="USD"),
            ],
        )
        .properties(width=WIDTH, height=220)
    )
    exporters = frame["exporter"].nunique()
    if exporters > 1:
        return _spec(chart.facet(row=alt.Row("exporter:N", title=None)))
    return _spec(chart.properties(title=f"{frame['exporter'].iloc[0]}'s exports by destination"))


def shares_chart(shares: pd.DataFrame, hhi: pd.DataFrame, basis: str) -> Spec | None:
    """Supplier shares by year (stacked to 100%) above the Herfindahl-Hirschman index."""
    if shares.empty:
        return None
    bars = (
        alt.Chart(shares)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=None),
            y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%"), title="share"),
            color=alt.Color("supplier:N", sort="-y"),
            tooltip=[
                alt.Tooltip("year:O"),
                alt.Tooltip("supplier:N"),
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("value_usd:Q", format=",.0f", title="USD"),
            ],
        )
        .properties(width=WIDTH, height=180, title=f"Supplier shares ({basis})")
    )
    line = (
        alt.Chart(hhi)
        .mark_line(point=True, color="#111827")
        .encode(
            x=alt.X("year:O", title=None),
            y=alt.Y("hhi:Q", scale=alt.Scale(domain=[0, 1]), title="HHI"),
            tooltip=[alt.Tooltip("year:O"), alt.Tooltip("hhi:Q", format=".3f"), "suppliers:Q"],
        )
    )
    # 0.25 is the usual "highly concentrated" line (2,500 on the 0-10,000 scale).
    rule = (
        alt.Chart(pd.DataFrame({"y": [0.25]}))
        .mark_rule(strokeDash=[4, 4], color="#dc2626")
        .encode(y="y:Q")
    )
    index = alt.layer(line, rule).properties(
        width=WIDTH, height=110, title="Concentration (HHI; dashed: highly concentrated)"
    )
    return _spec(alt.vconcat(bars, index))


def anomalies_chart(anomalies: pd.DataFrame, title: str) -> Spec | None:
    """Scores of flagged anomalies over time, one colour per series."""
    if anomalies.empty:
        return None
    chart = (
        alt.Chart(anomalies)
        .mark_circle(size=70)
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("score:Q", title="robust z"),
            color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["series:N", "period:T", "kind:N", alt.Tooltip("score:Q", format=".1f")],
        )
        .properties(width=WIDTH, height=160, title=title)
    )
    return _spec(chart)


def events_chart(frame: pd.DataFrame) -> Spec | None:
    """The events timeline: one mark per event, by type."""
    if frame.empty:
        return None
    chart = (
        alt.Chart(frame)
        .mark_tick(thickness=3, size=18)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("event_type:N", title=None),
            color=alt.Color("event_type:N", legend=None),
            tooltip=[
                "date:T",
                "event_type:N",
                "country:N",
                "lang:N",
                "evidence:N",
                alt.Tooltip("english:N", title="in English"),
            ],
        )
        .properties(width=WIDTH, title="Events found in news and notices")
    )
    return _spec(chart)


def level_chart(history: pd.DataFrame) -> Spec | None:
    """An alert's level over its versions (step line, points coloured by level)."""
    if history.empty:
        return None
    y = alt.Y(
        "rank:Q",
        scale=alt.Scale(domain=[0, len(LEVELS) - 1]),
        axis=alt.Axis(
            values=list(range(len(LEVELS))),
            labelExpr="[" + ",".join(f"'{v}'" for v in LEVELS) + "][datum.value]",
        ),
        title=None,
    )
    base = alt.Chart(history).encode(x=alt.X("sent:T", title=None), y=y)
    step = base.mark_line(interpolate="step-after", color="#9ca3af")
    points = base.mark_point(filled=True, size=80).encode(
        color=alt.Color("level:N", scale=_level_scale(), legend=None),
        tooltip=["version:Q", "sent:T", "level:N", alt.Tooltip("score:Q", format=".2f")],
    )
    return _spec(alt.layer(step, points).properties(width=WIDTH, height=150, title="Level"))


def board_chart(frame: pd.DataFrame) -> Spec | None:
    """Alert versions issued per month, by level."""
    if frame.empty:
        return None
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title=None),
            y=alt.Y("count():Q", title="alert versions"),
            color=alt.Color("level:N", scale=_level_scale(), sort=list(LEVELS)),
            tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "level:N", "count():Q"],
        )
        .properties(width=WIDTH, height=140)
    )
    return _spec(chart)


def concentration_chart(frame: pd.DataFrame) -> Spec | None:
    """Top supplier's share per family and view, labelled with the supplier."""
    if frame.empty:
        return None
    base = alt.Chart(frame).encode(
        y=alt.Y("family:N", sort="-x", title=None),
        x=alt.X("share:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title=None),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("supplier:N", title="top supplier"),
        yOffset="view:N",
        tooltip=[
            "family:N",
            "view:N",
            "supplier:N",
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
        width=WIDTH - 120, title="Top supplier's share (dashed: half of supply)"
    )
    return _spec(chart)


def country_chart(frame: pd.DataFrame, country: str) -> Spec | None:
    if frame.empty:
        return None
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=None),
            y=alt.Y("value_usd:Q", title="USD"),
            color=alt.Color("family:N"),
            column=alt.Column("direction:N", title=None),
            tooltip=[
                "family:N",
                "year:O",
                "direction:N",
                alt.Tooltip("value_usd:Q", format=",.0f"),
            ],
        )
        .properties(width=300, height=200, title=f"Critical items traded by {country}")
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
