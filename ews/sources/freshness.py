"""How fresh the data behind the alerts are: per source, the newest data held, how long after
its period a source publishes, and whether the node is behind.

An alert board read on 5 December from news that end in August says nothing about December;
an analyst must see that before trusting an empty board. Each file source's spec declares
``publication: {every_days, lag_days, basis}``: how often new data appear and how long after
their period they are public (the Pink Sheet: monthly, on the second business day of the next
month). A source is *stale* when the newest data held are older than one period plus that lag
plus a grace of a period's tenth (at least a day): the data that should be public by now are
not in the store. Live sources (``ews sources add``) answer for themselves through
:func:`~ews.sources.live.status.source_statuses`, whose lag is measured on what they publish.

The ``note`` is English. The facts it is made of are fields too (``every_days``, ``due``,
``state``), so the report layer, which speaks Korean and Japanese and which this layer may not
import, can say the same in another language (``ews.report.now.freshness_note``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ews.sources.live.status import source_statuses
from ews.sources.registry import load_specs
from ews.store import Store


@dataclass(frozen=True)
class Freshness:
    """One source's freshness as of a day."""

    source: str
    name: str
    kind: str
    """prices, trade, news or notices."""
    newest: dt.date | None
    """The newest data date held: a document's publication day, the last day of a month."""
    received: dt.datetime | None
    """When the newest rows were stored."""
    rows: int
    lag_days: float | None
    """How long after its period the source publishes: declared (file sources) or measured
    (live sources)."""
    lag_basis: str
    age_days: int | None
    """Days from ``newest`` to the day asked about."""
    stale: bool
    note: str
    """In English; see the module."""
    state: str = ""
    """File sources: fresh, stale or empty (no dated data); live sources: their poller's
    state (ok, stale, failing, never, disabled)."""
    every_days: float | None = None
    """How often a file source publishes (declared or assumed)."""
    due: dt.date | None = None
    """A stale file source: the day its data should reach by now."""

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "kind": self.kind,
            "newest": self.newest.isoformat() if self.newest else None,
            "received": self.received.isoformat() if self.received else None,
            "rows": self.rows,
            "lag_days": self.lag_days,
            "lag_basis": self.lag_basis,
            "age_days": self.age_days,
            "stale": self.stale,
            "note": self.note,
        }


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """Ingest times are stored in UTC without a zone; said with it, they read unambiguously."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def _held(store: Store) -> list[dict[str, Any]]:
    """Per stored source: kind, newest data day, newest ingest time, rows."""
    return store.query(
        "SELECT source_id, 'news' AS kind, max(published)::DATE AS newest, "
        "max(ingested_at) AS received, count(*) AS n FROM documents GROUP BY ALL "
        "UNION ALL SELECT source_id, 'prices', max(period), max(ingested_at), count(*) "
        "FROM price_observations GROUP BY ALL "
        "UNION ALL SELECT source_id, 'trade', max(period), max(ingested_at), count(*) "
        "FROM trade_observations GROUP BY ALL ORDER BY 2, 1"
    )


def _days(n: float) -> str:
    return "a day" if n == 1 else f"{n:g} days"


def data_freshness(store: Store, day: dt.date, *, stale_after: float) -> list[Freshness]:
    """Every source that holds data, and every live source, as of ``day`` (see module).

    ``stale_after`` is the live sources' setting (``EWS_SOURCE_STALE_AFTER``): a live source
    is stale after that many polling intervals without an answer."""
    specs = load_specs()
    out: list[Freshness] = []
    live = {
        s.id: s
        for s in source_statuses(
            store,
            now=dt.datetime.combine(day, dt.time(23, 59), dt.UTC),
            stale_after=stale_after,
        )
    }
    for row in _held(store):
        source, kind = str(row["source_id"]), str(row["kind"])
        if source in live:
            continue  # said below, from its own polling record
        newest: dt.date | None = row["newest"]
        monthly = kind in ("prices", "trade")
        if newest is not None and monthly:
            newest = _month_end(newest)  # a month's figure describes the month to its end
        spec = specs.get(source)
        publication: dict[str, Any] = (spec.get("publication") or {}) if spec else {}
        every = float(publication.get("every_days", 30 if monthly else 1))
        lag = float(publication.get("lag_days", 60 if monthly else 1))
        basis = str(publication.get("basis", "assumed: no publication schedule declared"))
        age = (day - newest).days if newest is not None else None
        allowed = every + lag + max(1.0, every / 10)
        stale = age is None or age > allowed
        due: dt.date | None = None
        if newest is None:
            note = "no dated data held"
        elif stale:
            due = day - dt.timedelta(days=lag + every)
            note = (
                f"newest data {newest:%d %b %Y}, {age} days old: data to about {due:%d %b %Y} "
                f"should be public by now ({basis}); alerts cannot see what came after"
            )
        else:
            note = f"up to date: new data every {_days(every)}, public {_days(lag)} later"
        out.append(
            Freshness(
                source=source,
                name=spec.name if spec else source,
                kind=spec.kind if spec else kind,
                newest=newest,
                received=_aware(row["received"]),
                rows=int(row["n"]),
                lag_days=lag,
                lag_basis=basis,
                age_days=age,
                stale=stale,
                note=note,
                state="empty" if newest is None else "stale" if stale else "fresh",
                every_days=every,
                due=due,
            )
        )
    for status in live.values():
        newest_live = status.newest_published.date() if status.newest_published else None
        age = (day - newest_live).days if newest_live else None
        out.append(
            Freshness(
                source=status.id,
                name=status.url,
                kind=f"live {status.kind}",
                newest=newest_live,
                received=_aware(status.last_success),
                rows=status.items_total,
                lag_days=round(status.lag_seconds / 86400, 2)
                if status.lag_seconds is not None
                else None,
                lag_basis="measured on what the source published",
                age_days=age,
                stale=status.stale or status.state in ("failing", "never"),
                note=status.note or status.state,
                state=status.state,
            )
        )
    return out
