"""The node key at rest: the raw Ed25519 key sealed with AES-256-GCM under a scrypt key.

PKCS#8 as ``cryptography`` writes it (``BestAvailableEncryption``) derives its key with PBKDF2
at 2,048 iterations and offers no way to ask for more; an offline guess then costs about a
quarter of a millisecond. This envelope costs one scrypt derivation (n = 2**17, r = 8, p = 1:
128 MiB and about 0.3 s here) per guess instead. The file is PEM-like text::

    -----BEGIN EWS ENCRYPTED PRIVATE KEY-----
    <base64 of a JSON object, 64 characters a line>
    -----END EWS ENCRYPTED PRIVATE KEY-----

The object is ``{"format": "ews-node-key", "v": 1, "key": "ed25519", "kdf": {"name":
"scrypt", "n", "r", "p", "salt"}, "cipher": {"name": "AES-256-GCM", "nonce"},
"ciphertext"}`` (bytes in base64url). The ciphertext seals the 32 raw key bytes; everything
but the ciphertext is authenticated as associated data, so the parameters cannot be changed
without the passphrase failing.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ews.errors import EwsError

BEGIN: Final = b"-----BEGIN EWS ENCRYPTED PRIVATE KEY-----"
END: Final = b"-----END EWS ENCRYPTED PRIVATE KEY-----"
FORMAT: Final = "ews-node-key"
VERSION: Final = 1

SCRYPT_N: Final = 2**17
"""scrypt's cost for a new key file: 128 MiB and about 0.3 s per derivation."""
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
MIN_SCRYPT_N: Final = 2**14
"""The cheapest cost written or read (tests write keys at this cost, 16 MiB and 40 ms)."""
MAX_SCRYPT_MEMORY: Final = 256 * 2**20
"""A file asking for more memory than this (128·n·r bytes) is refused, not derived."""
MIN_PASSPHRASE_CHARS: Final = 12


class WrongPassphrase(EwsError):  # noqa: N818  # reads as 'wrong passphrase'
    """The passphrase does not open the key file (or the file was altered)."""


def is_sealed(data: bytes) -> bool:
    """True when ``data`` is a key file in this format."""
    return data.lstrip().startswith(BEGIN)


def check_passphrase(passphrase: bytes) -> None:
    """Refuse a passphrase too short to protect a key: :data:`MIN_PASSPHRASE_CHARS`."""
    try:
        chars = len(passphrase.decode("utf-8"))
    except UnicodeDecodeError:
        chars = len(passphrase)
    if chars < MIN_PASSPHRASE_CHARS:
        raise EwsError(
            f"EWS_NODE_KEY_PASSPHRASE is too short ({chars} characters): use at least "
            f"{MIN_PASSPHRASE_CHARS} (e.g. four random words)"
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str) or len(text) > 512:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _kek(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")


def seal_key(raw: bytes, passphrase: bytes, *, scrypt_n: int = SCRYPT_N) -> bytes:
    """The key file for the 32 raw key bytes ``raw``, sealed with ``passphrase``.

    ``scrypt_n`` may be raised; lowering it (tests) stops at :data:`MIN_SCRYPT_N`.
    """
    check_passphrase(passphrase)
    if scrypt_n < MIN_SCRYPT_N or scrypt_n & (scrypt_n - 1):
        raise ValueError(f"scrypt n must be a power of two, at least {MIN_SCRYPT_N}")
    salt, nonce = os.urandom(16), os.urandom(12)
    header: dict[str, Any] = {
        "format": FORMAT,
        "v": VERSION,
        "key": "ed25519",
        "kdf": {"name": "scrypt", "n": scrypt_n, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "cipher": {"name": "AES-256-GCM", "nonce": _b64(nonce)},
    }
    kek = _kek(passphrase, salt, scrypt_n, SCRYPT_R, SCRYPT_P)
    sealed = AESGCM(kek).encrypt(nonce, raw, _aad(header))
    body = base64.b64encode(
        json.dumps({**header, "ciphertext": _b64(sealed)}, separators=(",", ":")).encode()
    )
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"\n".join([BEGIN, *lines, END]) + b"\n"


def read_header(data: bytes) -> dict[str, Any]:
    """The JSON object of a key file (parameters and ciphertext); ValueError if malformed."""
    text = data.strip()
    if not text.startswith(BEGIN) or not text.endswith(END) or len(text) > 8192:
        raise ValueError("not an EWS key file")
    body = b"".join(text[len(BEGIN) : -len(END)].split())
    obj = json.loads(base64.b64decode(body, validate=True))
    if not isinstance(obj, dict):
        raise ValueError("not an EWS key file")
    return obj


def open_key(data: bytes, passphrase: bytes | None) -> bytes:
    """The 32 raw key bytes of a key file; :class:`WrongPassphrase` when ``passphrase`` does
    not open it, ValueError when the file is malformed or asks for unsupported parameters."""
    obj = read_header(data)
    kdf, cipher = obj.get("kdf"), obj.get("cipher")
    if (
        obj.get("format") != FORMAT
        or obj.get("v") != VERSION
        or obj.get("key") != "ed25519"
        or not isinstance(kdf, dict)
        or not isinstance(cipher, dict)
        or kdf.get("name") != "scrypt"
        or cipher.get("name") != "AES-256-GCM"
    ):
        raise ValueError("unsupported key file format or version")
    n, r, p = kdf.get("n"), kdf.get("r"), kdf.get("p")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (n, r, p)):
        raise ValueError("bad scrypt parameters")
    assert isinstance(n, int) and isinstance(r, int) and isinstance(p, int)
    if n < MIN_SCRYPT_N or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise ValueError("bad scrypt parameters")
    if 128 * n * r > MAX_SCRYPT_MEMORY:
        raise ValueError("scrypt parameters ask for too much memory")
    salt, nonce, sealed = (
        _unb64(kdf.get("salt")),
        _unb64(cipher.get("nonce")),
        _unb64(obj.get("ciphertext")),
    )
    if len(salt) < 16 or len(nonce) != 12 or len(sealed) != 32 + 16:
        raise ValueError("bad salt, nonce or ciphertext length")
    if not passphrase:
        raise WrongPassphrase("the key is encrypted: set EWS_NODE_KEY_PASSPHRASE")
    header = {k: v for k, v in obj.items() if k != "ciphertext"}
    try:
        return AESGCM(_kek(passphrase, salt, n, r, p)).decrypt(nonce, sealed, _aad(header))
    except InvalidTag:
        raise WrongPassphrase(
            "wrong passphrase (EWS_NODE_KEY_PASSPHRASE), or the file was altered"
        ) from None
