"""API routes for what lies behind the alerts: indicators, backtest results, the partner feed.

Mounted by :func:`ews.api.app.create_app` under the same prefix, keys and limits as the rest.
The partner feed here is for organisations holding an API key with the ``partner`` scope
(firms, agencies without a node of their own): it carries only TLP:CLEAR and TLP:GREEN alerts
as CAP 1.2. Nodes exchange AMBER alerts over the signed federation protocol instead, where
each partner's TLP ceiling is agreed (docs/federation.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from ews.access.keys import ApiKey
from ews.alerts import cap
from ews.alerts.board import latest_versions
from ews.alerts.repository import load_alerts
from ews.api import models as m
from ews.api.app import _REFUSALS, PREFIX, Limit, Offset, Reader, require
from ews.backtest.results import load_backtest
from ews.catalog import Catalog
from ews.store.reader import StoreReader
from ews.web.data import latest_run

FEED_TLPS = ("CLEAR", "GREEN")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class DependenceOut(_Out):
    """One importer's dependence on its suppliers for a product in a year."""

    importer: str = Field(examples=["KR"])
    product_key: str = Field(description="HS code, or group:<family>.", examples=["310210"])
    year: int = Field(examples=[2021])
    import_value: float = Field(description="USD.", examples=[1.2e8])
    n_suppliers: int = Field(examples=[12])
    top_supplier: str = Field(examples=["CN"])
    top_share: float = Field(ge=0, le=1, examples=[0.97])
    hhi: float = Field(ge=0, le=1, examples=[0.94])
    dependent: bool = Field(description="All dependence criteria met for enough years.")
    korea_rule: bool = Field(description="Top supplier's share at or over Korea's 50 % line.")
    basis: str = Field(examples=["reported"])


class DependencePage(_Out):
    run_id: str | None = Field(description="Indicator run the rows come from.")
    total: int
    limit: int
    offset: int
    items: list[DependenceOut]


class AnomalyOut(_Out):
    """A flagged departure of a trade or price series from its own history."""

    series_key: str = Field(examples=["trade:CN>KR:export:250410"])
    period: dt.date
    method: str
    kind: str = Field(examples=["trade_drop"])
    value: float
    baseline: float | None
    score: float = Field(description="Robust z or the method's score.")
    threshold: float
    run_id: str


class AnomalyPage(_Out):
    total: int
    limit: int
    offset: int
    items: list[AnomalyOut]


class BacktestOut(_Out):
    """The last ``ews backtest`` run: each known disruption and how early EWS warned."""

    run_at: str
    since: str | None
    until: str | None
    false_alarms: int
    episodes: list[dict[str, Any]] = Field(
        description="Per episode: reference date, first day at each level, lead days, peak."
    )


class FeedEntry(_Out):
    alert_id: str
    version: int
    sent: dt.datetime
    tlp: str
    cap: str = Field(description="The version as CAP 1.2 XML.")


class FeedOut(_Out):
    total: int
    limit: int
    offset: int
    items: list[FeedEntry]


Partner = Annotated[ApiKey, Depends(require("partner"))]


def mount(app: FastAPI, reader: StoreReader, catalog: Catalog) -> None:
    """Add the routes to ``app`` (called by :func:`ews.api.app.create_app`)."""
    prefix, refusals = PREFIX, _REFUSALS

    @app.get(f"{prefix}/indicators/dependence", responses=refusals)
    def dependence(
        key: Reader,
        importer: Annotated[str | None, Query(description="Importer (name or code).")] = None,
        item: Annotated[str | None, Query(description="HS code prefix.")] = None,
        dependent_only: bool = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> DependencePage:
        """Import dependence from the newest dependence run, highest top share first."""
        where, params = ["run_id = ?"], list[Any]()
        if importer is not None:
            code = catalog.country_code(importer)
            if code is None:
                raise HTTPException(422, f"importer: unknown country {importer!r}")
            where.append("importer = ?")
            params.append(code)
        if item is not None:
            where.append("starts_with(product_key, ?)")
            params.append(item)
        if dependent_only:
            where.append("(dependent OR korea_rule)")
        with reader.read() as store:
            run = latest_run(store, "dependence")
            if run is None:
                return DependencePage(run_id=None, total=0, limit=limit, offset=offset, items=[])
            cond = " AND ".join(where)
            total = int(
                store.scalar(
                    f"SELECT count(*) FROM dependence_results WHERE {cond}", [run, *params]
                )
            )
            rows = store.query(
                f"SELECT * FROM dependence_results WHERE {cond} "
                "ORDER BY top_share DESC, importer, product_key, year LIMIT ? OFFSET ?",
                [run, *params, limit, offset],
            )
        items = [
            DependenceOut.model_validate({k: r[k] for k in DependenceOut.model_fields})
            for r in rows
        ]
        return DependencePage(run_id=run, total=total, limit=limit, offset=offset, items=items)

    @app.get(f"{prefix}/indicators/anomalies", responses=refusals)
    def anomalies(
        key: Reader,
        kind: Annotated[str | None, Query(examples=["trade_drop"])] = None,
        series: Annotated[
            str | None, Query(description="Series key prefix, e.g. trade:CN> or price:")
        ] = None,
        since: Annotated[dt.date | None, Query(description="Period on or after.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AnomalyPage:
        """Anomalies of the newest trade and price runs, newest period first."""
        with reader.read() as store:
            runs = [r for k in ("trade", "prices") if (r := latest_run(store, k)) is not None]
            where, params = ["list_contains(?, run_id)"], list[Any]([runs])
            if kind is not None:
                where.append("kind = ?")
                params.append(kind)
            if series is not None:
                where.append("starts_with(series_key, ?)")
                params.append(series)
            if since is not None:
                where.append("period >= ?")
                params.append(since)
            cond = " AND ".join(where)
            total = int(store.scalar(f"SELECT count(*) FROM anomalies WHERE {cond}", params))
            rows = store.query(
                f"SELECT * FROM anomalies WHERE {cond} "
                "ORDER BY period DESC, series_key, method LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        items = [
            AnomalyOut.model_validate({k: r[k] for k in AnomalyOut.model_fields}) for r in rows
        ]
        return AnomalyPage(total=total, limit=limit, offset=offset, items=items)

    @app.get(f"{prefix}/backtest", responses={**refusals, 404: {"model": m.Problem}})
    def backtest(key: Reader) -> BacktestOut:
        """Results of the last backtest run on this node (``ews backtest``)."""
        with reader.read() as store:
            last = load_backtest(store)
        if last is None:
            raise HTTPException(404, "no backtest has been run on this node: ews backtest")
        return BacktestOut.model_validate(last)

    @app.get(f"{prefix}/feed", responses=refusals)
    def feed(
        key: Partner,
        since: Annotated[
            dt.datetime | None, Query(description="Only versions sent at or after this time.")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> FeedOut:
        """Shareable alerts (TLP:CLEAR and TLP:GREEN) as CAP 1.2, newest first."""
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        with reader.read() as store:
            every = store.memo("alerts", load_alerts)
        sent_of = {f"{a.alert_id}#{a.version}": a.sent for a in every}
        rows = [
            a
            for a in latest_versions(every)
            if a.tlp in FEED_TLPS and (since is None or a.sent >= since)
        ]
        page = rows[offset : offset + limit]
        items = [
            FeedEntry(
                alert_id=a.alert_id,
                version=a.version,
                sent=a.sent,
                tlp=a.tlp,
                cap=cap.encode(a, sent_of).decode("utf-8"),
            )
            for a in page
        ]
        return FeedOut(total=len(rows), limit=limit, offset=offset, items=items)
