"""The store: an embedded DuckDB file (default) or a PostgreSQL server, holding every stage's
records."""

from ews.store.db import DuckDBStore, Store, UpsertCounts, open_waiting, redact_location

__all__ = ["DuckDBStore", "Store", "UpsertCounts", "open_waiting", "redact_location"]
