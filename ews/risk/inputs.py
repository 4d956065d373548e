"""Turning the other stages' outputs into signals: text events and measured anomalies."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ews.catalog import Catalog
from ews.records import WORLD
from ews.risk.config import RiskConfig, load_chokepoints
from ews.risk.signals import Signal
from ews.store import Store
from ews.text.ingest import outlet_of

# Anomaly kinds that point to a supply problem (a rise in exports does not).
SUPPLY_ANOMALIES = {"trade_drop", "unit_value_jump"}
PRICE_ANOMALIES = {"price_spike", "price_jump"}


def _month_end(period: dt.date) -> dt.date:
    nxt = dt.date(period.year + period.month // 12, period.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


# Publication dates are read on the publisher's calendar: an article stamped 20:00 UTC in Seoul
# appeared the next morning there. Offsets by language where the store has no better clue.
LOCAL_UTC_OFFSET_HOURS = {"vi": 7, "zh": 8, "ko": 9, "ja": 9}

# Hosts of governments and their agencies: a notice there is the measure itself, not a report.
_OFFICIAL_SUFFIXES = (
    ".gov",
    ".gov.cn",
    ".go.jp",
    ".go.kr",
    ".gov.vn",
    ".gov.uk",
    ".gov.au",
    ".gc.ca",
    ".gob.mx",
    ".gov.in",
    ".go.id",
    "europa.eu",
    "federalregister.gov",
)


def official_host(link: str | None) -> bool:
    """Whether ``link`` points to a government site (its notice is the measure itself)."""
    if not link or "://" not in link:
        return False
    host = outlet_of(link)
    return any(host == s.lstrip(".") or host.endswith(s) for s in _OFFICIAL_SUFFIXES)


def local_date(published: dt.datetime | dt.date | None, lang: str | None) -> dt.date | None:
    """The publisher's calendar date of a UTC publication time."""
    if published is None:
        return None
    if not isinstance(published, dt.datetime):
        return published
    return (published + dt.timedelta(hours=LOCAL_UTC_OFFSET_HOURS.get(lang or "", 0))).date()


_Target = tuple[str, str | None, str]
"""Family, supplier and chokepoint ("" when none) a text event concerns."""

ROUTE_TYPES = frozenset({"logistics_disruption", "conflict"})
"""Event types that, told of a chokepoint, concern everything shipped through it."""


def event_signals(
    store: Store, catalog: Catalog, config: RiskConfig, *, stats: dict[str, int] | None = None
) -> list[Signal]:
    """Signals from text events: one per (story, family, supplier, outlet), each known on the
    day that outlet published it, so a story grows stronger as outlets take it up and never
    before.

    - A control (``config.standing.kinds``) on a named supplier, told by an official source or
      by a second outlet, is *standing*: it holds until eased rather than fading as news does.
    - A sentence telling a measure dated well before its own publication
      (``config.standing.backward_days``) is background, not news, and is left out.
    - A disruption or conflict at a chokepoint (``chokepoints.yaml``) concerns every supplier
      and family shipped through it, whatever goods the sentence names.
    """
    rows = store.query(
        """
        SELECT e.event_id, e.doc_id, e.lang, e.event_type, e.country, e.event_date, e.evidence,
               e.confidence, coalesce(e.cluster_id, e.event_id) AS cluster,
               d.published, d.link, d.source_id,
               coalesce(d.link, d.source_id) AS outlet_key,
               coalesce(s.kind = 'notices', false) OR coalesce(ls.official, false) AS official,
               list(i.hs) FILTER (WHERE i.hs IS NOT NULL) AS items
        FROM events e
        LEFT JOIN event_items i USING (event_id)
        LEFT JOIN documents d USING (doc_id)
        LEFT JOIN sources s ON s.id = d.source_id
        LEFT JOIN live_sources ls ON ls.id = d.source_id
        WHERE e.event_type <> 'cooperation'
        GROUP BY ALL
        """
    )
    counts = stats if stats is not None else {}
    chokepoints = load_chokepoints()
    backward = dt.timedelta(days=config.standing.backward_days)
    buckets: dict[tuple[str, _Target], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        day = local_date(r["published"], r["lang"]) or r["event_date"]
        if r["event_date"] < day - backward:
            counts["backward-looking"] = counts.get("backward-looking", 0) + 1
            continue
        r["day"] = day
        r["official"] = bool(r["official"]) or official_host(r["link"])
        items = [h for h in (r["items"] or []) if h in catalog.items]
        r["items"] = items
        country = r["country"] if r["country"] in catalog.countries else None
        targets: set[_Target] = {(catalog.items[h].group, country, "") for h in items}
        if r["event_type"] in ROUTE_TYPES:
            for key, point in chokepoints.items():
                if point.named_in(r["evidence"]):
                    for shipper, groups in point.through.items():
                        targets.update((g, shipper, key) for g in groups if g in catalog.groups)
        for target in targets:
            buckets[(r["cluster"], target)].append(r)
    out: list[Signal] = []
    base = config.event_source_base
    for (cluster, (group, supplier, via)), members in buckets.items():
        members.sort(key=lambda r: (r["day"], r["event_id"]))
        first_by_outlet: dict[str, dict[str, Any]] = {}
        for m in members:
            first_by_outlet.setdefault(outlet_of(m["outlet_key"] or "?"), m)
        ordered = sorted(first_by_outlet.items(), key=lambda kv: (kv[1]["day"], kv[0]))
        for k, (outlet, m) in enumerate(ordered, start=1):
            confidence = float(m["confidence"])
            # An official notice is the measure itself: it counts as two independent reports.
            reports = 2 if m["official"] else 1
            strength = min(1.0, 1.0 - (1.0 - base * confidence) ** reports)
            standing = (
                m["event_type"] in config.standing.kinds
                and supplier is not None
                and not via
                and (m["official"] or k >= 2)
            )
            hs = sorted(h for h in m["items"] if catalog.items[h].group == group)
            known = m["day"]
            told = m["country"] or "country unknown"
            route = (
                f" at the {chokepoints[via].name}, which {supplier}'s exports pass" if via else ""
            )
            out.append(
                Signal(
                    kind="event",
                    type=m["event_type"],
                    ref=f"{cluster}:{group}:{outlet}" + (f":{via}:{supplier}" if via else ""),
                    group=group,
                    hs=tuple(hs),
                    supplier=supplier,
                    observed=known,
                    known=known,
                    strength=strength,
                    standing=standing,
                    summary=(
                        f"{m['event_type']} ({told}){route}, "
                        f"{'official notice' if m['official'] else 'reported'} by {outlet} "
                        f"on {known} (source {k} of this story)"
                        + (f", effective {m['event_date']}" if m["event_date"] > known else "")
                        + ("; in force until eased" if standing else "")
                    ),
                    sources=k,
                    lang=m["lang"],
                    text=m["evidence"],
                    link=m["link"],
                    source=m["source_id"],
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
