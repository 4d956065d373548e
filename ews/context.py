"""The one Context handed to every stage: settings, store, catalogue, clock and logger.

The clock is injectable so that a backtest is a live run with the clock set back.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ews.catalog import Catalog, load_catalog
from ews.catalog.sync import sync_catalog
from ews.settings import Settings, get_settings
from ews.store import Store
from ews.store.db import open_waiting


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Context:
    """Everything a stage needs, passed explicitly instead of through globals."""

    settings: Settings
    store: Store
    catalog: Catalog
    clock: Callable[[], dt.datetime] = system_clock
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("ews"))

    @classmethod
    def open(cls, settings: Settings | None = None, *, store: str | None = None) -> Context:
        """Open (and migrate) the store and make sure it holds the current catalogue."""
        settings = settings or get_settings()
        catalog = load_catalog()
        st = open_waiting(store or settings.store, timeout=settings.store_wait)
        sync_catalog(st, catalog)
        return cls(settings=settings, store=st, catalog=catalog)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
