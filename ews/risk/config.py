"""The risk configuration (``config.yaml``) and structural priors (``structural.yaml``)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    half_life_days: HalfLives
    horizon_half_lives: float = Field(gt=0)
    event_source_base: float = Field(gt=0, lt=1)
    anomaly_z_floor: float = Field(ge=0)
    anomaly_z_full: float
    lag_days: Lags
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
    basis: str
    source: str


class StructuralPriors(_Strict):
    supplier_share: dict[str, dict[str, Prior]] = Field(default_factory=dict)
    importer_dependence: dict[str, dict[str, dict[str, Prior]]] = Field(default_factory=dict)


def _yaml(name: str) -> object:
    return yaml.safe_load(resources.files("ews.risk").joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_config() -> RiskConfig:
    return RiskConfig.model_validate(_yaml("config.yaml"))


@lru_cache(maxsize=1)
def load_priors() -> StructuralPriors:
    return StructuralPriors.model_validate(_yaml("structural.yaml"))
