"""What a store holds, for ``ews info``."""

from __future__ import annotations

from ews.store.db import Store


def table_counts(store: Store) -> dict[str, int]:
    """The number of rows of each table in the store's schema, by table name in name order."""
    names = [
        r["table_name"]
        for r in store.query(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() ORDER BY table_name"
        )
    ]
    return {name: int(store.scalar(f"SELECT count(*) FROM {name}")) for name in names}
