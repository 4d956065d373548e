"""The partner feed: shareable alerts as CAP 1.2, for organisations holding an API key with
the ``partner`` scope (firms, agencies without a node of their own).

It carries only TLP:CLEAR and TLP:GREEN alerts. Nodes exchange AMBER alerts over the signed
federation protocol instead, where each partner's TLP ceiling is agreed (docs/federation.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from ews.alerts import cap
from ews.alerts.board import latest_versions
from ews.alerts.repository import load_alerts
from ews.api import models as m
from ews.api.deps import PREFIX, REFUSALS, Limit, Offset, Partner, StoreReaderDep

FEED_TLPS = ("CLEAR", "GREEN")

router = APIRouter(prefix=PREFIX, responses=REFUSALS)


@router.get("/feed")
def feed(
    key: Partner,
    reader: StoreReaderDep,
    since: Annotated[
        dt.datetime | None, Query(description="Only versions sent at or after this time.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> m.FeedOut:
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
        m.FeedEntry(
            alert_id=a.alert_id,
            version=a.version,
            sent=a.sent,
            tlp=a.tlp,
            cap=cap.encode(a, sent_of).decode("utf-8"),
        )
        for a in page
    ]
    return m.FeedOut(total=len(rows), limit=limit, offset=offset, items=items)
