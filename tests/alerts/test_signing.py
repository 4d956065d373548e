"""Ed25519 keys and signed envelopes over RFC 8785: what verifies and what is refused."""

from __future__ import annotations

import copy
import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import assume, given, settings

from ews.alerts.records import Alert
from ews.alerts.signing import (
    Rejected,
    canonical,
    fingerprint,
    generate_key,
    load_private_key,
    open_message,
    parse_public_key,
    public_key_text,
    save_private_key,
    seal,
)
from ews.errors import EwsError, InputError
from tests.alerts.strategies import alerts, owned_by
from tests.alerts.test_cap import sample

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
KR, US = generate_key(), generate_key()
KEYS = {"KR": KR.public_key(), "US": US.public_key()}


def _open(message: Any, *, me: str = "US", now: dt.datetime = NOW) -> Alert:
    return open_message(
        json.dumps(message).encode() if isinstance(message, dict) else message,
        me=me,
        key_of=KEYS.get,
        now=now,
    ).alert


def _message(**changes: Any) -> dict[str, Any]:
    return seal(sample(**changes), KR, sender="KR", recipient="US", now=NOW)


@settings(max_examples=40, deadline=None)
@given(alerts(tlp="GREEN"))
def test_signed_alert_opens_to_the_same_alert(alert: Alert) -> None:
    # Pydantic's JSON drops offsets with seconds (+00:00:37); no real zone has them since 1972.
    for t in (alert.sent, alert.expires):
        assume(t is None or (t.utcoffset() or dt.timedelta(0)).total_seconds() % 60 == 0)
    alert = owned_by(alert, "KR")
    message = seal(alert, KR, sender="KR", recipient="US", now=NOW)
    assert _open(message) == alert


def test_key_order_and_whitespace_do_not_matter() -> None:
    message = _message()
    env = message["envelope"]
    reordered = {
        "signature": message["signature"],
        "alg": "Ed25519",
        "envelope": dict(reversed(list(env.items()))),
    }
    assert _open(json.dumps(reordered, indent=4).encode()) == sample()
    assert canonical(env) == rfc8785.dumps(dict(reversed(list(env.items()))))


def _tamper_payload(m: dict[str, Any]) -> None:
    m["envelope"]["payload"]["level"] = "serious"


def _tamper_recipient(m: dict[str, Any]) -> None:
    m["envelope"]["recipient"] = "JP"


def _forge(m: dict[str, Any]) -> None:
    from ews.alerts.signing import sign

    m.update(sign(m["envelope"], generate_key()))


def _unsign(m: dict[str, Any]) -> None:
    del m["signature"]


def _bad_b64(m: dict[str, Any]) -> None:
    m["signature"] = "!!!"


def _stranger(m: dict[str, Any]) -> None:
    from ews.alerts.signing import sign

    m["envelope"]["sender"] = "CN"
    m.update(sign(m["envelope"], generate_key()))


def _relay(m: dict[str, Any]) -> None:
    from ews.alerts.signing import sign

    # A consistent alert of JP's (its id names JP too) that KR passes on.
    relayed = owned_by(Alert.model_validate(m["envelope"]["payload"]), "JP")
    m["envelope"]["payload"] = json.loads(relayed.model_dump_json())
    m.update(sign(m["envelope"], KR))


def _red(m: dict[str, Any]) -> None:
    from ews.alerts.signing import sign

    m["envelope"]["payload"]["tlp"] = "RED"
    m.update(sign(m["envelope"], KR))


def _extra_field(m: dict[str, Any]) -> None:
    m["envelope"]["admin"] = True


REFUSALS = [
    ("altered payload", _tamper_payload, "bad_signature"),
    ("altered recipient", _tamper_recipient, "bad_signature"),
    ("forged", _forge, "bad_signature"),
    ("unsigned", _unsign, "unsigned"),
    ("signature not base64", _bad_b64, "bad_signature"),
    ("unknown sender", _stranger, "unknown_sender"),
    ("relayed alert", _relay, "relay"),
    ("red", _red, "tlp_red"),
    ("extra envelope field", _extra_field, "malformed"),
]


@pytest.mark.parametrize(("name", "tamper", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_messages(name: str, tamper: Any, reason: str) -> None:
    message = copy.deepcopy(_message())
    tamper(message)
    with pytest.raises(Rejected) as info:
        _open(message)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("me", "now", "reason"),
    [
        ("JP", NOW, "not_for_us"),
        ("US", NOW + dt.timedelta(hours=1), "expired"),
        ("US", NOW - dt.timedelta(hours=1), "future"),
    ],
)
def test_addressing_and_time_window(me: str, now: dt.datetime, reason: str) -> None:
    with pytest.raises(Rejected) as info:
        _open(_message(), me=me, now=now)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"x" * 2_000_001, "too_large"), (b"{not json", "malformed"), (b"[]", "malformed")],
)
def test_malformed_messages(raw: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as info:
        _open(raw)
    assert info.value.reason == reason


def test_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "node.pem"
    key = generate_key()
    save_private_key(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_text(load_private_key(path)) == public_key_text(key)
    with pytest.raises(EwsError, match="already exists"):
        save_private_key(generate_key(), path)
    path.chmod(0o644)
    with pytest.raises(EwsError, match="readable by others"):
        load_private_key(path)


def test_key_file_can_be_encrypted(tmp_path: Path) -> None:
    path = tmp_path / "node.pem"
    save_private_key(generate_key(), path, b"correct horse")
    assert b"ENCRYPTED" in path.read_bytes()
    load_private_key(path, b"correct horse")
    with pytest.raises(EwsError, match="cannot read"):
        load_private_key(path, b"wrong")


@pytest.mark.parametrize("text", ["", "ed25519:abc", "rsa:AAAA", "ed25519:" + "A" * 44])
def test_public_key_text_is_checked(text: str) -> None:
    with pytest.raises(InputError, match="Ed25519"):
        parse_public_key(text)


def test_fingerprint_is_stable() -> None:
    text = public_key_text(KR)
    assert fingerprint(text) == fingerprint(" " + text + "\n")
    assert len(fingerprint(text)) == 19
