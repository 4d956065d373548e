"""A store with the bundled sample data assessed, and API keys of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from ews.access.keys import create_key
from ews.alerts.repository import alert_row, load_alerts
from ews.api.app import create_app
from ews.context import Context
from ews.settings import Settings
from ews.sources.ingest import ingest_file
from ews.sources.sample import sample_files
from ews.text.events_file import ingest_events_file

RED_ID = "ews-999999-CN-ALL-20260101-00000000"


@dataclass
class Api:
    settings: Settings
    tokens: dict[str, str]  # role -> token
    key_ids: dict[str, str]

    def client(self, **kwargs: int) -> TestClient:
        return TestClient(create_app(self.settings, **kwargs))

    def auth(self, role: str = "read") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="package", params=["duckdb", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The same API tests on both store backends: an embedded DuckDB file and PostgreSQL."""
    if request.param == "postgresql":
        path = request.getfixturevalue("postgres_server").new_location()
    else:
        path = str(tmp_path_factory.mktemp("api") / "ews.duckdb")
    # Some tests write to the store and read through the API at once: let reads wait for
    # the server's copy to catch up (tests/store/test_reader.py covers the default, 0).
    settings = Settings(store=path, env="test", api_fresh_wait=30)
    from ews.risk.run import assess

    with Context.open(settings, store=path) as ctx:
        for kind, file in sample_files():
            if kind in ("prices", "trade"):
                ingest_file(ctx.store, ctx.catalog, file, kind=kind)
            elif kind == "events":
                ingest_events_file(ctx.store, ctx.catalog, file)
        assess(ctx)
        # A RED alert, for the visibility rule: a copy of a real alert under another id.
        first = load_alerts(ctx.store)[0]
        red = first.model_copy(update={"alert_id": RED_ID, "tlp": "RED", "hs": "999999"})
        with ctx.store.transaction():
            ctx.store.upsert(
                "alerts",
                pa.Table.from_pylist([alert_row(red)]),
                key=("alert_id", "version"),
                compare=(),
            )
        tokens, ids = {}, {}
        for role, scopes, rate in (
            ("read", ["read"], 10_000),
            ("admin", ["admin"], 10_000),
            ("partner", ["partner"], 10_000),
            ("slow", ["read"], 3),
        ):
            ids[role], tokens[role] = create_key(ctx.store, role, scopes, rate)
    yield Api(settings=settings, tokens=tokens, key_ids=ids)


@pytest.fixture(scope="package")
def client(api: Api) -> TestClient:
    return api.client()
