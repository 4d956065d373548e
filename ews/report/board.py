"""The item board: each critical item's latest price move and trade figures from the store.

Figures come only from stored observations: an item without them shows none rather than
invented numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ews.catalog import Catalog
from ews.store import Store

WATCHERS = ("KR", "US", "JP")


@dataclass(frozen=True)
class PriceMove:
    series: str
    unit: str
    period: dt.date
    value: float
    change_1m: float | None
    change_12m: float | None


@dataclass(frozen=True)
class TradeFigure:
    reporter: str
    flow: str
    period_from: dt.date
    period_to: dt.date
    value_12m: float
    change_12m: float | None
    shares: dict[str, float]
    """Share of each watching country in the 12-month value (from the bilateral rows)."""


@dataclass(frozen=True)
class BoardRow:
    hs: str
    name: str
    group: str
    sector: str
    price: PriceMove | None
    trade: TradeFigure | None


def _pct(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return (new / old - 1.0) * 100.0


def price_moves(store: Store) -> dict[str, PriceMove]:
    """Latest month of each item's price series, with 1- and 12-month changes."""
    rows = store.query(
        """
        WITH ranked AS (
            SELECT hs, series_id, unit, period, value,
                   row_number() OVER (PARTITION BY hs ORDER BY period DESC, series_id) AS rn
            FROM price_observations WHERE hs IS NOT NULL AND freq = 'M'
        )
        SELECT r.hs, r.series_id, r.unit, r.period, r.value,
               (SELECT p.value FROM price_observations p WHERE p.series_id = r.series_id
                  AND p.freq = 'M' AND p.period = r.period - INTERVAL 1 MONTH) AS prev_1m,
               (SELECT p.value FROM price_observations p WHERE p.series_id = r.series_id
                  AND p.freq = 'M' AND p.period = r.period - INTERVAL 12 MONTH) AS prev_12m
        FROM ranked r WHERE rn = 1
        """
    )
    return {
        r["hs"]: PriceMove(
            series=r["series_id"],
            unit=r["unit"],
            period=r["period"],
            value=r["value"],
            change_1m=_pct(r["value"], r["prev_1m"]),
            change_12m=_pct(r["value"], r["prev_12m"]),
        )
        for r in rows
    }


def trade_figures(store: Store, catalog: Catalog) -> dict[str, TradeFigure]:
    """For each item with monthly bilateral rows: the last 12 months against the 12 before."""
    rows = store.query(
        """
        WITH m AS (
            SELECT hs, reporter, flow, max(period) AS last FROM trade_observations
            WHERE hs IS NOT NULL AND freq = 'M' GROUP BY hs, reporter, flow
        )
        SELECT t.hs, t.reporter, t.flow, m.last, t.partner,
               sum(t.value_usd) FILTER (WHERE t.period > m.last - INTERVAL 12 MONTH) AS v12,
               sum(t.value_usd) FILTER (WHERE t.period <= m.last - INTERVAL 12 MONTH
                                         AND t.period > m.last - INTERVAL 24 MONTH) AS v24
        FROM trade_observations t JOIN m USING (hs, reporter, flow)
        WHERE t.freq = 'M'
        GROUP BY t.hs, t.reporter, t.flow, m.last, t.partner
        """
    )
    # (hs, reporter, flow) -> (last month, [(partner, last 12 months, 12 months before)])
    by_key: dict[tuple[str, str, str], tuple[dt.date, list[tuple[str, float, float]]]] = {}
    for r in rows:
        key = (str(r["hs"]), str(r["reporter"]), str(r["flow"]))
        entry = by_key.setdefault(key, (r["last"], []))
        entry[1].append((str(r["partner"]), float(r["v12"] or 0.0), float(r["v24"] or 0.0)))
    out: dict[str, TradeFigure] = {}
    for (hs, reporter, flow), (last, parts) in sorted(by_key.items()):
        item = catalog.item_for_code(hs)
        if item is None:
            continue
        bilateral = [p for p in parts if p[0] != "WLD"]
        total = sum(p[1] for p in bilateral)
        before = sum(p[2] for p in bilateral)
        if total <= 0:
            continue
        shares = {w: sum(p[1] for p in bilateral if p[0] == w) / total for w in WATCHERS}
        figure = TradeFigure(
            reporter=reporter,
            flow=flow,
            period_from=_months_back(last, 11),
            period_to=last,
            value_12m=total,
            change_12m=_pct(total, before if before > 0 else None),
            shares=shares,
        )
        prev = out.get(item.hs)
        if prev is None or figure.value_12m > prev.value_12m:
            out[item.hs] = figure
    return out


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def build_board(store: Store, catalog: Catalog, *, only_with_data: bool = True) -> list[BoardRow]:
    prices = price_moves(store)
    trade = trade_figures(store, catalog)
    rows = []
    for item in sorted(catalog.items.values(), key=lambda i: (i.sector, i.hs)):
        price = prices.get(item.hs)
        if price is None and len(item.hs) == 6:
            price = prices.get(item.hs[:4])
        figure = trade.get(item.hs)
        if only_with_data and price is None and figure is None:
            continue
        rows.append(BoardRow(item.hs, item.names["en"], item.group, item.sector, price, figure))
    return rows
