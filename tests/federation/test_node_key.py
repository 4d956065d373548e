"""The node key at rest: scrypt, not PBKDF2 at 2,048 iterations; a passphrase of at least
12 characters; old key files still load (and are rewrapped); the passphrase never shows.

Most keys here are written at the cheapest scrypt cost (n = 2**14, 40 ms) through the explicit
``scrypt_n`` argument; the tests that use the real cost (n = 2**17, about 0.3 s a derivation)
are marked slow.
"""

from __future__ import annotations

import base64
import json
import logging
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ews.alerts import keyfile
from ews.alerts.signing import (
    generate_key,
    load_private_key,
    public_key_text,
    save_private_key,
)
from ews.errors import EwsError
from ews.federation.config import FederationConfig
from ews.settings import Settings
from tests.reliability.conftest import cli_env, run_ews

PASSPHRASE = b"correct horse battery staple"
CHEAP = keyfile.MIN_SCRYPT_N


def legacy_key_file(path: Path, passphrase: bytes) -> str:
    """A key file as EWS wrote it before: PKCS#8, BestAvailableEncryption (PBKDF2, 2,048)."""
    key = generate_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return public_key_text(key)


def pbkdf2_iterations(pem: bytes) -> int | None:
    """The PBKDF2 iteration count of an encrypted PKCS#8 PEM (None if it is not one)."""
    if b"BEGIN ENCRYPTED PRIVATE KEY" not in pem:
        return None
    der = base64.b64decode(b"".join(pem.strip().splitlines()[1:-1]))
    oid = bytes.fromhex("06092a864886f70d01050c")  # 1.2.840.113549.1.5.12, PBKDF2
    at = der.index(oid) + len(oid)
    # SEQUENCE { OCTET STRING salt, INTEGER iterations, ... }
    assert der[at] == 0x30
    at += 2
    assert der[at] == 0x04
    at += 2 + der[at + 1]
    assert der[at] == 0x02
    size = der[at + 1]
    return int.from_bytes(der[at + 2 : at + 2 + size], "big")


def test_the_old_format_was_pbkdf2_2048(tmp_path: Path) -> None:
    # What the finding was about, measured on the file itself (and what the helper reads).
    path = tmp_path / "old.pem"
    legacy_key_file(path, PASSPHRASE)
    assert pbkdf2_iterations(path.read_bytes()) == 2048


def test_new_key_file_is_scrypt_not_pbkdf2(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "node.pem"
    key = generate_key()
    save_private_key(key, path, PASSPHRASE, scrypt_n=CHEAP)
    data = path.read_bytes()
    assert pbkdf2_iterations(data) is None and b"BEGIN ENCRYPTED PRIVATE KEY" not in data
    header = keyfile.read_header(data)
    assert header["kdf"]["name"] == "scrypt" and header["cipher"]["name"] == "AES-256-GCM"
    assert PASSPHRASE not in data and key.private_bytes_raw() not in base64.b64decode(
        b"".join(data.splitlines()[1:-1])
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_text(load_private_key(path, PASSPHRASE)) == public_key_text(key)


@pytest.mark.slow
def test_default_cost_is_scrypt_2_17(tmp_path: Path) -> None:
    path = tmp_path / "node.pem"
    key = generate_key()
    save_private_key(key, path, PASSPHRASE)
    header = keyfile.read_header(path.read_bytes())
    assert (header["kdf"]["n"], header["kdf"]["r"], header["kdf"]["p"]) == (2**17, 8, 1)
    assert public_key_text(load_private_key(path, PASSPHRASE)) == public_key_text(key)


def test_cost_cannot_be_lowered_below_the_floor(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        save_private_key(generate_key(), tmp_path / "k.pem", PASSPHRASE, scrypt_n=2**10)
    # A file claiming a lower (or absurd) cost is refused, not derived.
    path = tmp_path / "node.pem"
    save_private_key(generate_key(), path, PASSPHRASE, scrypt_n=CHEAP)
    for n in (2**10, 2**30, 3 * 2**14):
        obj = keyfile.read_header(path.read_bytes())
        obj["kdf"]["n"] = n
        body = base64.b64encode(json.dumps(obj).encode())
        forged = tmp_path / f"forged-{n}.pem"
        forged.write_bytes(keyfile.BEGIN + b"\n" + body + b"\n" + keyfile.END + b"\n")
        forged.chmod(0o600)
        with pytest.raises(EwsError, match="cannot read node key"):
            load_private_key(forged, PASSPHRASE)


@pytest.mark.parametrize("short", [b"x", b"hunter2", "비밀번호열한글자입니다".encode()])
def test_short_passphrase_is_refused(tmp_path: Path, short: bytes) -> None:
    path = tmp_path / "node.pem"
    with pytest.raises(EwsError, match="EWS_NODE_KEY_PASSPHRASE is too short") as info:
        save_private_key(generate_key(), path, short, scrypt_n=CHEAP)
    assert "\n" not in str(info.value) and short.decode() not in str(info.value)
    assert not path.exists()
    save_private_key(generate_key(), path, "비밀번호열두글자입니다만".encode(), scrypt_n=CHEAP)


def test_wrong_passphrase_is_one_clear_error(tmp_path: Path) -> None:
    new, old = tmp_path / "new.pem", tmp_path / "old.pem"
    save_private_key(generate_key(), new, PASSPHRASE, scrypt_n=CHEAP)
    legacy_key_file(old, PASSPHRASE)
    for path in (new, old):
        for wrong in (b"correct horse battery stapler", None):
            with pytest.raises(EwsError) as info:
                load_private_key(path, wrong)
            text = str(info.value)
            assert text.startswith(f"cannot read node key {path}: ")
            assert "EWS_NODE_KEY_PASSPHRASE" in text and "\n" not in text
            assert "correct horse" not in text
    # A flipped byte in the sealed key reads as a wrong passphrase, never as another key.
    data = bytearray(new.read_bytes())
    obj = keyfile.read_header(bytes(data))
    sealed = bytearray(base64.urlsafe_b64decode(obj["ciphertext"] + "=="))
    sealed[0] ^= 1
    obj["ciphertext"] = base64.urlsafe_b64encode(bytes(sealed)).rstrip(b"=").decode()
    body = base64.b64encode(json.dumps(obj).encode())
    new.write_bytes(keyfile.BEGIN + b"\n" + body + b"\n" + keyfile.END + b"\n")
    with pytest.raises(EwsError, match="wrong passphrase"):
        load_private_key(new, PASSPHRASE)


@pytest.mark.slow
def test_old_key_file_still_loads_and_is_rewrapped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "node.pem"
    public = legacy_key_file(path, PASSPHRASE)
    with caplog.at_level(logging.WARNING, logger="ews.alerts"):
        assert public_key_text(load_private_key(path, PASSPHRASE)) == public
    assert "re-encrypted with scrypt" in caplog.text and "correct horse" not in caplog.text
    data = path.read_bytes()
    assert keyfile.is_sealed(data) and pbkdf2_iterations(data) is None
    assert keyfile.read_header(data)["kdf"]["n"] == keyfile.SCRYPT_N
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_text(load_private_key(path, PASSPHRASE)) == public  # same identity
    assert [p.name for p in tmp_path.iterdir()] == ["node.pem"]


def test_old_key_with_a_short_passphrase_loads_but_stays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "node.pem"
    public = legacy_key_file(path, b"short")
    before = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="ews.alerts"):
        assert public_key_text(load_private_key(path, b"short")) == public
    assert path.read_bytes() == before  # a node does not lose its identity
    assert "too short" in caplog.text and "ews keys init --force" in caplog.text
    assert public_key_text(load_private_key(path, b"short", rewrap=False)) == public


def test_repr_has_no_passphrase() -> None:
    secret = "correct horse battery staple 7c1f"
    settings = Settings(
        node_key_passphrase=secret,
        store="postgresql://ews:db-password-9@localhost/ews",
    )
    config = FederationConfig.from_env(settings)
    assert config.key_passphrase == secret.encode()
    for shown in (repr(config), str(config), f"{config}"):
        assert secret not in shown and "db-password-9" not in shown
        assert "key_passphrase='***'" in shown
    assert "key_passphrase=None" in repr(
        FederationConfig(node_id="KR", store="x", key_path=Path("k"))
    )


def test_keys_init_refuses_a_short_passphrase(tmp_path: Path) -> None:
    env = cli_env(
        tmp_path / "node.duckdb",
        EWS_NODE_ID="KR",
        EWS_NODE_KEY=str(tmp_path / "keys" / "kr.pem"),
        EWS_NODE_KEY_PASSPHRASE="x",
    )
    result = run_ews(["keys", "init"], env)
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "EWS_NODE_KEY_PASSPHRASE is too short" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "keys" / "kr.pem").exists()
