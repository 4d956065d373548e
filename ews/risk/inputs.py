"""Turning the other stages' outputs into signals: text events and measured anomalies."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from ews.catalog import Catalog
from ews.indicators.anomalies import parse_trade_key
from ews.records import WORLD
from ews.risk.config import RiskConfig, StructuralPriors, as_of, load_chokepoints, load_priors
from ews.risk.signals import Signal
from ews.store import Store
from ews.text.ingest import outlet_of, wire_of

# Anomaly kinds that point to a supply problem (a rise in exports does not).
SUPPLY_ANOMALIES = {"trade_drop", "unit_value_jump", "trade_surge"}
"""Trade anomalies read by the risk stage; a surge counts only as front-loading (below)."""
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


def newest_local_date(now: dt.datetime) -> dt.date:
    """Today on the calendar of the easternmost publisher read: a live assessment runs to
    that day, or a story Seoul dated tomorrow (while it is still evening in UTC) would wait
    until midnight UTC to count."""
    return (now + dt.timedelta(hours=max(LOCAL_UTC_OFFSET_HOURS.values()))).date()


def local_today() -> dt.date:
    """:func:`newest_local_date` now: the day people asking for "today" mean, so a story
    Seoul dates today is not refused as the future (the now view, the card, ``ews now``)."""
    return newest_local_date(dt.datetime.now(dt.UTC))


_Target = tuple[str, str | None, str, str | None]
"""Family, supplier, chokepoint ("" when none) and the watching country a measure is aimed at
(None: everyone's) a text event concerns."""

AIMED_SUFFIX = ":to:"
"""A signal of a measure aimed at one country carries its world signal's ref + this + the
country: that country's view takes it instead of the world one (never both)."""

ROUTE_TYPES = frozenset({"logistics_disruption", "conflict"})
"""Event types that, told of a chokepoint, concern everything shipped through it."""

WHERE_FELT = frozenset({"shortage", "price_spike"})
"""Event types told of the place they are felt: of a country that does not supply the family
(``SUPPLIER_MIN_SHARE``), they concern world supply and that country's own view."""

SUPPLIER_MIN_SHARE = 0.05


def _supplies(priors: StructuralPriors, group: str, country: str, day: dt.date) -> bool:
    """Whether ``country`` supplies ``group`` as far as was published by ``day``.

    The priors list a family's main suppliers: a country missing from a family that has
    figures, or listed below ``SUPPLIER_MIN_SHARE``, is not one. A family with no figure yet
    gives every country the benefit of the doubt."""
    shares = {
        code: prior.share
        for code, vintages in priors.supplier_share.get(group, {}).items()
        if (prior := as_of(vintages, day)) is not None
    }
    return not shares or shares.get(country, 0.0) >= SUPPLIER_MIN_SHARE


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
        SELECT e.event_id, e.doc_id, e.lang, e.event_type, e.country, e.target, e.event_date,
               e.evidence,
               e.confidence, coalesce(e.cluster_id, e.event_id) AS cluster,
               d.published, d.link, d.source_id,
               coalesce(d.link, d.source_id) AS outlet_key,
               left(coalesce(d.body, ''), 300) AS lead,
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
    priors = load_priors()
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
        targets: set[_Target] = set()
        for group in {catalog.items[h].group for h in items}:
            if (
                country is not None
                and r["event_type"] in WHERE_FELT
                and not _supplies(priors, group, country, day)
            ):
                # "US aerospace suppliers face rare-earth shortages": a shortage where the goods
                # are bought, not made, is the world's tight supply and that buyer's own risk.
                targets.add((group, None, "", None))
                if country in config.watchlist:
                    targets.add((group, None, "", country))
            else:
                targets.add((group, country, "", None))
        aimed = r["target"]
        if (
            aimed in config.watchlist
            and r["event_type"] in config.standing.kinds
            and aimed != country
            and country is not None
        ):
            # "China bans exports of antimony to the US": the US's view hears it as its own.
            targets |= {(g, s, v, aimed) for g, s, v, _ in targets}
        if r["event_type"] in ROUTE_TYPES:
            for key, point in chokepoints.items():
                if point.named_in(r["evidence"]):
                    for shipper, groups in point.through.items():
                        targets.update(
                            (g, shipper, key, None) for g in groups if g in catalog.groups
                        )
        for target in targets:
            buckets[(r["cluster"], target)].append(r)
    out: list[Signal] = []
    base = config.event_source_base
    for (cluster, (group, supplier, via, importer)), members in buckets.items():
        members.sort(key=lambda r: (r["day"], r["event_id"]))
        # One witness per outlet, and one per news agency for the copy it wrote: a Reuters
        # story printed by two sites is one voice, not two.
        first_by_outlet: dict[str, dict[str, Any]] = {}
        for m in members:
            wire = wire_of(m["lead"])
            first_by_outlet.setdefault(
                f"wire-{wire}" if wire else outlet_of(m["outlet_key"] or "?"), m
            )
        ordered = sorted(first_by_outlet.items(), key=lambda kv: (kv[1]["day"], kv[0]))
        for k, (outlet, m) in enumerate(ordered, start=1):
            confidence = float(m["confidence"])
            # An official notice is the measure itself: it counts as two independent reports,
            # when it can be read whose measure it is.
            reports = 2 if m["official"] and supplier is not None else 1
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
            told_felt = m["event_type"] in WHERE_FELT
            said_by = (
                f"{outlet_of(m['outlet_key'] or '?')} ({outlet.removeprefix('wire-')} copy)"
                if outlet.startswith("wire-")
                else outlet
            )
            route = (
                f" at the {chokepoints[via].name}, which {supplier}'s exports pass" if via else ""
            )
            out.append(
                Signal(
                    kind="event",
                    type=m["event_type"],
                    ref=f"{cluster}:{group}:{outlet}"
                    + (f":{via}:{supplier}" if via else "")
                    + (f"{AIMED_SUFFIX}{importer}" if importer else ""),
                    group=group,
                    hs=tuple(hs),
                    supplier=supplier,
                    importer=importer,
                    observed=known,
                    known=known,
                    strength=strength,
                    standing=standing,
                    summary=(
                        f"{m['event_type']} ({told}){route}"
                        + (
                            (f" felt in {importer}" if told_felt else f" aimed at {importer}")
                            if importer
                            else ""
                        )
                        + ", "
                        f"{'official notice' if m['official'] else 'reported'} by {said_by} "
                        f"on {known} (source {k} of this story)"
                        + (f", effective {m['event_date']}" if m["event_date"] > known else "")
                        + ("; in force until eased" if standing else "")
                    ),
                    sources=k,
                    lang=m["lang"],
                    text=m["evidence"],
                    link=m["link"],
                    source=m["source_id"],
                    witness=outlet,
                    official=bool(m["official"]) and supplier is not None,
                    effective=m["event_date"] if m["event_date"] > known else None,
                )
            )
    return out


class _PartnerShares:
    """A partner's share of a supplier's exports of a product over the months before a
    period: past-only, so a replay never weighs a fall by a share that only later data show."""

    def __init__(self, store: Store, months: int) -> None:
        self.months = months
        self.values: dict[tuple[str, str], dict[dt.date, dict[str, float]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for r in store.query(
            """
            SELECT reporter, product_key, partner, period, sum(value_usd) AS v
            FROM trade_observations
            WHERE flow = 'export' AND partner NOT IN ('WLD', '*') AND freq = 'M'
            GROUP BY ALL
            """
        ):
            self.values[(r["reporter"], r["product_key"])][r["period"]][r["partner"]] = float(
                r["v"] or 0.0
            )

    def share(self, reporter: str, product: str, partner: str, period: dt.date) -> float | None:
        """None when the months before hold no exports of the product at all."""
        by_period = self.values.get((reporter, product))
        if not by_period:
            return None
        start = _add_months(period, -self.months)
        total = mine = 0.0
        for when, partners in by_period.items():
            if start <= when < period:
                total += sum(partners.values())
                mine += partners.get(partner, 0.0)
        return mine / total if total > 0 else None


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


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
    shares = _PartnerShares(store, config.trade.share_months)
    floor = config.trade
    out: list[Signal] = []
    for a in anomalies:
        key: str = a.series_key
        trade = parse_trade_key(key)
        if trade is not None and a.kind in SUPPLY_ANOMALIES:
            reporter, partner, flow, product = trade
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
            # A fall's baseline is the expected value; a unit-value jump's is a price per unit,
            # so its flow is the month's trade value.
            flow_usd = a.baseline if a.kind == "trade_drop" else a.details.get("trade_value")
            if isinstance(flow_usd, int | float) and flow_usd < floor.min_expected_usd:
                continue  # too thin a flow to read a fall or a jump in
            partner_share: float | None = None
            if partner not in (WORLD, "*"):
                partner_share = shares.share(reporter, product, partner, a.period)
                if partner_share is None or partner_share < floor.min_partner_share:
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
            # One customs office is one witness, whatever partner or product line it shows a
            # fall in: China's exports of graphite to Korea and to the world are one voice.
            witness = f"trade:{reporter}"
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
            witness = key  # each market's price is its own witness
        else:
            continue
        known = _month_end(a.period) + dt.timedelta(days=lag)
        strength = _strength(a.score, config)
        if kind == "trade_anomaly" and importer is not None:
            # The same fall also weighs on the supplier's world supply, in proportion to the
            # partner's share of the supplier's exports of the product.
            share = partner_share or 0.0
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
                        witness=witness,
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
                witness=witness,
            )
        )
    return [s for s in out if s.strength > 0]


def front_loading(signals: Sequence[Signal], config: RiskConfig) -> list[Signal]:
    """Export surges that confirm a control announced ahead of its effective date.

    Buyers rush to ship before a control bites (graphite in Oct-Nov 2023, before the
    1 Dec 2023 licences): a surge of the supplier's exports of the family in a month between
    the announcement and the effective date is the market taking the control seriously. Each
    such surge becomes a ``front_loading`` signal, known when its customs month is published;
    every other surge is dropped (a surge alone is no supply risk)."""
    controls = [
        s
        for s in signals
        if s.kind == "event"
        and s.type in config.standing.kinds
        and s.effective is not None
        and s.supplier is not None
    ]
    out: list[Signal] = []
    for s in signals:
        if s.type != "trade_surge":
            out.append(s)
            continue
        confirmed = next(
            (
                c
                for c in controls
                if c.group == s.group
                and c.supplier == s.supplier
                and c.known <= s.known
                and c.effective is not None
                and c.known.replace(day=1) <= s.observed < c.effective
            ),
            None,
        )
        if confirmed is None:
            continue
        out.append(
            s.model_copy(
                update={
                    "type": "front_loading",
                    "summary": f"{s.summary}: shipped ahead of the control effective "
                    f"{confirmed.effective} ({confirmed.summary.split(',')[0]})",
                }
            )
        )
    return out
