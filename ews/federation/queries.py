"""The read side of the federation tables that the operator's commands show: deliveries
waiting per partner and the last refused messages."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from ews.store import Store


def pending_by_partner(store: Store) -> dict[str, int]:
    """Deliveries still pending in the outbox, by partner name; a partner with none is absent."""
    return {
        r["partner"]: int(r["n"])
        for r in store.query(
            "SELECT partner, count(*) AS n FROM federation_outbox "
            "WHERE status = 'pending' GROUP BY 1"
        )
    }


@dataclass(frozen=True)
class Refusal:
    """A refused message or request, as the audit log recorded it (``federation.reject``)."""

    ts: dt.datetime
    subject: str
    reason: str | None
    message: str | None


def last_refusals(store: Store) -> list[Refusal]:
    """The ten most recent refusals, newest first."""
    rows = store.query(
        "SELECT ts, subject, detail FROM audit_log WHERE action = 'federation.reject' "
        "ORDER BY seq DESC LIMIT 10"
    )
    refusals = []
    for r in rows:
        detail = json.loads(r["detail"])
        refusals.append(
            Refusal(
                ts=r["ts"],
                subject=r["subject"],
                reason=detail.get("reason"),
                message=detail.get("message"),
            )
        )
    return refusals
