"""TLP 2.0: labels, their order, and who may receive an alert.

The sharing rule (FIRST TLP 2.0 read for a network of nodes):

- ``RED`` never leaves the node that raised it.
- ``AMBER`` and ``AMBER+STRICT`` go only to partners named in the alert's ``recipients`` or
  holding an agreement that covers the alert's item at that label.
- ``CLEAR`` and ``GREEN`` go to every active partner.

On top, each partner has a ceiling (``tlp_max``): it never receives anything above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ews.alerts.records import TLPS, Alert, Tlp
from ews.errors import InputError

TLP_RANK: Final[dict[Tlp, int]] = {tlp: rank for rank, tlp in enumerate(TLPS)}
"""CLEAR 0 (least restricted) up to RED 4."""

# Official STIX 2.1 ids of the TLP 2.0 marking definitions and of their extension, from the
# OASIS cti-stix-common-objects repository (extension-definition-specifications/tlp-2.0).
TLP2_EXTENSION_ID: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_MARKING_IDS: Final[dict[Tlp, str]] = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP2_CREATED: Final = "2022-10-01T00:00:00.000Z"


def label(tlp: Tlp) -> str:
    """``TLP:AMBER`` etc., the form TLP 2.0 asks to show."""
    return f"TLP:{tlp}"


def parse_tlp(text: str) -> Tlp:
    """A TLP value from ``AMBER``, ``tlp:amber`` or ``TLP:AMBER+STRICT``; WHITE reads as CLEAR."""
    value = text.strip().upper().removeprefix("TLP:")
    if value == "WHITE":  # TLP 1.0 name of CLEAR
        value = "CLEAR"
    for tlp in TLPS:
        if tlp == value:
            return tlp
    raise InputError(f"unknown TLP label {text!r}; use one of {', '.join(TLPS)}", field="tlp")


def at_most(tlp: Tlp, ceiling: Tlp) -> bool:
    """True when ``tlp`` is no more restricted than ``ceiling``."""
    return TLP_RANK[tlp] <= TLP_RANK[ceiling]


@dataclass(frozen=True)
class Agreement:
    """A standing agreement: the partner receives alerts on items under ``hs_prefix``
    ('' for all items) up to ``tlp_max``."""

    hs_prefix: str
    tlp_max: Tlp


@dataclass(frozen=True)
class PartnerPolicy:
    """What the sharing rule needs to know about one partner."""

    name: str
    tlp_max: Tlp = "AMBER+STRICT"
    active: bool = True
    agreements: tuple[Agreement, ...] = ()


def share_decision(alert: Alert, partner: PartnerPolicy) -> tuple[bool, str]:
    """Whether ``partner`` may receive ``alert``, with the reason in words."""
    if alert.tlp == "RED":
        return False, "TLP:RED never leaves this node"
    if not partner.active:
        return False, "partner is inactive"
    if not at_most(alert.tlp, partner.tlp_max):
        return False, f"{label(alert.tlp)} is above the partner's ceiling {label(partner.tlp_max)}"
    if alert.tlp in ("CLEAR", "GREEN"):
        return True, f"{label(alert.tlp)} goes to all partners"
    if partner.name in alert.recipients:
        return True, f"{label(alert.tlp)}: partner is a named recipient"
    for agreement in partner.agreements:
        if alert.hs.startswith(agreement.hs_prefix) and at_most(alert.tlp, agreement.tlp_max):
            scope = agreement.hs_prefix or "all items"
            return (
                True,
                f"{label(alert.tlp)}: agreement on {scope} up to {label(agreement.tlp_max)}",
            )
    return (
        False,
        f"{label(alert.tlp)}: partner is neither a named recipient nor covered by an agreement",
    )
