"""The last backtest's results, kept in the store for the API (``GET /api/v1/backtest``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ews.backtest.replay import EpisodeResult
from ews.store import Store

BACKTEST_META = "backtest:last"


def save_backtest(
    store: Store,
    episodes: list[EpisodeResult],
    false_alarms: int,
    *,
    since: str | None,
    until: str | None,
) -> None:
    """Keep this run's episodes and false-alarm count (replacing the previous run's)."""
    payload = {
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "since": since,
        "until": until,
        "episodes": [e.as_json() for e in episodes],
        "false_alarms": false_alarms,
    }
    store.set_meta(BACKTEST_META, json.dumps(payload))


def load_backtest(store: Store) -> dict[str, Any] | None:
    """The last run's results, or None when no backtest has run on this store."""
    text = store.get_meta(BACKTEST_META)
    return None if text is None else dict(json.loads(text))
