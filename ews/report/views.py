"""What the dashboard and the weekly brief show: data frames from the stages' read sides.

Every figure comes from stored observations, indicator runs, events and alerts; where the
store holds nothing for a chart the frame is empty and the page says so, rather than drawing
invented numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ews.alerts.board import versions_of
from ews.alerts.records import LEVELS, Alert
from ews.alerts.repository import load_alerts
from ews.catalog import Catalog
from ews.indicators import queries as indicators
from ews.indicators.anomalies import parse_trade_key
from ews.records import WORLD, Item
from ews.report.formats import source_name
from ews.risk.config import latest, load_priors
from ews.store import Store
from ews.text.gloss import Glossary
from ews.text.ingest import outlet_of
from ews.text.queries import EventFilter, list_events
from ews.text.render import Rendering, evidence_key, render_row

TOP_PARTNERS = 7
OTHERS = "Others"


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


# -- prices ------------------------------------------------------------------------------------
def prices(store: Store, item: Item) -> pd.DataFrame:
    """Monthly price series linked to the item: series, series_key, period, value, unit and
    source (the source's id, which a chart cites)."""
    out = [
        {
            "series": f"{r['series_name']} ({r['unit']})",
            "series_key": f"price:{r['source_id']}:{r['series_id']}",
            "period": r["period"],
            "value": r["value"],
            "unit": r["unit"],
            "source": r["source_id"],
        }
        for r in indicators.item_prices(store, item)
    ]
    return _frame(out, ["series", "series_key", "period", "value", "unit", "source"])


def price_anomalies(store: Store, price_frame: pd.DataFrame) -> pd.DataFrame:
    """Anomalies of the newest price run on the series in ``price_frame``."""
    run = indicators.latest_run(store, "prices")
    columns = ["series", "period", "value", "score", "kind", "method"]
    if run is None or price_frame.empty:
        return _frame([], columns)
    names = dict(zip(price_frame["series_key"], price_frame["series"], strict=False))
    rows = indicators.run_anomalies(store, run, series_keys=sorted(names))
    return _frame([{**r, "series": names[r["series_key"]]} for r in rows], columns)


# -- trade -------------------------------------------------------------------------------------
def trade_rows(store: Store, item: Item) -> pd.DataFrame:
    """Trade observations of the item: reporter, partner, flow, freq, period, value_usd and
    source (the source's id)."""
    rows = [{**r, "source": r["source_id"]} for r in indicators.item_trade(store, item)]
    return _frame(rows, ["reporter", "partner", "flow", "freq", "period", "value_usd", "source"])


def destinations(trade: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Each exporter's monthly exports by destination: the top partners, the rest as Others.

    This is the view in which a supplier's export stop shows first (China's gallium and
    germanium exports fell to zero in August 2023), before any importer's statistics.
    Columns: exporter, partner, period, value_usd, freq (M when monthly rows exist, else the
    rows' own) and source (the ids of the sources, joined with "; ").
    """
    columns = ["exporter", "partner", "period", "value_usd", "freq", "source"]
    exports = trade[(trade["flow"] == "export") & (trade["partner"] != WORLD)]
    if exports.empty:
        return _frame([], columns)
    monthly = exports[exports["freq"] == "M"]
    exports = monthly if not monthly.empty else exports
    frames = []
    for exporter, rows in exports.groupby("reporter"):
        top = rows.groupby("partner")["value_usd"].sum().nlargest(TOP_PARTNERS).index
        named = rows.assign(
            partner=rows["partner"].where(rows["partner"].isin(top), OTHERS),
            exporter=catalog.country_name(str(exporter)),
        )
        named["partner"] = [
            p if p == OTHERS else catalog.country_name(str(p)) for p in named["partner"]
        ]
        summed = named.groupby(["exporter", "partner", "period"], as_index=False)["value_usd"]
        frames.append(
            summed.sum().assign(
                freq="/".join(sorted(rows["freq"].unique())), source=_joined(rows["source"])
            )
        )
    return pd.concat(frames, ignore_index=True)[columns]


def _joined(values: pd.Series) -> str:
    """The distinct values of a column, sorted and joined with "; " (a frame's sources)."""
    return "; ".join(sorted({str(v) for v in values if v}))


def supplier_shares(
    trade: pd.DataFrame, catalog: Catalog, importer: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Supplier shares of an importer's (or the world's) purchases by year, and their HHI.

    For an importer its own import statistics count first; where it has none for a supplier
    and year, the supplier's exports to it stand in (mirror data). For the world, suppliers'
    exports count. Returns (shares, hhi, basis) where basis says which flows were used, so
    that a store holding one reporter's customs data shows a share of *recorded* flows and
    says so. The shares also carry ``measure`` (whose flows are shared out: "imports" or
    "exports") and ``source`` (the ids of the sources used).
    """
    share_cols = ["year", "supplier", "value_usd", "share", "measure", "source"]
    hhi_cols = ["year", "hhi", "suppliers"]
    if trade.empty:
        return _frame([], share_cols), _frame([], hhi_cols), "no trade data"
    t = trade.assign(year=[p.year for p in trade["period"]])
    if importer is None:
        exp = t[(t["flow"] == "export")].assign(supplier=t["reporter"])
        bilateral = exp[exp["partner"] != WORLD]
        # The world row when a reporter gives only totals, else the sum of its partners.
        totals = exp[exp["partner"] == WORLD]
        use = pd.concat(
            [bilateral, totals[~totals["reporter"].isin(bilateral["reporter"].unique())]]
        )
        basis = "suppliers' reported exports"
    else:
        imp = t[(t["flow"] == "import") & (t["reporter"] == importer) & (t["partner"] != WORLD)]
        imp = imp.assign(supplier=imp["partner"])
        if imp.empty:
            # Without the importer's own statistics its suppliers' shares cannot be read off
            # the one or two exporters whose figures are held: China's exports to Korea
            # would show as "100 % China" (HHI 1.0). Say what is missing instead.
            exporters = sorted(
                {catalog.country_name(str(r)) for r in t[t["partner"] == importer]["reporter"]}
            )
            held = f"; only {', '.join(exporters)}'s exports to it are held" if exporters else ""
            return (
                _frame([], share_cols),
                _frame([], hhi_cols),
                f"{catalog.country_name(importer)}'s own import statistics are not in the "
                f"store, so its suppliers' shares are unknown{held}",
            )
        mirror = t[(t["flow"] == "export") & (t["partner"] == importer)]
        mirror = mirror.assign(supplier=mirror["reporter"])
        have = set(zip(imp["year"], imp["supplier"], strict=False))
        keep = [
            (y, s) not in have for y, s in zip(mirror["year"], mirror["supplier"], strict=False)
        ]
        use = pd.concat([imp, mirror[keep]])
        basis = "importer's statistics, suppliers' exports where missing"
    if use.empty:
        return _frame([], share_cols), _frame([], hhi_cols), "no trade data for this view"
    # A year counts only when complete for monthly data, so a partial year is not a "drop".
    months = use[use["freq"] == "M"].groupby("year")["period"].nunique()
    partial = set(months[months < 12].index)
    use = use[~use["year"].isin(partial)]
    if use.empty:
        return _frame([], share_cols), _frame([], hhi_cols), "no complete year"
    by = use.groupby(["year", "supplier"], as_index=False)["value_usd"].sum()
    total = by.groupby("year")["value_usd"].transform("sum")
    by["share"] = by["value_usd"] / total
    by = by[by["value_usd"] > 0]
    hhi = by.groupby("year").agg(
        hhi=("share", lambda s: float((s**2).sum())), suppliers=("supplier", "nunique")
    )
    by["supplier"] = [catalog.country_name(str(s)) for s in by["supplier"]]
    by["measure"] = "exports" if importer is None else "imports"
    by["source"] = _joined(use["source"])
    if by["supplier"].nunique() == 1:
        basis += f"; only {by['supplier'].iloc[0]} reports this item in the store"
    return by[share_cols], hhi.reset_index()[hhi_cols], basis


def trade_anomalies(store: Store, item: Item, catalog: Catalog) -> pd.DataFrame:
    """Anomalies of the newest trade run on the item's flows (``trade:CN>KR:export:250410``)."""
    run = indicators.latest_run(store, "trade")
    columns = ["series", "period", "value", "score", "kind", "method", "source"]
    if run is None:
        return _frame([], columns)
    source = "; ".join(indicators.run_sources(store, run))
    out = []
    for r in indicators.run_anomalies(store, run, prefix="trade:"):
        key = parse_trade_key(str(r["series_key"]))
        if key is None:
            continue
        product = key.product
        if product.startswith("group:"):
            match = product.removeprefix("group:") == item.group
        else:
            match = product.startswith(item.hs) or item.hs.startswith(product)
        if not match:
            continue
        # "*" and WLD are a reporter's total over all partners.
        to = "all partners" if key.partner in ("*", WORLD) else catalog.country_name(key.partner)
        label = f"{catalog.country_name(key.reporter)} → {to} ({key.flow})"
        out.append({**r, "series": label, "source": source})
    return _frame(out, columns)


# -- events ------------------------------------------------------------------------------------
@dataclass
class EventRow:
    """One evidence sentence as a display list shows it: the earliest event carrying it, its
    English rendering, and how many documents (and distinct sources) carried the same sentence."""

    event_id: str
    date: dt.date
    event_type: str
    country: str | None
    country_name: str
    lang: str
    evidence: str
    link: str | None
    source_id: str
    confidence: float
    glosses: list[tuple[str, str]] = field(default_factory=list)
    rendering: Rendering | None = None
    items: list[str] = field(default_factory=list)
    documents: int = 1
    """Documents that carried this sentence (1 when it was seen once)."""
    sources: int = 1
    """Distinct outlets (link hosts, else source ids) among those documents."""
    event_ids: list[str] = field(default_factory=list)
    doc_id: str = ""
    also: list[Rendering] = field(default_factory=list)
    """Other readings of the same sentence (another type, country or goods), shown once each."""

    @property
    def carried(self) -> str:
        """ "3 documents from 2 sources", or "" for a sentence seen once."""
        if self.documents <= 1:
            return ""
        docs = f"{self.documents} documents"
        return docs + (f" from {self.sources} sources" if self.sources > 1 else " from 1 source")


def events(
    store: Store,
    catalog: Catalog,
    glossary: Glossary,
    *,
    item: Item | None = None,
    country: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 200,
) -> list[EventRow]:
    """Events about the item and/or country, newest first, with matched terms glossed and an
    English rendering; events carrying the same sentence are shown once (see
    :func:`collapse_events`)."""
    f = EventFilter(
        item=item.hs if item is not None else None,
        related=True,
        country=country,
        since=since,
        until=until,
    )
    out = []
    for r in list_events(store, f, limit=limit, with_items=True):
        out.append(
            EventRow(
                event_id=r["event_id"],
                date=r["event_date"],
                event_type=r["event_type"],
                country=r["country"],
                country_name=catalog.country_name(r["country"]) if r["country"] else "—",
                lang=r["lang"],
                evidence=r["evidence"],
                link=r["link"],
                source_id=r["source_id"],
                confidence=float(r["confidence"]),
                glosses=[(g.term, g.english) for g in glossary.gloss_all(r["matched"])],
                rendering=render_row(r, catalog, glossary),
                items=list(r["items"]),
                event_ids=[r["event_id"]],
                doc_id=r["doc_id"],
            )
        )
    return collapse_events(out)


def collapse_events(rows: list[EventRow]) -> list[EventRow]:
    """One row per evidence sentence (compared NFC, whitespace-folded and case-folded): the
    earliest event's row (its date, link and source), counting the documents and distinct
    outlets that carried the sentence; other readings of the sentence are kept in ``also``.
    Rows without text (a partner's event) stay one per event. Newest first."""
    groups: dict[str, list[EventRow]] = {}
    for row in rows:
        key = evidence_key(row.evidence) if row.evidence else f"\0{row.event_id}"
        groups.setdefault(key, []).append(row)
    out: list[EventRow] = []
    for members in groups.values():
        members.sort(key=lambda r: (r.date, -r.confidence, r.event_id))
        first = members[0]
        first.documents = len({r.doc_id or r.event_id for r in members})
        first.sources = len({outlet_of(r.link or r.source_id) for r in members})
        first.event_ids = [e for r in members for e in (r.event_ids or [r.event_id])]
        first.confidence = max(r.confidence for r in members)
        seen = {first.rendering.summary() if first.rendering else ""}
        for r in members[1:]:
            for rendering in [r.rendering, *r.also]:
                if rendering is not None and rendering.summary() not in seen:
                    seen.add(rendering.summary())
                    first.also.append(rendering)
        out.append(first)
    out.sort(key=lambda r: (r.date, r.event_id), reverse=True)
    return out


def events_frame(rows: list[EventRow]) -> pd.DataFrame:
    return _frame(
        [
            {
                "date": r.date,
                "event_type": r.event_type.replace("_", " "),
                "country": r.country_name,
                "lang": r.lang,
                "evidence": (r.evidence[:140] + "…") if len(r.evidence) > 140 else r.evidence,
                "english": r.rendering.summary() if r.rendering is not None else "",
                "documents": r.documents,
                "source": r.source_id,
            }
            for r in rows
        ],
        ["date", "event_type", "country", "lang", "evidence", "english", "documents", "source"],
    )


# -- alerts ------------------------------------------------------------------------------------
def alert_versions(store: Store, alert_id: str) -> list[Alert]:
    return versions_of(store.memo("alerts", load_alerts), alert_id)


def level_history(versions: list[Alert]) -> pd.DataFrame:
    """An alert's level over time, one row per version (for a step chart), with the node
    that issued it (``origin``)."""
    return _frame(
        [
            {
                "sent": a.sent.date(),
                "level": a.level,
                "rank": LEVELS.index(a.level),
                "score": a.score,
                "version": a.version,
                "origin": a.origin_node,
            }
            for a in versions
        ],
        ["sent", "level", "rank", "score", "version", "origin"],
    )


def alerts_by_month(entries: list[Alert]) -> pd.DataFrame:
    """Alert versions issued per month and level (the board's overview chart), with the node
    that issued each (``origin``)."""
    return _frame(
        [
            {
                "month": dt.date(a.sent.year, a.sent.month, 1),
                "level": a.level,
                "origin": a.origin_node,
            }
            for a in entries
        ],
        ["month", "level", "origin"],
    )


# -- concentration -----------------------------------------------------------------------------
def _family_name(catalog: Catalog, group: str) -> str:
    return catalog.groups[group].names["en"] if group in catalog.groups else group


def concentration(store: Store, catalog: Catalog) -> pd.DataFrame:
    """Top supplier's share for each family: computed from dependence runs, else the priors.

    Columns: family, view (whose purchases), supplier, share, basis, source.
    """
    columns = ["family", "view", "supplier", "share", "basis", "source"]
    out: list[dict[str, Any]] = []
    run = indicators.latest_run(store, "dependence")
    if run is not None:
        names = sorted({source_name(s) for s in indicators.run_sources(store, run)})
        inputs = ", ".join(names) or "trade data"
        for r in indicators.newest_dependence(store, run):
            item = catalog.item_for_code(str(r["product_key"]).removeprefix("group:"))
            family = (
                catalog.groups[item.group].names["en"] if item is not None else r["product_key"]
            )
            out.append(
                {
                    "family": family,
                    "view": f"{catalog.country_name(r['importer'])} imports",
                    "supplier": catalog.country_name(r["top_supplier"]),
                    "share": r["top_share"],
                    "basis": f"computed from trade data, {r['year']}",
                    "source": f"computed by this node from {inputs} (indicator run {run})",
                }
            )
    priors = load_priors()
    for group, suppliers in priors.supplier_share.items():
        for code, vintages in suppliers.items():
            prior = latest(vintages)
            out.append(
                {
                    "family": _family_name(catalog, group),
                    "view": "world supply",
                    "supplier": catalog.country_name(code),
                    "share": prior.share,
                    "basis": f"{prior.basis} (public {prior.known})",
                    "source": prior.source,
                }
            )
    for importer, groups in priors.importer_dependence.items():
        for group, suppliers in groups.items():
            for code, vintages in suppliers.items():
                prior = latest(vintages)
                out.append(
                    {
                        "family": _family_name(catalog, group),
                        "view": f"{catalog.country_name(importer)} imports",
                        "supplier": catalog.country_name(code),
                        "share": prior.share,
                        "basis": f"{prior.basis} (public {prior.known})",
                        "source": prior.source,
                    }
                )
    return _frame(out, columns)


def dependent_items(store: Store, catalog: Catalog, country: str) -> pd.DataFrame:
    """Items the country depends on: from the newest dependence run and the priors."""
    columns = ["hs", "item", "supplier", "share", "hhi", "year", "basis"]
    out: list[dict[str, Any]] = []
    run = indicators.latest_run(store, "dependence")
    if run is not None:
        for r in indicators.dependent_products(store, run, country):
            item = catalog.item_for_code(str(r["product_key"]).removeprefix("group:"))
            out.append(
                {
                    "hs": item.hs if item else r["product_key"],
                    "item": item.names["en"] if item else r["product_key"],
                    "supplier": catalog.country_name(r["top_supplier"]),
                    "share": r["top_share"],
                    "hhi": r["hhi"],
                    "year": r["year"],
                    "basis": "computed from trade data",
                }
            )
    # A sourced figure measures what its basis says (Korea's urea figure is industrial urea,
    # not ammonium sulphate or ammonia): one row per family, named as the family, never
    # copied onto each of the family's items as if each had been measured.
    priors = load_priors().importer_dependence
    for group, suppliers in priors.get(country, {}).items():
        members = catalog.items_in_group(group)
        if not members:
            continue
        family = catalog.groups[group].names["en"] if group in catalog.groups else group
        for code, vintages in suppliers.items():
            prior = latest(vintages)
            out.append(
                {
                    "hs": members[0].hs,
                    "item": f"{family} (family)",
                    "supplier": catalog.country_name(code),
                    "share": prior.share,
                    "hhi": None,
                    "year": prior.known.year,
                    "basis": f"{prior.basis} ({prior.source}, public {prior.known})",
                }
            )
    return _frame(out, columns)


def country_trade(store: Store, catalog: Catalog, country: str) -> pd.DataFrame:
    """Yearly value of critical items the country exports or (by any report) receives:
    family, year, direction, value_usd and source (the ids of the sources, joined)."""
    out = []
    for r in indicators.country_trade(store, country):
        code = str(r["code"])
        item = catalog.item_for_code(code)
        name = (
            catalog.groups[item.group].names["en"]
            if item is not None
            else _family_name(catalog, code)
        )
        out.append({**r, "family": name, "source": r["source_id"]})
    frame = _frame(out, ["family", "year", "direction", "value_usd", "source"])
    if frame.empty:
        return frame
    return frame.groupby(["family", "year", "direction"], as_index=False).agg(
        value_usd=("value_usd", "sum"), source=("source", _joined)
    )
