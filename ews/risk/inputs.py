"""Turning the other stages' outputs into signals: text events and measured anomalies."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ews.catalog import Catalog
from ews.records import WORLD
from ews.risk.config import RiskConfig
from ews.risk.signals import Signal
from ews.store import Store
from ews.text.ingest import outlet_of

# Anomaly kinds that point to a supply problem (a rise in exports does not).
SUPPLY_ANOMALIES = {"trade_drop", "unit_value_jump"}
PRICE_ANOMALIES = {"price_spike", "price_jump"}


def _month_end(period: dt.date) -> dt.date:
    nxt = dt.date(period.year + period.month // 12, period.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def event_signals(store: Store, catalog: Catalog, config: RiskConfig) -> list[Signal]:
    """One signal per (event cluster, family): a story told by several outlets counts once,
    stronger for each independent source."""
    rows = store.query(
        """
        SELECT e.event_id, e.doc_id, e.lang, e.event_type, e.country, e.event_date, e.evidence,
               e.confidence, coalesce(e.cluster_id, e.event_id) AS cluster,
               CAST(d.published AS DATE) AS published, d.link, d.source_id,
               coalesce(d.link, d.source_id) AS outlet_key, array_agg(i.hs) AS items
        FROM events e
        JOIN event_items i USING (event_id)
        LEFT JOIN documents d USING (doc_id)
        WHERE e.event_type <> 'cooperation'
        GROUP BY ALL
        """
    )
    clusters: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups = {catalog.items[h].group for h in r["items"] if h in catalog.items}
        for group in groups:
            clusters[(r["cluster"], group)].append(r)
    out: list[Signal] = []
    base = config.event_source_base
    for (cluster, group), members in clusters.items():
        members.sort(key=lambda r: (r["published"] or r["event_date"], r["event_id"]))
        first = members[0]
        outlets = {outlet_of(m["outlet_key"] or "?") for m in members}
        sources = max(1, len(outlets))
        confidence = max(float(m["confidence"]) for m in members)
        known = first["published"] or first["event_date"]
        hs = sorted(
            {
                h
                for m in members
                for h in m["items"]
                if h in catalog.items and catalog.items[h].group == group
            }
        )
        country = first["country"]
        out.append(
            Signal(
                kind="event",
                type=first["event_type"],
                ref=f"{cluster}:{group}",
                group=group,
                hs=tuple(hs),
                supplier=country if country in catalog.countries else None,
                observed=known,
                known=known,
                # Each independent outlet is another chance the story is right.
                strength=min(1.0, 1.0 - (1.0 - base * confidence) ** sources),
                summary=(
                    f"{first['event_type']} ({country or 'country unknown'}), "
                    f"{sources} source(s), first {known}"
                    + (f", effective {first['event_date']}" if first["event_date"] != known else "")
                ),
                sources=sources,
                lang=first["lang"],
                text=first["evidence"],
                link=first["link"],
                source=first["source_id"],
            )
        )
    return out


def _partner_shares(store: Store) -> dict[tuple[str, str, str], float]:
    """(reporter, product, partner) -> partner's share of the reporter's exports, all periods."""
    rows = store.query(
        """
        SELECT reporter, product_key, partner,
               sum(value_usd) / sum(sum(value_usd)) OVER (PARTITION BY reporter, product_key)
                   AS share
        FROM trade_observations
        WHERE flow = 'export' AND partner <> 'WLD' AND freq = 'M'
        GROUP BY reporter, product_key, partner
        """
    )
    return {(r["reporter"], r["product_key"], r["partner"]): float(r["share"] or 0.0) for r in rows}


def _strength(z: float, config: RiskConfig) -> float:
    span = config.anomaly_z_full - config.anomaly_z_floor
    return max(0.0, min(1.0, (abs(z) - config.anomaly_z_floor) / span))


def anomaly_signals(
    anomalies: Iterable[Any], store: Store, catalog: Catalog, config: RiskConfig
) -> list[Signal]:
    """Signals from the indicators stage's anomalies (trade drops, unit-value and price jumps).

    A trade anomaly's supplier is the reporting exporter; it is known ``lag_days.trade`` after
    its month ends. A price anomaly is global (no supplier) and known ``lag_days.prices``
    after its month ends.
    """
    series_hs = {
        f"price:{r['source_id']}:{r['series_id']}": r["hs"]
        for r in store.query(
            "SELECT DISTINCT source_id, series_id, hs FROM price_observations WHERE hs IS NOT NULL"
        )
    }
    shares = _partner_shares(store)
    out: list[Signal] = []
    for a in anomalies:
        key: str = a.series_key
        if key.startswith("trade:") and a.kind in SUPPLY_ANOMALIES:
            _, pair, flow, product = key.split(":", 3)
            reporter, partner = pair.split(">", 1)
            if flow != "export":
                continue
            if product.startswith("group:"):
                group = product.removeprefix("group:")
                hs: tuple[str, ...] = ()
            else:
                item = catalog.item_for_code(product)
                if item is None:
                    continue
                group, hs = item.group, (product,)
            if group not in catalog.groups:
                continue
            lag = config.lag_days.trade
            to = "all partners" if partner in (WORLD, "*") else partner
            summary = (
                f"{reporter} exports of {product} to {to}: {a.kind.replace('_', ' ')} in "
                f"{a.period:%Y-%m} (z={a.score:+.1f}, value {a.value:,.0f} vs expected "
                f"{a.baseline:,.0f})"
                if a.baseline is not None
                else f"{reporter} exports of {product} to {to}: {a.kind} in {a.period:%Y-%m} "
                f"(z={a.score:+.1f})"
            )
            supplier: str | None = reporter
            # A fall in total exports is everyone's risk; a fall in exports to one partner is
            # that partner's (its watchlist view), not a global alarm.
            importer = None if partner in (WORLD, "*") else partner
            kind = "trade_anomaly"
        elif key.startswith("price:") and a.kind in PRICE_ANOMALIES:
            code = series_hs.get(key)
            item = catalog.item_for_code(code) if code else None
            if item is None or code is None:
                continue
            group, hs, supplier, importer = item.group, (code,), None, None
            lag = config.lag_days.prices
            series = key.split(":", 2)[2]
            summary = (
                f"{series} price {a.kind.replace('_', ' ')} in {a.period:%Y-%m}: {a.value:,.2f} "
                f"(z={a.score:+.1f})"
            )
            kind = "price_anomaly"
        else:
            continue
        known = _month_end(a.period) + dt.timedelta(days=lag)
        strength = _strength(a.score, config)
        if kind == "trade_anomaly" and importer is not None:
            # The same fall also weighs on the supplier's world supply, in proportion to the
            # partner's share of the supplier's exports of the product.
            share = shares.get((supplier or "", product, importer), 0.0)
            if share * strength > 0.02:
                out.append(
                    Signal(
                        kind="trade_anomaly",
                        type=a.kind,
                        ref=f"{key}@{a.period:%Y-%m}:{a.kind}:world",
                        group=group,
                        hs=hs,
                        supplier=supplier,
                        observed=a.period,
                        known=known,
                        strength=min(1.0, strength * share),
                        summary=f"{summary}; {importer} takes {share:.0%} of these exports",
                        figure=float(a.value),
                        source=key,
                    )
                )
        out.append(
            Signal(
                kind=kind,
                type=a.kind if kind == "trade_anomaly" else kind,
                ref=f"{key}@{a.period:%Y-%m}:{a.kind}",
                group=group,
                hs=hs,
                supplier=supplier,
                importer=importer,
                observed=a.period,
                known=known,
                strength=strength,
                summary=summary,
                figure=float(a.value),
                source=key,
            )
        )
    return [s for s in out if s.strength > 0]
