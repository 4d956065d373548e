"""The alert record: the contract between the risk stage, people and partner nodes.

An alert's id names one episode of one item and supplier (and importer, for a watchlist alert)
as seen by the node that raised it: ``<episode>@<node>``, where the episode part derives from
those fields and the episode's start and the node part is the origin node's id. Only that node
issues versions under the id, so two nodes raising the same episode never collide and no node
can write into another's alert. Each change is a new version; versions reference the ones
before, under the same id. Ids without ``@`` are the format before namespacing (legacy: read,
and accepted from partners only as described in docs/federation.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ews.records import safe_link

Level = Literal["normal", "attention", "caution", "alert", "serious"]
LEVELS: tuple[Level, ...] = ("normal", "attention", "caution", "alert", "serious")
MsgType = Literal["Alert", "Update", "Cancel"]
Tlp = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
TLPS: tuple[Tlp, ...] = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
EvidenceKind = Literal["event", "trade_anomaly", "price_anomaly", "dependence", "note"]


def level_rank(level: Level) -> int:
    """0 for normal up to 4 for serious."""
    return LEVELS.index(level)


NODE_SEPARATOR: Final = "@"
"""Between an alert id's episode part and its origin node; node ids cannot contain it."""
NODE_ID_PATTERN: Final = r"[A-Za-z0-9_.-]{1,64}"
"""What a node id may be (``EWS_NODE_ID``, partner names): no ``@``, ``#`` or whitespace."""
ALERT_ID_PATTERN: Final = rf"^[^@#\s]{{1,200}}(@{NODE_ID_PATTERN})?$"
"""An episode part without ``@``, ``#`` (the version separator of keys) or whitespace, then
``@<node>``; legacy ids have no node part."""


def alert_id_for(
    hs: str, supplier: str | None, importer: str | None, onset: dt.date, *, node: str
) -> str:
    """The id node ``node`` gives an episode.

    ``ews-<hs>-<supplier>-<importer>-<onset>-<hash8>@<node>``, e.g.
    ``ews-280530-CN-ALL-20260105-95b76c90@KR`` (the hash covers the node too).

    Readable for people, safe as a CAP identifier, a URL path segment and a file name. The
    node part makes the id the raising node's own: another node raising the same episode
    names it with its own node part. Changing this function is a breaking change for partners.
    """
    if not re.fullmatch(NODE_ID_PATTERN, node):
        raise ValueError(f"node id {node!r} must match {NODE_ID_PATTERN}")
    parts = [hs, supplier or "XX", importer or "ALL", onset.strftime("%Y%m%d")]
    digest = hashlib.sha256("|".join([*parts, node]).encode("utf-8")).hexdigest()[:8]
    return "ews-" + "-".join(parts) + "-" + digest + NODE_SEPARATOR + node


def legacy_alert_id_for(hs: str, supplier: str | None, importer: str | None, onset: dt.date) -> str:
    """The id the same episode had before ids were namespaced by node (no ``@<node>``).

    Kept so a node can continue its own episodes stored under that format.
    """
    parts = [hs, supplier or "XX", importer or "ALL", onset.strftime("%Y%m%d")]
    digest = hashlib.sha256("|".join(parts).encode("ascii")).hexdigest()[:8]
    return "ews-" + "-".join(parts) + "-" + digest


def alert_origin(alert_id: str) -> str | None:
    """The node an alert id belongs to (its ``@<node>`` part); None for a legacy id."""
    episode, sep, node = alert_id.rpartition(NODE_SEPARATOR)
    return node if sep and episode else None


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evidence(_Record):
    """One reason behind an alert: a text event, an anomaly figure or a dependence figure."""

    kind: EvidenceKind
    ref: str = Field(description="Id of the event, anomaly or indicator row.", examples=["ev-1a2b"])
    summary: str = Field(description="One line for people, in English.")
    date: dt.date | None = None
    lang: str | None = Field(default=None, description="Language of the quoted text, if any.")
    text: str | None = Field(default=None, description="The evidence sentence, in its language.")
    link: str | None = Field(
        default=None, description="Web address of the source (http or https; others dropped)."
    )
    source: str | None = Field(default=None, description="Source id or outlet.")
    figure: float | None = Field(
        default=None, allow_inf_nan=False, description="The number behind the evidence."
    )
    weight: float | None = Field(
        default=None, allow_inf_nan=False, description="Its contribution to the score."
    )

    @field_validator("link")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        # From news, CAP files and partners alike: only http(s) becomes a link (see safe_link).
        return safe_link(value)


class Alert(_Record):
    """One version of an alert."""

    alert_id: str = Field(
        pattern=ALERT_ID_PATTERN,
        description="Stable episode id of the origin node (see alert_id_for).",
        examples=["ews-280530-CN-ALL-20260105-95b76c90@KR"],
    )
    version: int = Field(ge=1)
    msg_type: MsgType
    hs: str = Field(pattern=r"^[0-9]{4}([0-9]{2})?$", examples=["280530"])
    item_name: str = Field(examples=["Rare-earth metals"])
    supplier: str | None = Field(
        description="ISO alpha-2 of the country whose action or territory causes the risk."
    )
    importer: str | None = Field(
        default=None, description="Watching country for a watchlist alert; None for global."
    )
    level: Level
    previous_level: Level | None = None
    score: float = Field(ge=0.0)
    headline: str
    summary: str
    evidence: tuple[Evidence, ...] = ()
    references: tuple[str, ...] = Field(
        default=(), description="Earlier versions, as '<alert_id>#<version>'."
    )
    tlp: Tlp = "AMBER"
    recipients: tuple[str, ...] = Field(
        default=(), description="Named partners an AMBER alert may go to."
    )
    origin_node: str = Field(pattern=rf"^{NODE_ID_PATTERN}$", examples=["KR"])
    onset: dt.date = Field(description="First day of the episode.")
    sent: dt.datetime = Field(description="When this version was issued (timezone-aware).")
    expires: dt.datetime | None = None

    @field_validator("sent", "expires")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must carry a timezone")
        return value

    @model_validator(mode="after")
    def _own_id(self) -> Alert:
        # The id's node part is the origin: no node can issue versions of another's alert.
        owner = alert_origin(self.alert_id)
        if owner is not None and owner != self.origin_node:
            raise ValueError(
                f"alert id {self.alert_id} belongs to node {owner!r}, "
                f"but origin_node is {self.origin_node!r}"
            )
        # A version refers only to earlier versions of its own alert, so it cannot reach into
        # another alert (or another node's) through its references.
        for ref in self.references:
            alert_id, _, version = ref.rpartition("#")
            if not (
                alert_id == self.alert_id
                and version.isascii()
                and version.isdigit()
                and 1 <= int(version) < self.version
            ):
                raise ValueError(f"reference {ref!r} is not an earlier version of {self.alert_id}")
        return self

    @property
    def key(self) -> str:
        """``<alert_id>#<version>``: how versions reference each other."""
        return f"{self.alert_id}#{self.version}"
