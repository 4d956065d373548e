"""Alerts through a stream: signed messages per partner in, verified alert versions out.

The publisher seals each of this node's alert versions for each active partner the sharing
rule lets see it (TLP, agreements: :func:`~ews.alerts.tlp.share_decision`), exactly as a push
delivery would, and publishes it on ``<prefix>.alerts.<partner>`` keyed by ``alert_id#version``.
A partner's consumer reads its own subject and hands every message to the federation inbox
(:func:`ews.federation.inbox.accept`: signature against the sender's registered key,
addressing, validity window, origin), which stores the version with
:func:`~ews.alerts.repository.save_alert`, idempotent by ``alert_id#version``, and audits it
as ``stream.receive``.

Two differences from a push or a pull, both because a stream is read late and more than once
(the consumer passes them to the inbox as ``max_lifetime`` and ``nonces="ignore"``): messages
stay valid for ``EWS_STREAM_MESSAGE_TTL`` (a week by default) instead of minutes, and
their nonces are not consumed, since a redelivered message must store nothing rather than be
refused as a replay. A replayed message can only repeat a version its sender signed, which
storage by version turns into a no-op. A refused message (unsigned, forged, altered, from a
stranger, a conflicting version) is audited as ``federation.reject``, copied to
``<prefix>.dead.alerts.<partner>`` with the reason and acknowledged: the stream goes on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ews.alerts.repository import load_alerts
from ews.alerts.signing import Rejected, seal
from ews.alerts.tlp import share_decision
from ews.errors import EwsError
from ews.federation.inbox import accept
from ews.federation.node import Node
from ews.federation.partners import list_partners
from ews.stream.news import SCHEMA, SCHEMA_HEADER, TYPE_HEADER, dead_letter
from ews.stream.transport import Message, Transport


def alerts_subject(prefix: str, recipient: str) -> str:
    return f"{prefix}.alerts.{recipient}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class PublishAlertsReport:
    """What one publication round did."""

    versions: int = 0
    messages: dict[str, int] = field(default_factory=dict)
    withheld: int = 0

    def summary(self) -> str:
        sent = ", ".join(f"{n} to {p}" for p, n in sorted(self.messages.items())) or "none"
        return (
            f"{self.versions} alert versions: messages {sent}; "
            f"{self.withheld} withheld by the sharing rule"
        )


def publish_alerts(
    transport: Transport,
    node: Node,
    *,
    prefix: str,
    ttl: dt.timedelta,
    to: Iterable[str] = (),
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> PublishAlertsReport:
    """Publish this node's alert versions (sent at or after ``since``) to the active partners
    (only those named in ``to``, when given), each sealed for its recipient."""
    now = now or _now()
    report = PublishAlertsReport()
    wanted = set(to)
    with node.store() as store:
        alerts = [
            a for a in load_alerts(store, origin=node.node_id) if since is None or a.sent >= since
        ]
        partners = list_partners(store, active_only=True)
    unknown = wanted - {p.name for p in partners}
    if unknown:
        raise EwsError(f"not active partners: {', '.join(sorted(unknown))} (see ews partners)")
    if wanted:
        partners = [p for p in partners if p.name in wanted]
    for alert in alerts:
        report.versions += 1
        for partner in partners:
            if not share_decision(alert, partner.policy)[0]:
                report.withheld += 1
                continue
            message = seal(
                alert, node.key, sender=node.node_id, recipient=partner.name, now=now, ttl=ttl
            )
            transport.publish(
                alerts_subject(prefix, partner.name),
                alert.key,
                json.dumps(message, ensure_ascii=False).encode("utf-8"),
                {TYPE_HEADER: "alert", SCHEMA_HEADER: SCHEMA, "ews-sender": node.node_id},
                dedup_id=f"alert:{alert.key}>{partner.name}",
            )
            report.messages[partner.name] = report.messages.get(partner.name, 0) + 1
    transport.flush()
    with node.store() as store, store.transaction():
        store.audit(
            node.node_id,
            "stream.publish.alerts",
            prefix,
            {"versions": report.versions, "messages": report.messages, "withheld": report.withheld},
        )
    return report


@dataclass
class ConsumeAlertsReport:
    """What a consumer run stored and refused."""

    subject: str
    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    redelivered: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text = (
            f"{self.subject}: {self.messages} messages ({self.redelivered} redelivered): "
            f"{self.stored} alert versions stored, {self.duplicates} already stored"
        )
        if self.refused:
            text += "; refused (dead letters): " + ", ".join(
                f"{n} {why}" for why, n in sorted(self.refused.items())
            )
        return text


def consume_alerts(
    transport: Transport,
    node: Node,
    *,
    prefix: str,
    durable: str,
    max_lifetime: dt.timedelta,
    batch: int = 100,
    follow: bool = False,
    clock: Callable[[], dt.datetime] = _now,
    after_store: Callable[[ConsumeAlertsReport], None] | None = None,
) -> ConsumeAlertsReport:
    """Store the verified alerts of ``<prefix>.alerts.<this node>``; see the module docstring.

    The store is opened for each batch only (as the federation server does), so a long-running
    consumer does not keep other processes out. ``after_store`` runs before the acks."""
    subject = alerts_subject(prefix, node.node_id)
    report = ConsumeAlertsReport(subject=subject)
    via = f"stream:{subject}"
    for messages in transport.consume(subject, durable, batch=batch, follow=follow):
        refused: list[tuple[Message, Rejected]] = []
        with node.store() as store:
            for message in messages:
                try:
                    got = accept(
                        store,
                        node,
                        message.payload,
                        via=via,
                        now=clock(),
                        nonces="ignore",
                        max_lifetime=max_lifetime,
                        action="stream.receive",
                    )
                except Rejected as rej:
                    refused.append((message, rej))
                    report.refused[rej.reason] = report.refused.get(rej.reason, 0) + 1
                    continue
                if got.outcome == "stored":
                    report.stored += 1
                else:
                    report.duplicates += 1
        for message, refusal in refused:
            detail = refusal.message.removeprefix(f"{refusal.reason}: ")
            dead_letter(transport, prefix, message, refusal.reason, detail)
        transport.flush()
        report.messages += len(messages)
        report.redelivered += sum(m.redelivered for m in messages)
        if after_store is not None:
            after_store(report)
        for message in messages:
            message.ack()
    return report
