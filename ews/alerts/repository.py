"""Alert versions in the store: save (append-only, idempotent), load and list.

Each version is one row of ``alerts`` with the full record as JSON in ``payload`` (the columns
beside it are for queries). A version once stored is never rewritten: saving the same version
again is a no-op, saving a different record under a stored key is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any, Literal

from ews.alerts.records import Alert
from ews.errors import InputError
from ews.store import Store

SaveOutcome = Literal["stored", "duplicate"]

_COLUMNS = (
    "alert_id",
    "version",
    "hs",
    "supplier",
    "importer",
    "level",
    "msg_type",
    "tlp",
    "refs",
    "summary",
    "evidence",
    "origin_node",
    "sent",
    "payload",
)


def _row(alert: Alert) -> list[Any]:
    return [
        alert.alert_id,
        alert.version,
        alert.hs,
        alert.supplier,
        alert.importer,
        alert.level,
        alert.msg_type,
        alert.tlp,
        json.dumps(list(alert.references)),
        alert.summary,
        json.dumps([e.model_dump(mode="json") for e in alert.evidence], ensure_ascii=False),
        alert.origin_node,
        alert.sent.astimezone(dt.UTC).replace(tzinfo=None),
        alert.model_dump_json(),
    ]


def save_alert(store: Store, alert: Alert) -> SaveOutcome:
    """Store one alert version; ``duplicate`` when the same record is already there.

    Raises :class:`InputError` when a different record is stored under the same
    ``alert_id#version`` (a partner re-issuing a version is a protocol error, not an update).
    Call inside a transaction to combine with other writes.
    """
    existing = store.scalar(
        "SELECT payload FROM alerts WHERE alert_id = ? AND version = ?",
        [alert.alert_id, alert.version],
    )
    if existing is not None:
        if Alert.model_validate_json(existing) == alert:
            return "duplicate"
        raise InputError(
            f"{alert.key} is already stored with different content; versions are immutable",
            field="version",
        )
    cols = ", ".join(_COLUMNS)
    marks = ", ".join("?" for _ in _COLUMNS)
    store.execute(f"INSERT INTO alerts ({cols}) VALUES ({marks})", _row(alert))
    return "stored"


def load_alert(store: Store, alert_id: str, version: int | None = None) -> Alert:
    """One version (the newest when ``version`` is None); :class:`InputError` when absent."""
    if version is None:
        payload = store.scalar(
            "SELECT payload FROM alerts WHERE alert_id = ? AND payload IS NOT NULL "
            "ORDER BY version DESC LIMIT 1",
            [alert_id],
        )
    else:
        payload = store.scalar(
            "SELECT payload FROM alerts WHERE alert_id = ? AND version = ?", [alert_id, version]
        )
    if payload is None:
        what = alert_id if version is None else f"{alert_id}#{version}"
        raise InputError(f"no alert {what} in the store", field="alert_id")
    return Alert.model_validate_json(payload)


def list_alerts(store: Store, *, origin: str | None = None) -> list[Alert]:
    """Every stored version (optionally only those raised by node ``origin``), oldest first."""
    sql = "SELECT payload FROM alerts WHERE payload IS NOT NULL"
    params: list[Any] = []
    if origin is not None:
        sql += " AND origin_node = ?"
        params.append(origin)
    rows = store.query(sql + " ORDER BY sent, alert_id, version", params)
    return [Alert.model_validate_json(r["payload"]) for r in rows]


def sent_times(store: Store, keys: Iterable[str]) -> dict[str, dt.datetime]:
    """``sent`` of the stored versions among ``keys`` (``alert_id#version``), for CAP references."""
    out: dict[str, dt.datetime] = {}
    for key in keys:
        alert_id, _, version = key.rpartition("#")
        if not version.isdigit():
            continue
        payload = store.scalar(
            "SELECT payload FROM alerts WHERE alert_id = ? AND version = ?",
            [alert_id, int(version)],
        )
        if payload is not None:
            out[key] = Alert.model_validate_json(payload).sent
    return out
