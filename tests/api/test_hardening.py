"""Issue 15, finding 8: the API docs' assets served by the node, API keys that expire, and no
token in the access log whatever the client puts in the query string."""

from __future__ import annotations

import base64
import datetime as dt
import gc
import hashlib
import logging
import logging.config
import re
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ews.access import keys as keys_module
from ews.access.keys import create_key, list_keys, parse_expiry
from ews.api.app import create_app
from ews.api.logs import RedactTokens, log_config, redact_target
from ews.errors import EwsError, StoreError
from ews.store import Store
from ews.store.db import utcnow
from tests.api.conftest import Api

T = TypeVar("T")


def on_store(api: Api, work: Callable[[Store], T]) -> T:
    """``work`` on the API's store, while the apps of earlier tests may still be copying the
    file: their refreshers hold it for a moment after each write, and DuckDB refuses a second
    in-process connection of another configuration meanwhile, so a conflict is retried."""
    gc.collect()  # apps dropped by earlier tests stop their refreshers
    deadline = time.monotonic() + 20
    while True:
        try:
            with Store(api.settings.store) as store:
                return work(store)
        except StoreError as exc:
            if "conflict" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def temporary_key(api: Api, name: str, expires_at: dt.datetime) -> tuple[str, str]:
    """A read key expiring at ``expires_at``."""
    return on_store(api, lambda store: create_key(store, name, ["read"], expires_at=expires_at))


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_only_assets_of_this_node(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    assets = _assets(r.text)
    assert any(a.endswith(".js") for a in assets)
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        served = client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 1000, url
    assert "fonts.googleapis" not in r.text and "cdn" not in r.text.lower()
    # The policy allows scripts from this node only, plus Swagger UI's inline start-up
    # script by its exact hash: nothing else inline, nothing evaluated.
    policy = r.headers["content-security-policy"]
    scripts = next(p.split()[1:] for p in policy.split(";") if p.split()[:1] == ["script-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    for inline in re.findall(r"<script>(.*?)</script>", r.text, re.S):
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    assert client.get("/openapi.json").status_code == 200


def test_swagger_ui_is_the_real_bundle(client: TestClient) -> None:
    js = client.get("/static/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in js.text
    assert client.get("/static/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert "Redoc" in client.get("/static/redoc.standalone.js").text


# -- expiry ------------------------------------------------------------------------------------
def test_an_expired_key_is_401_on_the_api(
    client: TestClient, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    key_id, token = temporary_key(api, "90 days", now + dt.timedelta(days=90))
    listed = {k.key_id: k for k in on_store(api, list_keys)}[key_id]
    assert listed.expires_at is not None
    assert abs(listed.expires_at - (now + dt.timedelta(days=90))) < dt.timedelta(seconds=1)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/items", headers=headers).status_code == 200
    later = now + dt.timedelta(days=90, seconds=1)
    monkeypatch.setattr(keys_module, "utcnow", lambda: later)
    r = client.get("/api/v1/items", headers=headers)
    assert r.status_code == 401 and r.json() == {"detail": "expired API key"}
    assert r.headers["www-authenticate"] == "Bearer"
    # Keys without an expiry still work at that time.
    assert client.get("/api/v1/items", headers=api.auth()).status_code == 200


def test_parse_expiry() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0)
    assert parse_expiry("90d", now) == dt.datetime(2026, 4, 1, 12, 0)
    assert parse_expiry("12h", now) == dt.datetime(2026, 1, 2, 0, 0)
    assert parse_expiry("2w", now) == dt.datetime(2026, 1, 15, 12, 0)
    assert parse_expiry("2026-03-31", now) == dt.datetime(2026, 3, 31)
    assert parse_expiry("2026-03-31T09:00+09:00", now) == dt.datetime(2026, 3, 31)
    for bad, message in (("soon", "not a duration"), ("2025-12-31", "not in the future")):
        with pytest.raises(EwsError, match=message):
            parse_expiry(bad, now)


def test_cli_creates_and_lists_keys_with_their_expiry(tmp_path: Path) -> None:
    from ews.cli import app

    runner = CliRunner()
    path = str(tmp_path / "s.duckdb")
    made = runner.invoke(app, ["keys", "create", "temp", "--expires", "90d", "--store", path])
    assert made.exit_code == 0, made.output
    expected = utcnow() + dt.timedelta(days=90)
    assert f"valid until {expected:%Y-%m-%d}" in made.stderr
    never = runner.invoke(app, ["keys", "create", "forever", "--store", path])
    assert never.exit_code == 0
    listed = runner.invoke(app, ["keys", "list", "--store", path], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "expires" in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if "temp" in line)
    assert f"{expected:%Y-%m-%d}" in row
    bad = runner.invoke(app, ["keys", "create", "x", "--expires", "yesterday", "--store", path])
    assert bad.exit_code == 2 and "--expires" in bad.output


# -- access log --------------------------------------------------------------------------------
SECRET = "ews_abc_secret"


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        (f"/api/v1/items?token={SECRET}", "/api/v1/items?token=REDACTED"),
        ("/api/v1/items?q=urea&api_key=abc123&limit=5", "?q=urea&api_key=REDACTED&limit=5"),
        ("/x?access_token=abc&key=def&X-API-Key=ghi", "?access_token=REDACTED&key=REDACTED"),
        ("/x?q=ews%5Fabc%5Fsecret", "/x?q=REDACTED"),
        ("/x?ews_abc_secret", "/x?REDACTED"),
        (f"/items/{SECRET}?level=alert", "/items/REDACTED?level=alert"),
    ],
)
def test_redact_target(target: str, kept: str) -> None:
    redacted = redact_target(target)
    assert kept in redacted
    for secret in ("secret", "abc123", "def", "ghi"):
        assert f"={secret}" not in redacted and "abc_secret" not in redacted


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_a_token_in_the_query_string_stays_out_of_the_access_log(api: Api) -> None:
    """uvicorn serving the app as ``ews serve`` runs it: its access log is captured."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(api.settings), host="127.0.0.1", port=port, log_config=log_config()
    )
    server = uvicorn.Server(config)
    lines = _Lines()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(lines)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):  # at most 30 s
            if server.started:
                break
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        good = api.tokens["read"]
        for url in (
            f"{base}/api/v1/items?token={SECRET}",
            f"{base}/api/v1/items?q=urea&api_key={SECRET}",
            f"{base}/api/v1/items?access_token=plain-secret-9",
            f"{base}/login?next=/&token={good}",
            f"{base}/items/{SECRET}",
        ):
            httpx.get(url, headers=api.auth(), timeout=10)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        access.removeHandler(lines)
    text = "\n".join(lines.lines)
    assert text.count("GET /") == 5, text  # the access log is on
    assert "/api/v1/items?token=REDACTED" in text
    for secret in ("secret", "plain-secret-9", good, good.split("_", 2)[2]):
        assert secret not in text, secret


def test_serve_commands_run_uvicorn_with_the_redacting_log(
    monkeypatch: pytest.MonkeyPatch, api: Api
) -> None:
    from ews.cli import app

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    result = CliRunner().invoke(app, ["serve", "--store", api.settings.store])
    assert result.exit_code == 0, result.output
    config = calls[0]["log_config"]
    logging.config.dictConfig(config)
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactTokens) for f in access.filters)
    source = (Path(__file__).parents[2] / "ews" / "cli" / "federation.py").read_text()
    assert "log_config=log_config()" in source  # ews node serve too
