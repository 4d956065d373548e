"""The risk configuration (``config.yaml``) and structural priors (``structural.yaml``)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from typing import Annotated

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ews.alerts.records import LEVELS, Level


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Easing(_Strict):
    offsets: tuple[str, ...]
    max_offset: float = Field(ge=0.0, le=1.0)


class HalfLives(_Strict):
    event: float = Field(gt=0)
    trade_anomaly: float = Field(gt=0)
    price_anomaly: float = Field(gt=0)


class Lags(_Strict):
    trade: int = Field(ge=0)
    prices: int = Field(ge=0)


class TradeFloor(_Strict):
    """How thin a bilateral trade series may be and still count (see config.yaml)."""

    min_partner_share: float = Field(ge=0, le=1)
    min_expected_usd: float = Field(ge=0)
    share_months: int = Field(ge=1)


class Corroboration(_Strict):
    """How many independent voices a unit needs above ``cap`` (see config.yaml)."""

    min_voices: int = Field(ge=1)
    cap: Level


class Standing(_Strict):
    kinds: tuple[str, ...]
    floor: float = Field(ge=0.0, le=1.0)
    backward_days: int = Field(ge=0)
    max_days: int = Field(gt=0)
    ended_by: float = Field(gt=0.0, le=1.0)


class Contagion(_Strict):
    min_share: float = Field(ge=0.0, le=1.0)
    kinds: tuple[str, ...]


class Structural(_Strict):
    floor: float = Field(ge=0)
    unknown_share: float = Field(ge=0, le=1)


class Hysteresis(_Strict):
    down_factor: float = Field(gt=0, le=1)
    min_days: int = Field(ge=0)


class RiskConfig(_Strict):
    """Weights, decay, thresholds and hysteresis: one versioned document."""

    version: str
    weights: dict[str, float]
    easing: Easing
    standing: Standing
    contagion: Contagion
    half_life_days: HalfLives
    horizon_half_lives: float = Field(gt=0)
    event_source_base: float = Field(gt=0, lt=1)
    anomaly_z_floor: float = Field(ge=0)
    anomaly_z_full: float
    lag_days: Lags
    trade: TradeFloor
    corroboration: Corroboration
    structural: Structural
    thresholds: dict[Level, float]
    hysteresis: Hysteresis
    watchlist: tuple[str, ...]

    @model_validator(mode="after")
    def _consistent(self) -> RiskConfig:
        if set(self.thresholds) != set(LEVELS[1:]):
            raise ValueError(f"thresholds must give exactly {LEVELS[1:]}")
        values = [self.thresholds[level] for level in LEVELS[1:]]
        if values != sorted(values) or len(set(values)) != len(values) or values[0] <= 0:
            raise ValueError("thresholds must be positive and strictly increasing by level")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("weights are contributions and must not be negative")
        if self.anomaly_z_full <= self.anomaly_z_floor:
            raise ValueError("anomaly_z_full must exceed anomaly_z_floor")
        return self


class Prior(_Strict):
    share: float = Field(ge=0, le=1)
    known: dt.date = Field(description="The day the figure became public; used only from then.")
    basis: str
    source: str
    url: str = ""


def _vintages(value: object) -> object:
    """One figure, or several vintages of it, as a list sorted by the day each became known."""
    items = value if isinstance(value, list) else [value]
    return sorted(items, key=lambda p: str(p.get("known", "")) if isinstance(p, dict) else "")


Vintages = Annotated[list[Prior], BeforeValidator(_vintages), Field(min_length=1)]


def as_of(vintages: list[Prior], day: dt.date | None) -> Prior | None:
    """The newest vintage known on ``day`` (the newest of all when ``day`` is None); of several
    published the same day (members of one family), the highest."""
    known = [p for p in vintages if day is None or p.known <= day]
    if not known:
        return None
    newest = known[-1].known
    return max((p for p in known if p.known == newest), key=lambda p: p.share)


def latest(vintages: list[Prior]) -> Prior:
    """The newest vintage of a figure (a validated list has at least one)."""
    found = as_of(vintages, None)
    if found is None:
        raise ValueError("a structural figure needs at least one vintage")
    return found


class StructuralPriors(_Strict):
    supplier_share: dict[str, dict[str, Vintages]] = Field(default_factory=dict)
    importer_dependence: dict[str, dict[str, dict[str, Vintages]]] = Field(default_factory=dict)


def _yaml(name: str) -> object:
    return yaml.safe_load(resources.files("ews.risk").joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_config() -> RiskConfig:
    return RiskConfig.model_validate(_yaml("config.yaml"))


@lru_cache(maxsize=1)
def load_priors() -> StructuralPriors:
    return StructuralPriors.model_validate(_yaml("structural.yaml"))


class Chokepoint(_Strict):
    name: str
    lat: float = Field(ge=-90, le=90)
    """Where the dashboard's map marks it (degrees north); the risk stage never reads it."""
    lon: float = Field(ge=-180, le=180)
    """Degrees east."""
    terms: tuple[str, ...]
    source: str
    through: dict[str, tuple[str, ...]]

    def named_in(self, text: str) -> bool:
        folded = text.casefold()
        return any(term.casefold() in folded for term in self.terms)


class Chokepoints(_Strict):
    chokepoints: dict[str, Chokepoint]


@lru_cache(maxsize=1)
def load_chokepoints() -> dict[str, Chokepoint]:
    return Chokepoints.model_validate(_yaml("chokepoints.yaml")).chokepoints
