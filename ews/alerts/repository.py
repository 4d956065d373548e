"""Alert versions in the store: every read and write of the ``alerts`` table is here.

Each version is one row of ``alerts`` with the full record as JSON in ``payload`` (the columns
beside it are for queries). A version once stored is never rewritten: saving the same version
again is a no-op, saving a different record under a stored key is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any, Literal

import pyarrow as pa

from ews.alerts.records import Alert
from ews.errors import InputError
from ews.store import Store

SaveOutcome = Literal["stored", "duplicate"]


def alert_row(alert: Alert) -> dict[str, Any]:
    """The ``alerts`` row of one version: the record as JSON in ``payload``, and the columns
    queries filter on beside it (``sent`` as naive UTC, the store's convention)."""
    return {
        "alert_id": alert.alert_id,
        "version": alert.version,
        "hs": alert.hs,
        "supplier": alert.supplier,
        "importer": alert.importer,
        "level": alert.level,
        "msg_type": alert.msg_type,
        "tlp": alert.tlp,
        "refs": json.dumps(list(alert.references)),
        "summary": alert.summary,
        "evidence": json.dumps(
            [e.model_dump(mode="json") for e in alert.evidence], ensure_ascii=False
        ),
        "origin_node": alert.origin_node,
        "sent": alert.sent.astimezone(dt.UTC).replace(tzinfo=None),
        "payload": alert.model_dump_json(),
        "item_group": None,
    }


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
    row = alert_row(alert)
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    store.execute(f"INSERT INTO alerts ({cols}) VALUES ({marks})", list(row.values()))
    return "stored"


def save_versions(store: Store, alerts: Iterable[Alert]) -> int:
    """Add the versions not stored yet (this node's own assessment output) in one upsert;
    returns how many were new. Versions already stored are left as they are."""
    rows = [alert_row(a) for a in alerts]
    if not rows:
        return 0
    counts = store.upsert(
        "alerts", pa.Table.from_pylist(rows), key=("alert_id", "version"), compare=()
    )
    return counts.new


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


def load_alerts(store: Store, *, origin: str | None = None) -> list[Alert]:
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


def count_versions(store: Store, *, origin: str | None = None) -> int:
    """How many alert versions are stored (of ``origin``'s alerts only, when given)."""
    if origin is None:
        row = store.execute("SELECT count(*) FROM alerts").fetchone()
    else:
        row = store.execute(
            "SELECT count(*) FROM alerts WHERE origin_node = ?", [origin]
        ).fetchone()
    return int(row[0]) if row else 0
