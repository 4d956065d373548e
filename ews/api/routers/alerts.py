"""The alert board and one alert's versions and evidence, read from :mod:`ews.alerts.board`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from ews.access.keys import ApiKey
from ews.alerts.board import (
    BoardEntry,
    BoardFilter,
    board,
    board_csv,
    board_json,
    entry_json,
    peak_levels,
    versions_of,
    visible,
)
from ews.alerts.records import Alert, Evidence, Level
from ews.alerts.repository import load_alerts
from ews.api import models as m
from ews.api.deps import (
    NOT_FOUND,
    PREFIX,
    REFUSALS,
    CatalogDep,
    GlossaryDep,
    KnownCountry,
    Limit,
    Offset,
    Reader,
    StoreReaderDep,
    country_code,
    field_error,
)
from ews.catalog import Catalog
from ews.risk.explain import EvidenceLine, explain_evidence
from ews.text.render import evidence_key

MAX_CACHED_PAGES = 512
"""Serialised board pages kept per copy of the store (each a few tens of kB at most)."""

router = APIRouter(prefix=PREFIX, responses=REFUSALS)


def _evidence_out(
    evidence: Sequence[Evidence], lines: Sequence[EvidenceLine]
) -> list[m.EvidenceOut]:
    """Every evidence record as stored, each with its English rendering, the documents that
    carried its sentence and, for a repeated sentence, the index of its first record."""
    line_of = {ref: line for line in lines for ref in line.refs}
    first: dict[str, int] = {}
    out = []
    for n, e in enumerate(evidence):
        line = line_of.get(e.ref)
        key = evidence_key(e.text) if e.kind == "event" and e.text else ""
        same_as = first.get(key) if key else None
        if key:
            first.setdefault(key, n)
        out.append(
            m.EvidenceOut.model_validate(
                {
                    **e.model_dump(),
                    "rendering": line.rendering.as_json()
                    if line is not None and line.rendering is not None
                    else None,
                    "documents": line.documents if line is not None else 1,
                    "same_as": same_as,
                }
            )
        )
    return out


def _version_out(a: Alert) -> m.AlertVersionOut:
    return m.AlertVersionOut(
        version=a.version,
        msg_type=a.msg_type,
        level=a.level,
        previous_level=a.previous_level,
        score=a.score,
        sent=a.sent,
        headline=a.headline,
        summary=a.summary,
        tlp=a.tlp,
        references=list(a.references),
    )


LevelQuery = Annotated[
    Level | None,
    Query(
        description="Lowest level: an open alert is judged by its level now, a closed one "
        "by the highest level it reached (its peak)."
    ),
]
ItemQuery = Annotated[str | None, Query(description="HS code prefix.")]
SupplierQuery = Annotated[str | None, Query(description="Supplier (name or code)."), KnownCountry]
ImporterQuery = Annotated[str | None, Query(description="Watching country."), KnownCountry]
SinceQuery = Annotated[dt.date | None, Query(description="Updated on or after.")]
UntilQuery = Annotated[dt.date | None, Query(description="Updated on or before.")]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One header line (id, item_hs, item_name, supplier, watching_country, "
        "level, peak_level, status, onset, updated, headline, tlp), then one line per alert.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def _board_filter(
    key: ApiKey,
    catalog: Catalog,
    *,
    level: str | None,
    item: str | None,
    country: str | None,
    importer: str | None,
    since: dt.date | None,
    until: dt.date | None,
    include_cancelled: bool,
) -> BoardFilter:
    """The filter of ``GET /alerts`` and ``GET /alerts.csv``."""
    if since and until and since > until:
        # Shaped as FastAPI's field errors, as every other bad parameter is.
        message = f"since ({since}) is after until ({until}): no day is in that range"
        raise HTTPException(422, [field_error("since", str(since), message)])
    return BoardFilter(
        level=level,
        item=item,
        supplier=country_code(catalog, country, "country"),
        importer=country_code(catalog, importer, "importer"),
        since=since,
        until=until,
        status="all" if include_cancelled else "open",
        include_red="admin" in key.scopes,
    )


@router.get("/alerts.csv", response_class=Response, responses=CSV_RESPONSE)
def alerts_csv(
    key: Reader,
    reader: StoreReaderDep,
    catalog: CatalogDep,
    level: LevelQuery = None,
    item: ItemQuery = None,
    country: SupplierQuery = None,
    importer: ImporterQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    include_cancelled: bool = False,
) -> Response:
    """The alert board as CSV: every alert matching the filters of ``GET /alerts`` (no
    paging), newest first. TLP:RED alerts only for admin keys."""
    flt = _board_filter(
        key,
        catalog,
        level=level,
        item=item,
        country=country,
        importer=importer,
        since=since,
        until=until,
        include_cancelled=include_cancelled,
    )
    with reader.read() as store:
        every = store.memo("alerts", load_alerts)
    return Response(
        board_csv(board(every, flt)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="ews-alerts.csv"'},
    )


@router.get("/alerts", response_model=m.AlertPage)
def list_alerts(
    key: Reader,
    reader: StoreReaderDep,
    catalog: CatalogDep,
    level: LevelQuery = None,
    item: ItemQuery = None,
    country: SupplierQuery = None,
    importer: ImporterQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    include_cancelled: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """The alert board: the newest version of each alert, newest first (as CSV:
    ``GET /alerts.csv``)."""
    flt = _board_filter(
        key,
        catalog,
        level=level,
        item=item,
        country=country,
        importer=importer,
        since=since,
        until=until,
        include_cancelled=include_cancelled,
    )
    # The board is the most read page: its answers are kept, serialised, until the
    # store changes (the memos go with the server's copy of the store).
    wanted = (flt, limit, offset)
    with reader.read() as store:
        pages: dict[tuple[object, ...], bytes] = store.memo("board-pages", lambda _: {})
        body = pages.get(wanted)
        if body is None:
            every = store.memo("alerts", load_alerts)
    if body is None:
        rows = board(every, flt)
        body = (
            m.AlertPage(
                total=len(rows),
                limit=limit,
                offset=offset,
                items=[
                    m.AlertOut.model_validate(r) for r in board_json(rows[offset : offset + limit])
                ],
            )
            .model_dump_json(by_alias=True)
            .encode()
        )
        if len(pages) < MAX_CACHED_PAGES:  # bounded: query strings are the client's
            pages[wanted] = body
    return Response(body, media_type="application/json")


@router.get("/alerts/{alert_id}", responses=NOT_FOUND)
def get_alert(
    key: Reader,
    reader: StoreReaderDep,
    catalog: CatalogDep,
    glossary: GlossaryDep,
    alert_id: str,
) -> m.AlertDetail:
    """An alert's versions and evidence (what ``ews explain`` shows), each evidence sentence
    with its English rendering."""
    with reader.read() as store:
        versions = versions_of(store.memo("alerts", load_alerts), alert_id)
        # A hidden alert answers like a missing one, so its existence does not leak.
        admin = "admin" in key.scopes
        if not versions or not all(visible(a, include_red=admin) for a in versions):
            raise HTTPException(404, f"no alert {alert_id!r}")
        last = versions[-1]
        source = next((a for a in reversed(versions) if a.evidence), last)
        lines = explain_evidence(store, catalog, glossary, source.evidence)
    entry = BoardEntry(last, peak_levels(versions)[alert_id])
    return m.AlertDetail(
        alert=m.AlertOut.model_validate(entry_json(entry)),
        onset=last.onset,
        origin_node=last.origin_node,
        versions=[_version_out(a) for a in versions],
        evidence=_evidence_out(source.evidence, lines),
    )
