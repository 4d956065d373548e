"""API keys: hashed at rest, revocable, rate-limited; and the CLI that manages them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ews.access.keys import RateLimiter, authenticate, create_key, hash_token, list_keys, revoke_key
from ews.errors import EwsError
from ews.store import Store


def test_store_keeps_only_hashes(store: Store) -> None:
    key_id, token = create_key(store, "ci", ["read", "write"], 60)
    rows = store.query("SELECT * FROM api_keys")
    assert len(rows) == 1
    assert token not in repr(rows)
    assert rows[0]["key_hash"] == hash_token(token) != token
    assert token.startswith(f"ews_{key_id}_") and len(token) > 40
    audit = store.query("SELECT detail FROM audit_log WHERE action = 'api_key.create'")
    assert audit and token not in audit[0]["detail"]


def test_authenticate_and_revoke(store: Store) -> None:
    key_id, token = create_key(store, "ci", ["read"])
    key = authenticate(store, token)
    assert key is not None and key.key_id == key_id and key.allows("read")
    assert not key.allows("write")
    assert authenticate(store, token + "x") is None
    assert authenticate(store, "nonsense") is None
    assert authenticate(store, f"ews_{key_id}_") is None
    revoke_key(store, key_id)
    assert authenticate(store, token) is None
    assert list_keys(store)[0].revoked_at is not None
    with pytest.raises(EwsError, match="already revoked"):
        revoke_key(store, key_id)
    with pytest.raises(EwsError, match="no API key"):
        revoke_key(store, "missing")


@pytest.mark.parametrize(
    ("scopes", "rate", "message"),
    [([], 10, "at least one scope"), (["root"], 10, "unknown scope"), (["read"], 0, "rate")],
)
def test_create_refuses(store: Store, scopes: list[str], rate: int, message: str) -> None:
    with pytest.raises(EwsError, match=message):
        create_key(store, "x", scopes, rate)


def test_admin_carries_every_scope(store: Store) -> None:
    _, token = create_key(store, "boss", ["admin"])
    key = authenticate(store, token)
    assert key is not None and all(key.allows(s) for s in ("read", "write", "partner"))


def test_token_bucket_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.allow("k", 2) for _ in range(3)] == [True, True, False]
    now[0] += 30.0  # half a minute: one more request at 2/min
    assert limiter.allow("k", 2)
    assert not limiter.allow("k", 2)
    assert limiter.allow("other", 2)


def test_cli_create_list_revoke(tmp_path: Path) -> None:
    from ews.cli import app

    runner = CliRunner()
    path = str(tmp_path / "s.duckdb")
    made = runner.invoke(
        app,
        [
            "keys",
            "create",
            "ci",
            "--scope",
            "read",
            "--scope",
            "write",
            "--rate",
            "5",
            "--store",
            path,
        ],
    )
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("ews_")
    listed = runner.invoke(app, ["keys", "list", "--store", path], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "read,write" in listed.stdout and token not in listed.stdout
    key_id = token.split("_")[1]
    assert runner.invoke(app, ["keys", "revoke", key_id, "--store", path]).exit_code == 0
    again = runner.invoke(app, ["keys", "revoke", key_id, "--store", path])
    assert again.exit_code == 2


def test_keys_group_is_shared() -> None:
    """The API-key commands and the node's signing-key commands share one ``keys`` group."""
    from ews.cli import app

    groups = [g for g in app.registered_groups if g.name == "keys"]
    assert len(groups) == 1 and groups[0].typer_instance is not None
    names = {c.name for c in groups[0].typer_instance.registered_commands}
    assert names >= {"init", "show", "create", "list", "revoke"}
    assert "serve" in {c.name for c in app.registered_commands}
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.stdout
