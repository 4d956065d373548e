"""The store: one DuckDB file (embedded default) holding every stage's records."""

from ews.store.db import Store, UpsertCounts

__all__ = ["Store", "UpsertCounts"]
