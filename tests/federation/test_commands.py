"""The federation commands: keys, partners, export and import (through the real CLI app)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ews.alerts import cap
from ews.alerts.repository import load_alerts, save_alert
from ews.alerts.signing import generate_key, public_key_text, save_private_key, seal
from ews.cli import app
from ews.federation.node import open_store
from ews.settings import get_settings
from tests.alerts.test_cap import BAD_INPUTS, sample
from tests.federation.helpers import alert

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("EWS_STORE", str(tmp_path / "kr.duckdb"))
    monkeypatch.setenv("EWS_NODE_ID", "KR")
    monkeypatch.setenv("EWS_NODE_KEY", str(tmp_path / "keys" / "kr.pem"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def ews(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_keys_partners_export_import(env: Path) -> None:
    out = ews("keys", "init")
    key = re.search(r"ed25519:\S+", out)
    assert key is not None
    assert ews("keys", "show").strip().startswith(key.group(0))
    ews("keys", "init", code=2)  # never silently replaced
    us_key = public_key_text(generate_key())
    ews("partners", "add", "US", "http://127.0.0.1:8751", us_key)
    ews(
        "partners",
        "add",
        "JP",
        "https://jp.example",
        public_key_text(generate_key()),
        "--tlp-max",
        "GREEN",
    )
    ews("partners", "agree", "US", "--hs", "2805", "--tlp-max", "AMBER+STRICT")
    listing = ews("partners", "list")
    assert "US" in listing and "JP" in listing and "2805≤AMBER+STRICT" in listing
    ews("partners", "add", "KR", "http://x.example", us_key, code=2)  # itself
    ews("partners", "add", "CN", "ftp://x.example", us_key, code=2)
    ews("partners", "add", "CN", "http://x.example", "ed25519:nope", code=2)

    a = sample()  # AMBER, recipients US, raised by KR
    with open_store(str(env / "kr.duckdb")) as store:
        save_alert(store, a)
    xml_file, json_file, stix_file = env / "a.xml", env / "a.json", env / "a.stix.json"
    ews("export", a.alert_id, "--format", "cap", "--out", str(xml_file))
    assert cap.decode(xml_file.read_bytes()) == a
    ews("export", a.alert_id, "--version", "2", "--format", "json", "--out", str(json_file))
    assert json.loads(json_file.read_text())["alert_id"] == a.alert_id
    ews("export", a.alert_id, "--format", "stix", "--out", str(stix_file))
    assert json.loads(stix_file.read_text())["type"] == "bundle"
    assert "<alert" in ews("export", a.alert_id)  # stdout
    ews("export", a.alert_id, "--sign-for", "JP", code=2)  # AMBER is above JP's ceiling
    signed = ews("export", a.alert_id, "--sign-for", "US")
    assert json.loads(signed)["envelope"]["recipient"] == "US"
    ews("export", "ews-unknown", code=2)
    ews("export", a.alert_id, "--format", "pdf", code=2)
    ews("partners", "remove", "JP")
    assert "JP" not in ews("partners", "list")


def test_import_checks_signatures_of_partners(env: Path) -> None:
    ews("keys", "init")
    us_key = generate_key()
    save_private_key(us_key, env / "us.pem")
    ews("partners", "add", "US", "http://127.0.0.1:8751", public_key_text(us_key))
    from_us = alert("US", 1, "GREEN")
    from_elsewhere = alert("NZ", 2, "GREEN")
    unsigned = env / "us.xml"
    unsigned.write_bytes(cap.encode(from_us))
    assert "unsigned" in ews("import", str(unsigned), code=2)
    signed = env / "us.signed.json"
    kr_id = "KR"
    now = dt.datetime.now(dt.UTC)
    signed.write_text(json.dumps(seal(from_us, us_key, sender="US", recipient=kr_id, now=now)))
    assert "signature verified, stored" in ews("import", str(signed))
    assert "replayed" in ews("import", str(signed), code=2)
    other = env / "nz.xml"
    other.write_bytes(cap.encode(from_elsewhere))
    assert "stored" in ews("import", str(other))
    assert "duplicate" in ews("import", str(other))
    with open_store(str(env / "kr.duckdb")) as store:
        assert sorted(a.key for a in load_alerts(store)) == sorted(
            [from_us.key, from_elsewhere.key]
        )
        reasons = [
            json.loads(r["detail"])["reason"]
            for r in store.query(
                "SELECT detail FROM audit_log WHERE action = 'federation.reject' ORDER BY seq"
            )
        ]
    assert reasons == ["unsigned", "replayed"]


@pytest.mark.parametrize(
    ("name", "data", "reason"), BAD_INPUTS[:12], ids=[b[0] for b in BAD_INPUTS[:12]]
)
def test_bad_files_are_refused_and_nothing_is_stored(
    env: Path, name: str, data: bytes, reason: str
) -> None:
    bad = env / "bad.xml"
    bad.write_bytes(data)
    output = ews("import", str(bad), code=2)
    assert "error:" in output
    with open_store(str(env / "kr.duckdb")) as store:
        assert store.scalar("SELECT count(*) FROM alerts") == 0
