"""The sample data bundled with the package for ``ews demo`` (see ews/sample/README.md)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLE_FILES: tuple[tuple[str, str], ...] = (
    ("prices", "pinksheet-2000.xlsx"),
    ("trade", "china-exports-hs6.csv"),
    ("trade", "china-exports-overview.csv"),
    ("events", "events-vi.jsonl"),
)


def sample_files() -> list[tuple[str, Path]]:
    """(kind, path) of each bundled sample file, in ingest order."""
    base = resources.files("ews.sample")
    return [(kind, Path(str(base.joinpath(name)))) for kind, name in SAMPLE_FILES]
