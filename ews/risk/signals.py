"""Signals: what the risk stage scores, whatever stage produced them.

A signal concerns one material family (and the HS codes it names), maybe one supplier
country, and becomes *known* on a date: a backtest only uses signals known by its clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ews.catalog import Catalog

SignalKind = Literal["event", "trade_anomaly", "price_anomaly"]


class Signal(BaseModel):
    """One scored piece of evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SignalKind
    type: str = Field(description="Event type for text, 'trade_anomaly' or 'price_anomaly'.")
    ref: str = Field(description="Id of the event, cluster or anomaly.")
    group: str = Field(description="Catalogue material family.")
    hs: tuple[str, ...] = Field(description="HS codes concerned.")
    supplier: str | None = Field(description="Country causing the disruption; None if global.")
    importer: str | None = Field(
        default=None,
        description="Set when the signal concerns one importer only (a supplier's exports to it).",
    )
    observed: dt.date = Field(description="The date the signal is about.")
    known: dt.date = Field(description="The date it became known (>= observed).")
    strength: float = Field(ge=0.0, le=1.0)
    standing: bool = Field(
        default=False,
        description="A control in force until eased: it fades only to a floor, never out.",
    )
    summary: str
    sources: int = Field(default=1, ge=1)
    lang: str | None = None
    text: str | None = None
    link: str | None = None
    source: str | None = None
    figure: float | None = None
    witness: str | None = Field(
        default=None,
        description="Who attests it, for corroboration: the outlet of a report, the series of "
        "a measured anomaly. Two signals of one witness are one voice.",
    )
    official: bool = Field(
        default=False, description="Told by the government taking the measure: two voices."
    )
    effective: dt.date | None = Field(
        default=None,
        description="For a measure announced ahead of time, the day it takes effect.",
    )


class SignalProblem(BaseModel):
    """A signal refused before scoring, with the reason (never silently scored)."""

    model_config = ConfigDict(frozen=True)

    ref: str
    reason: str


def screen(
    signals: Iterable[Signal], catalog: Catalog, *, today: dt.date
) -> tuple[list[Signal], list[SignalProblem]]:
    """Refuse signals dated in the future, without provenance, or naming unknown things."""
    ok: list[Signal] = []
    problems: list[SignalProblem] = []
    for s in signals:
        if s.known > today or s.observed > today:
            problems.append(SignalProblem(ref=s.ref, reason=f"dated in the future ({s.known})"))
        elif s.known < s.observed:
            problems.append(SignalProblem(ref=s.ref, reason="known before it happened"))
        elif not s.ref:
            problems.append(SignalProblem(ref="?", reason="no provenance (empty ref)"))
        elif s.group not in catalog.groups:
            problems.append(SignalProblem(ref=s.ref, reason=f"unknown family {s.group!r}"))
        elif s.supplier is not None and s.supplier not in catalog.countries:
            problems.append(SignalProblem(ref=s.ref, reason=f"unknown country {s.supplier!r}"))
        else:
            ok.append(s)
    return ok, problems
