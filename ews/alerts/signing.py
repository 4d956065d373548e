"""Node keys (Ed25519) and signed envelopes over RFC 8785 canonical JSON.

A message between nodes is ``{"alg": "Ed25519", "envelope": {...}, "signature": "<b64url>"}``.
The envelope is ``{v, sender, recipient, nonce, issued, expires, payload_type, payload}`` where
``payload`` is the alert record as JSON (``payload_type`` ``ews.alert+json``), not CAP XML: the
receiver then never parses XML from a partner before the signature has been checked, and the
JSON form is the lossless one. The signature is detached: Ed25519 over the RFC 8785 (JCS)
bytes of the envelope object exactly as received, so key order and whitespace on the wire do
not matter and any change to any field breaks it.

This module checks shape, addressing, signature and time window; the nonce store (replays) and
the partner registry live in :mod:`ews.federation`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ews.alerts.records import Alert
from ews.errors import EwsError, InputError

KEY_PREFIX: Final = "ed25519:"
PAYLOAD_TYPE: Final = "ews.alert+json"
ENVELOPE_VERSION: Final = 1
MAX_MESSAGE_BYTES: Final = 1_000_000
NODE_PATTERN: Final = r"^[A-Za-z0-9_.-]{1,64}$"


# -- keys ---------------------------------------------------------------------------------------
def b64u(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    """Inverse of :func:`b64u`; raises ValueError on bad input."""
    if not text or len(text) > 4096:
        raise ValueError("bad base64 length")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_key() -> Ed25519PrivateKey:
    """A fresh node key."""
    return Ed25519PrivateKey.generate()


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """``ed25519:<base64url of the 32 raw bytes>``: how partners register this node."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + b64u(raw)


def parse_public_key(text: str) -> Ed25519PublicKey:
    """Read ``ed25519:...`` back; :class:`InputError` when it is not an Ed25519 public key."""
    body = text.strip().removeprefix(KEY_PREFIX)
    try:
        raw = unb64u(body)
        if len(raw) != 32:
            raise ValueError("not 32 bytes")
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise InputError(
            "not an Ed25519 public key (expected 'ed25519:' and 43 base64url characters)",
            field="key",
        ) from None


def fingerprint(text: str) -> str:
    """Short SHA-256 fingerprint of a public key text, for people comparing keys by phone."""
    digest = hashlib.sha256(parse_public_key(text).public_bytes_raw()).hexdigest()[:16]
    return ":".join(digest[i : i + 4] for i in range(0, 16, 4))


def save_private_key(
    key: Ed25519PrivateKey, path: Path, passphrase: bytes | None = None, *, force: bool = False
) -> None:
    """Write the key as PKCS#8 PEM readable by the owner only (0600, folder 0700).

    Encrypted with ``passphrase`` when one is given. Refuses to replace a key unless ``force``:
    a new key silently breaks every partner's registration of this node.
    """
    if path.exists() and not force:
        raise EwsError(f"a node key already exists at {path}; use --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    tmp.chmod(0o600)  # the umask cannot widen it, but an existing tmp file could be wider
    tmp.replace(path)


def load_private_key(path: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """Read the node key; refuses a file others can read (as ssh does)."""
    if not path.is_file():
        raise EwsError(f"no node key at {path}; create one with 'ews keys init'")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise EwsError(f"node key {path} is readable by others (mode {mode:o}); chmod 600 it")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), passphrase)
    except (ValueError, TypeError) as exc:
        raise EwsError(f"cannot read node key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise EwsError(f"node key {path} is not an Ed25519 key")
    return key


# -- envelopes ----------------------------------------------------------------------------------
def wire_time(value: dt.datetime) -> str:
    """UTC, whole seconds, ``Z``: one spelling so both sides canonicalise the same text."""
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class Envelope(BaseModel):
    """What the signature covers (the API model of the wire format)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = Field(description="Envelope format version.")
    sender: str = Field(pattern=NODE_PATTERN, examples=["KR"])
    recipient: str = Field(pattern=NODE_PATTERN, examples=["US"])
    nonce: str = Field(
        pattern=r"^[A-Za-z0-9_-]{16,64}$", description="Random, never reused by a sender."
    )
    issued: dt.datetime = Field(examples=["2026-03-01T09:00:00Z"])
    expires: dt.datetime = Field(examples=["2026-03-01T09:10:00Z"])
    payload_type: Literal["ews.alert+json"]
    payload: dict[str, Any] = Field(description="The alert record as JSON.")


class SignedMessage(BaseModel):
    """A signed envelope as it travels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alg: Literal["Ed25519"]
    envelope: dict[str, Any]
    signature: str = Field(description="base64url of the 64-byte Ed25519 signature.")


class Rejected(InputError):  # noqa: N818  # reads as 'message rejected'
    """A message refused by a receiving node; ``reason`` is a short code for the audit log."""

    def __init__(self, reason: str, message: str, *, sender: str | None = None) -> None:
        self.reason = reason
        self.sender = sender
        super().__init__(f"{reason}: {message}")


def canonical(obj: Any) -> bytes:
    """RFC 8785 bytes of a JSON value; :class:`InputError` for values JSON cannot carry."""
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(f"cannot canonicalise: {exc}") from None


def new_nonce() -> str:
    """128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def make_envelope(
    alert: Alert,
    *,
    sender: str,
    recipient: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    nonce: str | None = None,
) -> dict[str, Any]:
    """The envelope carrying ``alert`` from ``sender`` to ``recipient``, valid for ``ttl``.

    Refuses a TLP:RED alert: every path that addresses an alert to a partner (push, feed,
    ``ews export --sign-for``) goes through here, so RED cannot leave even if a sharing
    check upstream is forgotten.
    """
    if alert.tlp == "RED":
        raise EwsError(f"{alert.key} is TLP:RED, which never leaves this node")
    return {
        "v": ENVELOPE_VERSION,
        "sender": sender,
        "recipient": recipient,
        "nonce": nonce or new_nonce(),
        "issued": wire_time(now),
        "expires": wire_time(now + ttl),
        "payload_type": PAYLOAD_TYPE,
        "payload": json.loads(alert.model_dump_json()),
    }


def sign(envelope: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The signed message for ``envelope`` (a JSON object ready to send)."""
    return {
        "alg": "Ed25519",
        "envelope": envelope,
        "signature": b64u(key.sign(canonical(envelope))),
    }


def seal(
    alert: Alert,
    key: Ed25519PrivateKey,
    *,
    sender: str,
    recipient: str,
    now: dt.datetime,
    ttl: dt.timedelta = dt.timedelta(minutes=10),
) -> dict[str, Any]:
    """Envelope and sign in one step."""
    env = make_envelope(alert, sender=sender, recipient=recipient, now=now, ttl=ttl)
    return sign(env, key)


class Opened(BaseModel):
    """A message whose signature, addressing and time window checked out."""

    model_config = ConfigDict(frozen=True)

    envelope: Envelope
    alert: Alert


def open_message(
    raw: bytes | dict[str, Any],
    *,
    me: str,
    key_of: Callable[[str], Ed25519PublicKey | None],
    now: dt.datetime,
    skew: dt.timedelta = dt.timedelta(minutes=2),
    max_lifetime: dt.timedelta = dt.timedelta(days=1),
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> Opened:
    """Check a signed message addressed to node ``me``; raises :class:`Rejected` with a reason.

    Order matters: nothing in the payload is trusted before the signature is verified against
    the key registered for the claimed sender (``key_of`` returns None for strangers).
    Checked: size, JSON shape, signature present, sender known, recipient is ``me``, signature
    valid, issued not in the future beyond ``skew``, not expired, lifetime not longer than
    ``max_lifetime``, payload an alert raised by the sender. Nonces are the caller's job.
    """
    if isinstance(raw, bytes | bytearray):
        if len(raw) > max_bytes:
            raise Rejected("too_large", f"{len(raw):,} bytes, more than {max_bytes:,}")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Rejected("malformed", f"not JSON: {exc}") from None
    else:
        data = raw
    if not isinstance(data, dict):
        raise Rejected("malformed", "a signed message is a JSON object")
    if "signature" not in data or not data.get("signature"):
        env = data.get("envelope")
        sender = env.get("sender") if isinstance(env, dict) else None
        raise Rejected("unsigned", "the message carries no signature", sender=_str(sender))
    try:
        msg = SignedMessage.model_validate(data)
    except ValidationError as exc:
        raise Rejected("malformed", _first_error(exc)) from None
    sender = _str(msg.envelope.get("sender"))
    try:
        envelope = Envelope.model_validate(msg.envelope)
    except ValidationError as exc:
        raise Rejected("malformed", "envelope: " + _first_error(exc), sender=sender) from None
    public = key_of(envelope.sender)
    if public is None:
        raise Rejected(
            "unknown_sender", f"{envelope.sender!r} is not a registered partner", sender=sender
        )
    try:
        signature = unb64u(msg.signature)
    except ValueError:
        raise Rejected("bad_signature", "signature is not base64url", sender=sender) from None
    try:
        public.verify(signature, canonical(msg.envelope))
    except (InvalidSignature, InputError):
        raise Rejected(
            "bad_signature",
            f"signature does not verify with {envelope.sender}'s registered key "
            "(forged or altered)",
            sender=sender,
        ) from None
    if envelope.recipient != me:
        raise Rejected(
            "not_for_us", f"addressed to {envelope.recipient!r}, this node is {me!r}", sender=sender
        )
    issued, expires = _aware(envelope.issued), _aware(envelope.expires)
    if issued > now + skew:
        raise Rejected("future", f"issued {wire_time(issued)}, in the future", sender=sender)
    if expires <= now:
        raise Rejected("expired", f"expired at {wire_time(expires)}", sender=sender)
    if expires - issued > max_lifetime:
        raise Rejected("lifetime", "validity window is longer than allowed", sender=sender)
    try:
        alert = Alert.model_validate(envelope.payload)
    except ValidationError as exc:
        raise Rejected("bad_payload", _first_error(exc), sender=sender) from None
    if alert.origin_node != envelope.sender:
        # Nodes pass on only their own alerts: relaying would let AMBER travel further than
        # its originator allowed.
        raise Rejected(
            "relay",
            f"alert raised by {alert.origin_node!r}, sent by {envelope.sender!r}",
            sender=sender,
        )
    if alert.tlp == "RED":
        raise Rejected("tlp_red", "TLP:RED alerts must not leave their node", sender=sender)
    return Opened(envelope=envelope, alert=alert)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _str(value: object) -> str | None:
    return value[:64] if isinstance(value, str) else None


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(x) for x in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


# -- signed requests (feed pulls) ---------------------------------------------------------------
REQUEST_HEADERS: Final = ("x-ews-node", "x-ews-timestamp", "x-ews-nonce", "x-ews-signature")


def request_bytes(
    *, method: str, path: str, query: str, node: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    """What a signed request's signature covers: RFC 8785 of its parts and the body's hash."""
    return canonical(
        {
            "method": method.upper(),
            "path": path,
            "query": query,
            "node": node,
            "timestamp": timestamp,
            "nonce": nonce,
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
    )


def sign_request(
    key: Ed25519PrivateKey,
    *,
    method: str,
    path: str,
    query: str,
    node: str,
    now: dt.datetime,
    body: bytes = b"",
) -> dict[str, str]:
    """Headers that authenticate a request as coming from ``node``."""
    timestamp, nonce = wire_time(now), new_nonce()
    data = request_bytes(
        method=method,
        path=path,
        query=query,
        node=node,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    return {
        "X-EWS-Node": node,
        "X-EWS-Timestamp": timestamp,
        "X-EWS-Nonce": nonce,
        "X-EWS-Signature": b64u(key.sign(data)),
    }
