"""The results of the last backtest run on this node, read from :mod:`ews.backtest.results`."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from ews.api import models as m
from ews.api.deps import NOT_FOUND, PREFIX, REFUSALS, Reader, StoreReaderDep
from ews.backtest.results import load_backtest

router = APIRouter(prefix=PREFIX, responses=REFUSALS)


@router.get("/backtest", responses=NOT_FOUND)
def backtest(key: Reader, reader: StoreReaderDep) -> m.BacktestOut:
    """Results of the last backtest run on this node (``ews backtest``)."""
    with reader.read() as store:
        last = load_backtest(store)
    if last is None:
        raise HTTPException(404, "no backtest has been run on this node: ews backtest")
    return m.BacktestOut.model_validate(last)
