"""The map of suppliers and chokepoints (the dashboard's ``/map``): what it shows and its spec.

:func:`supply_map` reads the open alerts the way every board does (``ews.alerts.board``) and
sums them per supplier country and per chokepoint; :func:`map_chart` draws that as a Vega-Lite
world map. The world's shapes are not in the spec: it names :data:`WORLD_URL`, which the node
serves from its own package (``ews/web/static/world-110m.json``, Natural Earth 1:110m, see the
README beside it), and Vega loads it in the browser. So a page carries only the alert figures,
a browser fetches the 100 kB of geometry once and caches it, and no host but this node is
asked. The spec therefore renders only where that URL resolves: in the dashboard, not through
``charts.to_svg``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import altair as alt
import pandas as pd

from ews.alerts.board import BoardEntry, BoardFilter, board
from ews.alerts.records import LEVELS, Alert, Level, level_rank
from ews.catalog import Catalog
from ews.report.charts import LEVEL_COLOURS, Spec
from ews.risk.config import Chokepoint, load_chokepoints

WORLD_URL = "/static/world-110m.json"
WORLD_OBJECT = "countries"
"""The TopoJSON object holding the countries; each geometry's ``id`` is its ISO 3166-1
numeric code (a string, zero-padded: ``"036"``), which the catalogue maps to alpha-2."""
ANTARCTICA = "010"
NO_ALERT = "no open alert"
NO_ALERT_COLOUR = "#e5e7eb"  # lighter than the grey of "normal", which an open alert can have
CHOKEPOINT_COLOUR = "#1f2937"
SEA_COLOUR = "#eef4f9"
NAMED_COLOUR = LEVEL_COLOURS["serious"]
LABEL_LEFT = frozenset({"suez"})
"""Chokepoints labelled on the left of their mark: Suez's label on the right would run into
Hormuz's, 24 degrees east and 4 south."""
MAP_WIDTH = 900
MAP_HEIGHT = 430
FRAME: dict[str, object] = {
    "type": "Feature",
    "properties": {},
    "geometry": {
        "type": "MultiPoint",
        "coordinates": [[-179.9, 0], [179.9, 0], [0, 84], [0, -57]],
    },
}
"""What the projection is fitted to: the inhabited world, from Greenland's north to Tierra
del Fuego, edge to edge at the equator. Fitted to the shapes instead, Vega kept the height
of the whole sphere and left a band of empty map."""


@dataclass(frozen=True)
class SupplierRow:
    """One supplier country with open alerts."""

    iso2: str
    numeric: str
    """Its ISO 3166-1 numeric code: how the map's geometry names it ("" when unknown)."""
    name: str
    level: Level
    """The highest current level among its open alerts."""
    alerts: int


@dataclass(frozen=True)
class ChokepointRow:
    """One chokepoint of ``ews/risk/chokepoints.yaml`` and the open alerts it stands behind."""

    key: str
    name: str
    lat: float
    lon: float
    alerts: int
    """Open alerts whose evidence is a disruption or conflict told of this chokepoint."""

    @property
    def named(self) -> bool:
        return self.alerts > 0


@dataclass(frozen=True)
class SupplyMap:
    """What the map page shows: suppliers highest level first, every known chokepoint."""

    suppliers: list[SupplierRow]
    chokepoints: list[ChokepointRow]
    importer: str | None
    """The watching country asked for; None for every view."""
    importer_numeric: str
    """Its numeric code, to outline it on the map ("" for none)."""
    worldwide: int
    """Open alerts naming no supplier country (world supply), which no country can show."""


def open_entries(
    alerts: Iterable[Alert], *, importer: str | None = None, include_red: bool = False
) -> list[BoardEntry]:
    """The open alerts of the board; with ``importer``, those of its own view and the global
    ones (an alert with no watching country concerns every importer)."""
    entries = board(alerts, BoardFilter(status="open", include_red=include_red))
    if importer is None:
        return entries
    return [e for e in entries if e.alert.importer in (None, importer)]


def chokepoints_behind(alert: Alert, chokepoints: Iterable[str]) -> set[str]:
    """The chokepoints whose disruption is evidence of ``alert``.

    An event signal told of a chokepoint carries ``:<chokepoint>:<supplier>`` in its ref
    (``ews.risk.inputs.event_signals``), and the alert's evidence keeps the ref. Matching on
    the supplier too keeps a chokepoint key that happens to be part of a cluster id or an
    outlet's name from counting.
    """
    refs = [f"{e.ref}:" for e in alert.evidence if e.kind == "event"]
    supplier = alert.supplier or ""
    return {key for key in chokepoints if any(f":{key}:{supplier}:" in ref for ref in refs)}


def supply_map(
    alerts: Iterable[Alert],
    catalog: Catalog,
    *,
    importer: str | None = None,
    include_red: bool = False,
    chokepoints: Mapping[str, Chokepoint] | None = None,
) -> SupplyMap:
    """Open alerts per supplier country and per chokepoint (see module)."""
    points = load_chokepoints() if chokepoints is None else chokepoints
    entries = open_entries(alerts, importer=importer, include_red=include_red)
    highest: dict[str, Level] = {}
    counts: dict[str, int] = {}
    behind: dict[str, int] = dict.fromkeys(points, 0)
    worldwide = 0
    for e in entries:
        a = e.alert
        for key in chokepoints_behind(a, points):
            behind[key] += 1
        if a.supplier is None:
            worldwide += 1
            continue
        counts[a.supplier] = counts.get(a.supplier, 0) + 1
        if a.supplier not in highest or level_rank(a.level) > level_rank(highest[a.supplier]):
            highest[a.supplier] = a.level
    suppliers = []
    for code, level in highest.items():
        country = catalog.countries.get(code)
        suppliers.append(
            SupplierRow(
                iso2=code,
                numeric=country.numeric if country else "",
                name=catalog.country_name(code),
                level=level,
                alerts=counts[code],
            )
        )
    suppliers.sort(key=lambda r: (-level_rank(r.level), -r.alerts, r.name))
    rows = [
        ChokepointRow(key=key, name=p.name, lat=p.lat, lon=p.lon, alerts=behind[key])
        for key, p in points.items()
    ]
    watching = catalog.countries.get(importer) if importer else None
    return SupplyMap(
        suppliers=suppliers,
        chokepoints=rows,
        importer=importer,
        importer_numeric=watching.numeric if watching else "",
        worldwide=worldwide,
    )


def map_chart(supply: SupplyMap) -> Spec:
    """The world, supplier countries coloured by their highest open level, chokepoints marked
    (red when an open alert stands on a disruption there) and labelled."""
    countries = pd.DataFrame(
        [
            {"id": r.numeric, "iso2": r.iso2, "name": r.name, "level": r.level, "n": r.alerts}
            for r in supply.suppliers
            if r.numeric
        ],
        columns=["id", "iso2", "name", "level", "n"],
    )
    watching = f"datum.id === '{supply.importer_numeric}'"
    shapes = (
        alt.Chart(alt.topo_feature(WORLD_URL, WORLD_OBJECT))
        .mark_geoshape()
        # No supplier there, and at this scale it takes a fifth of the map's height.
        .transform_filter(f"datum.id !== '{ANTARCTICA}'")
        .transform_lookup(
            lookup="id",
            from_=alt.LookupData(countries, "id", ["iso2", "name", "level", "n"]),
        )
        .transform_calculate(
            # The three shapes without an ISO code (N. Cyprus, Somaliland, Kosovo) and every
            # country without an open alert keep the geometry's own name.
            country="datum.name || datum.properties.name",
            level=f"datum.level || '{NO_ALERT}'",
            alerts="datum.n || 0",
        )
        .encode(
            color=alt.Color(
                "level:N",
                scale=alt.Scale(
                    domain=[NO_ALERT, *LEVELS],
                    range=[NO_ALERT_COLOUR, *(LEVEL_COLOURS[v] for v in LEVELS)],
                ),
                legend=alt.Legend(
                    title="highest open alert", orient="bottom", direction="horizontal"
                ),
            ),
            # The watching country, when one is asked for, is outlined.
            stroke=alt.condition(watching, alt.value("#111827"), alt.value("#ffffff")),
            strokeWidth=alt.condition(watching, alt.value(1.5), alt.value(0.5)),
            tooltip=[
                alt.Tooltip("country:N"),
                alt.Tooltip("level:N", title="highest open level"),
                alt.Tooltip("alerts:Q", title="open alerts"),
            ],
        )
    )
    frame = pd.DataFrame(
        [
            {
                "chokepoint": c.name,
                "lat": c.lat,
                "lon": c.lon,
                "alerts": c.alerts,
                "side": "left" if c.key in LABEL_LEFT else "right",
            }
            for c in supply.chokepoints
        ],
        columns=["chokepoint", "lat", "lon", "alerts", "side"],
    )
    colour = alt.condition(
        "datum.alerts > 0", alt.value(NAMED_COLOUR), alt.value(CHOKEPOINT_COLOUR)
    )
    marks = (
        alt.Chart(frame)
        .mark_point(shape="diamond", filled=True, size=90, stroke="#ffffff", strokeWidth=1)
        .encode(
            longitude="lon:Q",
            latitude="lat:Q",
            color=colour,
            tooltip=[
                alt.Tooltip("chokepoint:N"),
                alt.Tooltip("alerts:Q", title="open alerts on a disruption there"),
            ],
        )
    )
    # Each label twice: a white halo under the text keeps it legible over a coloured country.
    labels = [
        _label(frame, side, colour, halo=halo)
        for halo in (True, False)
        for side in ("left", "right")
    ]
    # The sea, so the empty Pacific at the frame's edges reads as ocean, not as a blank;
    # clipped to the frame, below which the sphere goes on to the pole.
    sea = alt.Chart(alt.SphereGenerator(sphere=True)).mark_geoshape(
        fill=SEA_COLOUR, stroke=None, clip=True
    )
    title = "Open alerts by supplier country, and the chokepoints"
    if supply.importer:
        title += f" (watching {supply.importer}, and global alerts)"
    chart = (
        alt.layer(sea, shapes, marks, *labels)
        .project(type="equalEarth", fit=FRAME)
        .properties(width=MAP_WIDTH, height=MAP_HEIGHT, title=title)
    )
    # Plain JSON, like every other spec the pages embed.
    spec: Spec = json.loads(json.dumps(chart.to_dict(format="vega-lite"), default=str))
    return spec


def _label(frame: pd.DataFrame, side: str, colour: Any, *, halo: bool) -> alt.Chart:
    """The chokepoints' names on one side of their marks: the text, or its white halo."""
    chart = alt.Chart(frame).transform_filter(f"datum.side === '{side}'")
    align: Literal["left", "right"] = "right" if side == "left" else "left"
    dx = -8 if side == "left" else 8
    where = {"longitude": "lon:Q", "latitude": "lat:Q", "text": "chokepoint:N"}
    if halo:
        halo_text: alt.Chart = chart.mark_text(
            align=align,
            dx=dx,
            fontSize=11,
            fontWeight="bold",
            stroke="#ffffff",
            strokeWidth=3,
            strokeOpacity=0.9,
        ).encode(**where)
        return halo_text
    text: alt.Chart = chart.mark_text(align=align, dx=dx, fontSize=11, fontWeight="bold").encode(
        **where, color=colour
    )
    return text
