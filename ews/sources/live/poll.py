"""One poll of one live source: its kind's function fetches and reads, this module keeps score.

A poll never touches the store: it is handed the source, its state and the keys it has already
seen, and returns a :class:`PollResult` (documents, observations, the new cursor and validators,
one log row per request). The caller writes that result in one go, so a node killed during a
poll has written nothing of it and simply polls again (docs/live.md, "Safe to kill").
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ews.catalog import Catalog
from ews.errors import EwsError
from ews.records import Document, PriceObservation, Provenance, TradeObservation
from ews.sources.live.http import Fetcher, FetchError, Response
from ews.sources.live.raw import RawStore
from ews.sources.live.registry import LiveSource, SourceState


@dataclass(frozen=True)
class Transit:
    """Vessels through a maritime chokepoint on one day (IMF PortWatch)."""

    chokepoint: str
    name: str
    day: dt.date
    n_total: float | None
    n_tanker: float | None
    n_container: float | None
    n_cargo: float | None
    capacity: float | None
    file_name: str
    file_sha256: str


@dataclass
class FetchRecord:
    """One request of a poll, for ``fetch_log`` and the metrics."""

    url: str
    at: dt.datetime
    outcome: str  # ok | not_modified | error
    status: int | None = None
    sha256: str | None = None
    size: int | None = None
    elapsed: float | None = None
    error: str | None = None


@dataclass
class PollResult:
    source: LiveSource
    state: SourceState
    documents: list[Document] = field(default_factory=list)
    prices: list[PriceObservation] = field(default_factory=list)
    trade: list[TradeObservation] = field(default_factory=list)
    transits: list[Transit] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    fetches: list[FetchRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    not_modified: bool = False
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    elapsed: float = 0.0

    @property
    def items(self) -> int:
        return len(self.documents) + len(self.prices) + len(self.trade) + len(self.transits)


class LayoutChangedError(EwsError):
    """The source answered, but not in the shape its reader knows: a person must look."""


@dataclass
class Poll:
    """What a kind's function gets: the source, its state, a fetcher that keeps every answer,
    the catalogue and the seen keys; it fills ``result``."""

    source: LiveSource
    state: SourceState
    fetcher: Fetcher
    raw: RawStore
    catalog: Catalog
    seen_before: frozenset[str] = frozenset()
    secrets: dict[str, str] = field(default_factory=dict)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    result: PollResult = field(init=False)

    def __post_init__(self) -> None:
        self.result = PollResult(self.source, self.state)

    @property
    def params(self) -> dict[str, Any]:
        return self.source.params

    def get(
        self,
        url: str,
        *,
        conditional: bool = False,
        headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """GET ``url``, keep its body (content-addressed) and log it; with ``conditional`` the
        source's validators are sent and the answer's are kept for the next poll."""
        at = self.now()
        try:
            response = self.fetcher.get(
                url,
                etag=self.state.etag if conditional else None,
                last_modified=self.state.last_modified if conditional else None,
                headers=headers,
                max_bytes=max_bytes,
            )
        except FetchError as exc:
            self.result.fetches.append(
                FetchRecord(url, at, "error", status=exc.status, error=exc.message[:500])
            )
            raise
        record = FetchRecord(url, at, "ok", response.status, elapsed=response.elapsed)
        if response.not_modified:
            record.outcome = "not_modified"
        else:
            record.sha256 = response.sha256 = self.raw.put(response.body)
            record.size = len(response.body)
        self.result.fetches.append(record)
        if conditional and not response.not_modified:
            self.state.etag = response.etag
            self.state.last_modified = response.last_modified
        return response

    def provenance(self, response: Response, row: int, column: str | None = None) -> Provenance:
        """Where a record came from: the URL, the hash of the raw bytes kept, the row."""
        if response.sha256 is None:
            raise EwsError(f"{response.url}: no body kept to cite")
        return Provenance(
            source_id=self.source.id,
            file_name=response.url[:500],
            file_sha256=response.sha256,
            row=row,
            column=column,
        )

    def warn(self, message: str) -> None:
        self.result.warnings.append(message)


PollFunction = Callable[[Poll], None]


def run_poll(poll: Poll, function: PollFunction) -> PollResult:
    """Run a kind's function, turning its failure into the result's ``error`` (one source's
    trouble never stops the others)."""
    started = time.monotonic()
    result = poll.result
    before = replace(poll.state, cursor=dict(poll.state.cursor))
    try:
        function(poll)
    except FetchError as exc:
        result.error = exc.message
    except EwsError as exc:
        result.error = str(exc)
    except Exception as exc:  # a reader bug on strange input must cost one source, not the node
        result.error = f"{type(exc).__name__}: {exc}"[:500]
    if result.error:
        # Nothing of a failed poll is kept but its log: the next poll starts where this one did.
        result.documents.clear()
        result.prices.clear()
        result.trade.clear()
        result.transits.clear()
        result.seen.clear()
        # Nor its validators or cursor: a 304 next time would hide what this poll failed to read.
        poll.state.etag, poll.state.last_modified = before.etag, before.last_modified
        poll.state.cursor = before.cursor
    result.not_modified = bool(result.fetches) and all(
        f.outcome == "not_modified" for f in result.fetches
    )
    result.elapsed = time.monotonic() - started
    return result
