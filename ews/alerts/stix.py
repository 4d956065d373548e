"""Alerts as STIX 2.1 bundles marked with TLP 2.0.

``stix2`` ships only the TLP 1.0 markings, so the bundle carries the TLP 2.0 marking definition
with its official id and the property extension of the TLP 2.0 extension definition (see
:mod:`ews.alerts.tlp`). The bundle holds: the marking definition, an ``identity`` for the
origin node, a ``location`` for the supplier country (when known) and a ``report`` with the
headline, summary, level and evidence. Ids are UUIDv5 of the alert version, so exporting the
same version twice gives the same bundle.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import stix2

from ews.alerts.records import Alert
from ews.alerts.tlp import TLP2_CREATED, TLP2_EXTENSION_ID, TLP2_MARKING_IDS, label

# Namespace for EWS's deterministic STIX ids (a UUIDv5 of a fixed name, never to change).
EWS_STIX_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ews:stix")


def tlp2_marking(tlp: str) -> Any:
    """The TLP 2.0 marking-definition object for ``tlp`` (e.g. ``AMBER+STRICT``)."""
    key = tlp.upper()
    return stix2.v21.MarkingDefinition(
        id=TLP2_MARKING_IDS[key],  # type: ignore[index]
        created=TLP2_CREATED,
        name=f"TLP:{key}",
        extensions={
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": key.lower()}
        },
    )


def _id(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(EWS_STIX_NS, name)}"


def to_stix(alert: Alert) -> dict[str, Any]:
    """The alert version as a STIX 2.1 bundle (a JSON-ready dict)."""
    marking = tlp2_marking(alert.tlp)
    marks = [marking.id]
    ts = alert.sent
    identity = stix2.v21.Identity(
        id=_id("identity", f"node:{alert.origin_node}"),
        name=f"EWS node {alert.origin_node}",
        identity_class="organization",
        created=ts,
        modified=ts,
    )
    objects: list[Any] = [marking, identity]
    refs = [identity.id]
    if alert.supplier:
        location = stix2.v21.Location(
            id=_id("location", f"country:{alert.supplier}"),
            country=alert.supplier,
            created=ts,
            modified=ts,
            created_by_ref=identity.id,
            object_marking_refs=marks,
        )
        objects.append(location)
        refs.insert(0, location.id)
    evidence_text = "\n".join(f"- [{e.kind}] {e.summary}" for e in alert.evidence)
    report = stix2.v21.Report(
        id=_id("report", alert.key),
        name=alert.headline or f"Supply risk: {alert.item_name}",
        description=alert.summary + (f"\n\nEvidence:\n{evidence_text}" if evidence_text else ""),
        published=ts,
        created=ts,
        modified=ts,
        report_types=["threat-report"],
        labels=[f"ews-level:{alert.level}", f"hs:{alert.hs}", label(alert.tlp).lower()],
        object_refs=refs,
        created_by_ref=identity.id,
        object_marking_refs=marks,
        external_references=[
            {"source_name": "ews", "external_id": alert.key, "description": alert.msg_type}
        ]
        + [
            {"source_name": e.source or "ews-evidence", "url": e.link, "description": e.summary}
            for e in alert.evidence
            if e.link
        ],
    )
    objects.append(report)
    bundle = stix2.v21.Bundle(id=_id("bundle", alert.key), objects=objects)
    result: dict[str, Any] = json.loads(bundle.serialize())
    return result
