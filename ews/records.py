"""Typed domain records shared by every stage.

Storage rows and API models are separate: these records are what stages hand each other.
Observations carry their provenance so any figure can be traced to a file and row.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

Lang = Literal["en", "ko", "ja", "zh", "vi"]
NameKey = Literal["en", "ko", "ja", "zh_hans", "zh_hant", "vi"]
NAME_KEYS: tuple[NameKey, ...] = ("en", "ko", "ja", "zh_hans", "zh_hant", "vi")
Sector = Literal[
    "critical_minerals", "semiconductors", "batteries", "fertilisers", "pharmaceuticals", "energy"
]
Flow = Literal["export", "import", "re-export", "re-import"]
WORLD = "WLD"
"""Partner code for 'all partners' aggregates (ISO 3166 has no code for the world)."""


_WEB_LINK = re.compile(r"^https?://[^/?#\\@\s]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def safe_link(value: str | None) -> str | None:
    """``value`` when it is an absolute ``http://`` or ``https://`` URL, else None.

    Links come from news files, CAP files and partners and end up as ``href`` attributes on
    the dashboard and in messages to partners: ``javascript:``, ``data:`` and every other
    scheme are dropped, and so is a value with whitespace or control characters inside (a
    browser strips leading ones, so `` javascript:`` would run). Surrounding whitespace is
    trimmed. The record keeps its other fields: a bad link is no reason to lose the news.
    """
    if value is None:
        return None
    link = value.strip(" \t\r\n\f\v")
    if not _WEB_LINK.match(link) or _CONTROL.search(link):
        return None
    return link


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Provenance(Record):
    """Where a row came from: enough to open the file and find the row again."""

    source_id: str = Field(
        description="Source id from the source registry.", examples=["pinksheet"]
    )
    file_name: str = Field(description="Base name of the ingested file.", examples=["CMO.xlsx"])
    file_sha256: str = Field(
        description="SHA-256 of the file's bytes.", min_length=64, max_length=64
    )
    row: int = Field(description="1-based row number in the file (sheet row for workbooks).", ge=1)
    column: str | None = Field(default=None, description="Column or series header, where useful.")


class ItemGroup(Record):
    """A material family (e.g. rare earths); a text naming only the family maps to all items."""

    id: str = Field(examples=["rare_earths"])
    sector: Sector
    names: dict[NameKey, str] = Field(description="Display names in the six name keys.")
    aliases: dict[NameKey, tuple[str, ...]] = Field(default_factory=dict)
    ambiguous: dict[NameKey, tuple[str, ...]] = Field(
        default_factory=dict, description="Aliases that need a context word nearby to count."
    )
    other_senses: dict[NameKey, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Words that, near an ambiguous alias, show it is used in another sense "
        "(a pesticide's 'hoạt chất' is not a drug's); they win over any context word.",
    )


class Item(Record):
    """A critical item keyed by its HS 2022 code (4 or 6 digits)."""

    hs: str = Field(pattern=r"^\d{4}(\d{2})?$", examples=["310210"])
    group: str = Field(examples=["urea"])
    sector: Sector
    names: dict[NameKey, str]
    aliases: dict[NameKey, tuple[str, ...]] = Field(default_factory=dict)
    ambiguous: dict[NameKey, tuple[str, ...]] = Field(default_factory=dict)
    other_senses: dict[NameKey, tuple[str, ...]] = Field(default_factory=dict)
    note: str = Field(default="", description="Why the item is critical.")
    hs_description: str = Field(default="", description="The HS 2022 heading text.")


class Country(Record):
    """A country or territory (ISO 3166-1) with names in the five languages."""

    iso2: str = Field(pattern=r"^[A-Z]{2}$", examples=["KR"])
    iso3: str = Field(pattern=r"^[A-Z]{3}$", examples=["KOR"])
    numeric: str = Field(pattern=r"^\d{3}$", examples=["410"])
    region: str = ""
    subregion: str = ""
    names: dict[NameKey, str]
    aliases: tuple[str, ...] = ()


class PriceObservation(Record):
    """One price of one series for one period."""

    series_id: str = Field(description="Stable series id within the source.", examples=["urea"])
    series_name: str = Field(examples=["Urea"])
    hs: str | None = Field(default=None, description="Catalogue item the series prices, if any.")
    period: dt.date = Field(description="First day of the period.")
    freq: Literal["M", "D"] = "M"
    value: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(examples=["$/mt"])
    provenance: Provenance


class TradeObservation(Record):
    """One bilateral trade flow: reporter's flow with partner, for one product and period."""

    reporter: str = Field(description="ISO alpha-2 of the reporting country.", examples=["CN"])
    partner: str = Field(description="ISO alpha-2 of the partner, or WLD for all partners.")
    flow: Flow
    period: dt.date = Field(description="First day of the month (or of the year when freq is A).")
    freq: Literal["M", "A"] = "M"
    hs: str | None = Field(default=None, description="HS code of the product, when given.")
    item_group: str | None = Field(
        default=None, description="Catalogue group when the source reports a family, not a code."
    )
    value_usd: float = Field(ge=0, allow_inf_nan=False)
    quantity: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    quantity_unit: str | None = None
    provenance: Provenance

    @property
    def product_key(self) -> str:
        """The product part of the row's natural key: the HS code, else the group."""
        return self.hs if self.hs is not None else f"group:{self.item_group}"


EventType = Literal[
    "export_restriction",
    "import_restriction",
    "sanction",
    "production_disruption",
    "natural_disaster",
    "logistics_disruption",
    "conflict",
    "price_spike",
    "shortage",
    "restriction_eased",
    "cooperation",
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
"""Every event type, in the order of :data:`EventType`."""


class Document(Record):
    """A news item or official notice, as read from a source."""

    doc_id: str = Field(description="Stable id: the source's own id, else a hash of link/content.")
    source_id: str = Field(examples=["vi-news"])
    title: str = ""
    text: str = Field(default="", description="Body or summary text.")
    published: dt.datetime | None = None
    lang: Lang | None = Field(default=None, description="Declared or detected language.")
    link: str | None = Field(
        default=None, description="The web address (http or https only; others are dropped)."
    )
    outlet: str | None = Field(default=None, description="Publisher name, e.g. 'VnExpress'.")
    provenance: Provenance

    @field_validator("link")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        return safe_link(value)


class Event(Record):
    """A supply-disruption (or easing, or cooperation) event found in a document."""

    event_id: str = Field(description="Stable id derived from doc_id, type, country and items.")
    doc_id: str
    lang: Lang
    event_type: EventType
    items: tuple[str, ...] = Field(description="HS codes of catalogue items concerned.")
    country: str | None = Field(
        description="ISO alpha-2 of the country whose action or territory causes the event."
    )
    date: dt.date = Field(description="Publication date, or the effective date the text states.")
    evidence: str = Field(description="The sentence the event was read from.")
    confidence: float = Field(ge=0.0, le=1.0)
    matched: tuple[str, ...] = Field(default=(), description="Lexicon terms that fired.")
    target: str | None = Field(
        default=None,
        description="ISO alpha-2 of the country a measure is aimed at ('exports to the US').",
    )
