"""TLP 2.0 sharing rule, label parsing and the STIX 2.1 export with TLP 2.0 markings."""

from __future__ import annotations

import json

import pytest

from ews.alerts.records import Alert
from ews.alerts.stix import to_stix
from ews.alerts.tlp import Agreement, PartnerPolicy, parse_tlp, share_decision
from ews.errors import InputError
from tests.alerts.test_cap import sample

US = PartnerPolicy(name="US")
JP = PartnerPolicy(name="JP")
JP_AGREES_2805 = PartnerPolicy(name="JP", agreements=(Agreement("2805", "AMBER"),))
JP_AGREES_31 = PartnerPolicy(name="JP", agreements=(Agreement("31", "AMBER+STRICT"),))
JP_GREEN_ONLY = PartnerPolicy(name="JP", tlp_max="GREEN")
JP_INACTIVE = PartnerPolicy(name="JP", active=False)

# (tlp, recipients, partner, shared?)
CASES = [
    ("CLEAR", (), JP, True),
    ("GREEN", (), JP, True),
    ("GREEN", (), JP_INACTIVE, False),
    ("AMBER", ("US",), US, True),
    ("AMBER", ("US",), JP, False),
    ("AMBER", (), JP_AGREES_2805, True),  # item 280530 is under 2805
    ("AMBER", (), JP_AGREES_31, False),  # agreement on another chapter
    ("AMBER+STRICT", ("US",), US, True),
    ("AMBER+STRICT", (), JP_AGREES_2805, False),  # agreement only up to AMBER
    ("AMBER", ("JP",), JP_GREEN_ONLY, False),  # partner's ceiling wins over naming
    ("RED", ("US", "JP"), US, False),
    ("RED", (), JP_AGREES_2805, False),
]


@pytest.mark.parametrize(("tlp", "recipients", "partner", "shared"), CASES)
def test_share_decision(
    tlp: str, recipients: tuple[str, ...], partner: PartnerPolicy, shared: bool
) -> None:
    alert = sample(tlp=tlp, recipients=recipients)
    ok, why = share_decision(alert, partner)
    assert ok is shared, why
    assert why


@pytest.mark.parametrize(
    ("text", "tlp"),
    [
        ("amber", "AMBER"),
        ("TLP:AMBER+STRICT", "AMBER+STRICT"),
        ("tlp:white", "CLEAR"),
        ("RED", "RED"),
    ],
)
def test_parse_tlp(text: str, tlp: str) -> None:
    assert parse_tlp(text) == tlp


def test_parse_tlp_refuses_unknown_labels() -> None:
    with pytest.raises(InputError, match="unknown TLP"):
        parse_tlp("PURPLE")


# Official ids of the TLP 2.0 marking definitions (OASIS cti-stix-common-objects).
OFFICIAL = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


@pytest.mark.parametrize("tlp", list(OFFICIAL))
def test_stix_bundle_is_marked_with_tlp2(tlp: str) -> None:
    import stix2

    alert: Alert = sample(tlp=tlp)
    bundle = to_stix(alert)
    parsed = stix2.parse(json.dumps(bundle))  # the library accepts what we write
    assert parsed.type == "bundle"
    markings = [o for o in bundle["objects"] if o["type"] == "marking-definition"]
    assert [m["id"] for m in markings] == [OFFICIAL[tlp]]
    ext = markings[0]["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
    assert ext == {"extension_type": "property-extension", "tlp_2_0": tlp.lower()}
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert report["object_marking_refs"] == [OFFICIAL[tlp]]
    assert report["external_references"][0]["external_id"] == alert.key
    assert to_stix(alert) == bundle  # deterministic ids
