"""The source registry: sources are described in data (``specs/*.yaml``).

A spec says what the source is (name, licence, live URL), how its files are laid out, and
which function reads it (``reader: module:function``). Adding a source means adding a YAML
file and one small function; nothing else changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from ews.errors import EwsError

if TYPE_CHECKING:
    from ews.catalog import Catalog
    from ews.sources.files import InputFile

Observation = "PriceObservation | TradeObservation"


@dataclass(frozen=True)
class SourceSpec:
    """A source as described in its YAML file."""

    id: str
    name: str
    kind: str
    format: str
    licence: str
    url: str
    reader: str
    description: str
    raw: dict[str, Any] = field(repr=False, hash=False, compare=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def read_function(self) -> Callable[..., Iterator[Any]]:
        module, _, name = self.reader.partition(":")
        fn: Callable[..., Iterator[Any]] = getattr(importlib.import_module(module), name)
        return fn


@dataclass
class ReadContext:
    """What a reader gets: its spec, the catalogue, the file, and a place for warnings."""

    spec: SourceSpec
    catalog: Catalog
    file: InputFile
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def skip(self, reason: str) -> None:
        """Count a row left out on purpose (an aggregate, a flow we do not track)."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


@lru_cache(maxsize=1)
def load_specs() -> dict[str, SourceSpec]:
    """Every source spec shipped with the package, by id."""
    specs: dict[str, SourceSpec] = {}
    for entry in sorted(resources.files("ews.sources.specs").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        raw = yaml.safe_load(entry.read_text(encoding="utf-8"))
        try:
            spec = SourceSpec(
                id=raw["id"],
                name=raw["name"],
                kind=raw["kind"],
                format=raw["format"],
                licence=raw["licence"],
                url=raw["url"],
                reader=raw["reader"],
                description=" ".join(str(raw.get("description", "")).split()),
                raw=raw,
            )
        except KeyError as exc:
            raise EwsError(f"source spec {entry.name}: missing key {exc}") from exc
        if spec.id in specs:
            raise EwsError(f"source spec {entry.name}: duplicate id {spec.id!r}")
        specs[spec.id] = spec
    return specs


def get_spec(source_id: str) -> SourceSpec:
    specs = load_specs()
    if source_id not in specs:
        known = ", ".join(sorted(specs))
        raise EwsError(f"unknown source {source_id!r} (known: {known})")
    return specs[source_id]


def specs_of_kind(kind: str) -> list[SourceSpec]:
    return [s for s in load_specs().values() if s.kind == kind]
