"""The health of the live sources ``ews run`` polls, read from :mod:`ews.sources.live.status`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from ews.api import models as m
from ews.api.deps import PREFIX, REFUSALS, Reader, StoreReaderDep
from ews.settings import get_settings
from ews.sources.live.status import source_statuses

router = APIRouter(prefix=PREFIX, responses=REFUSALS)


@router.get("/sources")
def sources(key: Reader, reader: StoreReaderDep) -> m.SourcesOut:
    """Each live source: last success and error, items, publication lag, next poll, stale."""
    with reader.read() as store:
        rows = source_statuses(
            store, now=dt.datetime.now(dt.UTC), stale_after=get_settings().source_stale_after
        )
    return m.SourcesOut(
        stale=sum(r.stale for r in rows),
        items=[m.SourceStatusOut.model_validate(r.as_json()) for r in rows],
    )
