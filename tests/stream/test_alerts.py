"""Alerts through NATS JetStream and Kafka: signed per partner, verified by the consumer, stored
once across a crash; forged, unsigned and altered messages are refused without stopping it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ews.alerts.repository import load_alerts, save_alert
from ews.alerts.signing import generate_key, seal
from ews.stream.alerts import (
    ConsumeAlertsReport,
    alerts_subject,
    consume_alerts,
    publish_alerts,
)
from ews.stream.transport import REASON_HEADER, Transport, dead_letter_subject
from tests.federation.helpers import alert, link, make_node
from tests.stream.conftest import CrashError, TransportFactory, peek

NOW = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
TTL = dt.timedelta(days=7)


def test_alerts_verified_and_stored_once_forgeries_refused(
    kind: str, connect: TransportFactory, prefix: str, tmp_path: Path
) -> None:
    kr, us, jp = (make_node(tmp_path, n) for n in ("KR", "US", "JP"))
    link(kr, us, jp)
    green = [alert("KR", n, "GREEN") for n in range(1, 6)]
    amber_jp = alert("KR", 6, "AMBER", recipients=("JP",))  # not for US: must not reach it
    with kr.node.store() as st, st.transaction():
        for a in [*green, amber_jp]:
            save_alert(st, a)

    publisher = connect()
    report = publish_alerts(publisher, kr.node, prefix=prefix, ttl=TTL, to=["US"], now=NOW)
    assert report.messages == {"US": 5} and report.withheld == 1
    subject = alerts_subject(prefix, "US")

    # Three bad messages in the stream, then a valid one after them.
    forged = seal(
        green[0].model_copy(update={"alert_id": "ews-280530-CN-KR-20260109-forged01"}),
        generate_key(),  # not KR's key
        sender="KR",
        recipient="US",
        now=NOW,
        ttl=TTL,
    )
    altered = seal(green[1], kr.node.key, sender="KR", recipient="US", now=NOW, ttl=TTL)
    altered["envelope"]["payload"]["level"] = "serious"  # changed after signing
    unsigned = {"alg": "Ed25519", "envelope": altered["envelope"]}
    for key, message in (("forged", forged), ("altered", altered), ("unsigned", unsigned)):
        publisher.publish(subject, key, json.dumps(message).encode())
    publisher.publish(subject, "garbage", b"\x00not json")
    later = alert("KR", 7, "CLEAR")
    with kr.node.store() as st, st.transaction():
        save_alert(st, later)
    again = publish_alerts(publisher, kr.node, prefix=prefix, ttl=TTL, now=NOW)
    assert again.messages == {"US": 6, "JP": 7}  # the five earlier versions a second time too
    publisher.flush()

    def crash_after_first_batch(report: ConsumeAlertsReport) -> None:
        raise CrashError

    def consume(transport: Transport, **kw: object) -> ConsumeAlertsReport:
        return consume_alerts(
            transport,
            us.node,
            prefix=prefix,
            durable="alerts-us",
            max_lifetime=TTL,
            batch=3,
            clock=lambda: NOW + dt.timedelta(minutes=5),
            **kw,  # type: ignore[arg-type]
        )

    crashed = connect()
    with pytest.raises(CrashError):
        consume(crashed, after_store=crash_after_first_batch)
    crashed.close()
    with us.node.store() as st:
        # Stored, not acknowledged. JetStream keeps publication order: the first three.
        assert len(load_alerts(st)) == 3 if kind == "nats" else len(load_alerts(st)) <= 3

    result = consume(connect())
    with us.node.store() as st:
        stored = load_alerts(st)
        rejects = st.query(
            "SELECT subject, detail FROM audit_log WHERE action = 'federation.reject'"
        )
    # Every valid version once, nothing forged or altered, nothing meant for JP only.
    assert sorted(a.key for a in stored) == sorted(a.key for a in [*green, later])
    assert {a.key: a for a in stored}[green[1].key].level == green[1].level
    assert result.stored + result.duplicates >= 6 and result.duplicates >= 1
    reasons = {json.loads(r["detail"])["reason"] for r in rejects}
    assert reasons == {"bad_signature", "unsigned", "malformed"}

    dead = peek(connect(), dead_letter_subject(prefix, subject))
    by_key = {m.key: m.headers[REASON_HEADER].split(":")[0] for m in dead}
    assert by_key == {
        "forged": "bad_signature",
        "altered": "bad_signature",
        "unsigned": "unsigned",
        "garbage": "malformed",
    }

    # JP's subject carries its AMBER alert; US never saw it.
    assert amber_jp.key not in {a.key for a in stored}
