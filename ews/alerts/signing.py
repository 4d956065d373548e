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
import logging
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

from ews.alerts import keyfile
from ews.alerts.records import Alert
from ews.alerts.wire import WireError, loads
from ews.errors import EwsError, InputError
from ews.store.files import write_private

KEY_PREFIX: Final = "ed25519:"
PAYLOAD_TYPE: Final = "ews.alert+json"
ENVELOPE_VERSION: Final = 1
MAX_MESSAGE_BYTES: Final = 1_000_000
NODE_PATTERN: Final = r"^[A-Za-z0-9_.-]{1,64}$"

_log = logging.getLogger("ews.alerts")


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
    key: Ed25519PrivateKey,
    path: Path,
    passphrase: bytes | None = None,
    *,
    force: bool = False,
    scrypt_n: int = keyfile.SCRYPT_N,
) -> None:
    """Write the key readable by the owner only (0600; a folder it creates 0700).

    With ``passphrase`` (at least 12 characters) the key is sealed with AES-256-GCM under a
    scrypt key (:mod:`ews.alerts.keyfile`); without, it is unencrypted PKCS#8 PEM. Refuses to
    replace a key unless ``force``: a new key silently breaks every partner's registration of
    this node. ``scrypt_n`` can only be lowered to :data:`~ews.alerts.keyfile.MIN_SCRYPT_N`
    (tests); a key file is never weaker than that.
    """
    if path.exists() and not force:
        raise EwsError(f"a node key already exists at {path}; use --force to replace it")
    if passphrase:
        data = keyfile.seal_key(key.private_bytes_raw(), passphrase, scrypt_n=scrypt_n)
    else:
        data = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    write_private(path, data)


def load_private_key(
    path: Path, passphrase: bytes | None = None, *, rewrap: bool = True
) -> Ed25519PrivateKey:
    """Read the node key; refuses a file others can read (as ssh does).

    A key encrypted the old way (PKCS#8 with PBKDF2 at 2,048 iterations) still loads, and is
    rewritten in the scrypt format with the same passphrase when ``rewrap`` and the
    passphrase is long enough (a warning says so; the key, hence the node's identity, is
    unchanged). A wrong passphrase is one :class:`EwsError` line.
    """
    if not path.is_file():
        raise EwsError(f"no node key at {path}; create one with 'ews keys init'")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise EwsError(f"node key {path} is readable by others (mode {mode:o}); chmod 600 it")
    data = path.read_bytes()
    if keyfile.is_sealed(data):
        try:
            return Ed25519PrivateKey.from_private_bytes(keyfile.open_key(data, passphrase))
        except keyfile.WrongPassphrase as exc:
            raise EwsError(f"cannot read node key {path}: {exc}") from None
        except ValueError as exc:
            raise EwsError(f"cannot read node key {path}: {exc}") from None
    try:
        key = serialization.load_pem_private_key(data, passphrase)
    except (ValueError, TypeError) as exc:
        text = str(exc).lower()
        if "incorrect password" in text or "bad decrypt" in text:
            reason = "wrong passphrase (EWS_NODE_KEY_PASSPHRASE)"
        elif "not given" in text:
            reason = "the key is encrypted: set EWS_NODE_KEY_PASSPHRASE"
        elif "not encrypted" in text:
            reason = "EWS_NODE_KEY_PASSPHRASE is set but the key is not encrypted"
        else:
            reason = str(exc)
        raise EwsError(f"cannot read node key {path}: {reason}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise EwsError(f"node key {path} is not an Ed25519 key")
    if passphrase and rewrap:
        _rewrap_legacy(key, path, passphrase)
    return key


def _rewrap_legacy(key: Ed25519PrivateKey, path: Path, passphrase: bytes) -> None:
    """Rewrite a key file encrypted the old way in the scrypt format (same key, same
    passphrase); a passphrase too short, or a folder that cannot be written, leaves it."""
    try:
        keyfile.check_passphrase(passphrase)
    except EwsError as exc:
        _log.warning(
            "node key %s is encrypted the old way (PBKDF2, 2,048 iterations) and cannot be "
            "re-encrypted: %s; create a new key with a longer one (ews keys init --force) "
            "and give partners the new public key",
            path,
            exc,
        )
        return
    try:
        save_private_key(key, path, passphrase, force=True)
    except OSError as exc:
        _log.warning("node key %s: cannot re-encrypt it with scrypt: %s", path, exc)
        return
    _log.warning(
        "node key %s re-encrypted with scrypt (it was PKCS#8 with PBKDF2, 2,048 iterations); "
        "the key and this node's identity are unchanged",
        path,
    )


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


def parse_message(raw: bytes | bytearray, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """The JSON of a message from outside, parsed with the limits of :func:`ews.alerts.wire.loads`
    (size first, UTF-8, nesting depth); :class:`Rejected` (``too_large`` or ``malformed``)."""
    try:
        return loads(raw, max_bytes=max_bytes)
    except WireError as exc:
        raise Rejected(exc.reason, exc.detail) from None


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
    data = parse_message(raw, max_bytes=max_bytes) if isinstance(raw, bytes | bytearray) else raw
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
