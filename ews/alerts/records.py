"""The alert record: the contract between the risk stage, people and partner nodes.

An alert's id is stable for one episode of one item and supplier (and importer, for a
watchlist alert): it derives from those fields and the episode's start, so every node names
the same episode the same way. Each change is a new version; versions reference the ones before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Level = Literal["normal", "attention", "caution", "alert", "serious"]
LEVELS: tuple[Level, ...] = ("normal", "attention", "caution", "alert", "serious")
MsgType = Literal["Alert", "Update", "Cancel"]
Tlp = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
TLPS: tuple[Tlp, ...] = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
EvidenceKind = Literal["event", "trade_anomaly", "price_anomaly", "dependence", "note"]


def level_rank(level: Level) -> int:
    """0 for normal up to 4 for serious."""
    return LEVELS.index(level)


def alert_id_for(hs: str, supplier: str | None, importer: str | None, onset: dt.date) -> str:
    """The stable id of an episode: ``ews-<hs>-<supplier>-<importer>-<onset>-<hash8>``.

    Readable for people, and the hash makes it safe to use as a CAP identifier and a file name.
    Changing this function is a breaking change for partners.
    """
    parts = [hs, supplier or "XX", importer or "ALL", onset.strftime("%Y%m%d")]
    digest = hashlib.sha256("|".join(parts).encode("ascii")).hexdigest()[:8]
    return "ews-" + "-".join(parts) + "-" + digest


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
    link: str | None = None
    source: str | None = Field(default=None, description="Source id or outlet.")
    figure: float | None = Field(
        default=None, allow_inf_nan=False, description="The number behind the evidence."
    )
    weight: float | None = Field(
        default=None, allow_inf_nan=False, description="Its contribution to the score."
    )


class Alert(_Record):
    """One version of an alert."""

    alert_id: str = Field(description="Stable episode id (see alert_id_for).")
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
    origin_node: str
    onset: dt.date = Field(description="First day of the episode.")
    sent: dt.datetime = Field(description="When this version was issued (timezone-aware).")
    expires: dt.datetime | None = None

    @field_validator("sent", "expires")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must carry a timezone")
        return value

    @property
    def key(self) -> str:
        """``<alert_id>#<version>``: how versions reference each other."""
        return f"{self.alert_id}#{self.version}"
