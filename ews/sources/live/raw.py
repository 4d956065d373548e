"""Every raw response a live source returned, kept by its SHA-256 (content-addressed).

A document or observation records the hash of the bytes it was read from (its provenance's
``file_sha256``), and ``fetch_log`` records the hash of each request's answer, so any event
can be traced back to those bytes: ``ews sources raw SHA``. The same bytes fetched twice are
kept once. Files are written to a temporary name and renamed, so a kill never leaves a
truncated file under a real name; text is gzip-compressed, archives are kept as they came.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import secrets
import zlib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from ews.errors import EwsError
from ews.settings import APP_NAME, Settings, get_settings
from ews.store.files import private_dir

_SHA = re.compile(r"^[0-9a-f]{64}$")
# Already compressed: gzip again would cost time and save nothing.
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")


def raw_dir_for(settings: Settings | None = None) -> Path:
    """``EWS_RAW_DIR``; else raw/ beside a store file; else raw/ in the user's data dir."""
    s = settings or get_settings()
    if s.raw_dir is not None:
        return s.raw_dir
    if s.store != ":memory:" and "://" not in s.store:
        return Path(s.store).expanduser().resolve().parent / "raw"
    return Path(platformdirs.user_data_dir(APP_NAME)) / "raw"


@dataclass(frozen=True)
class RawStore:
    root: Path

    def _paths(self, sha: str) -> tuple[Path, Path]:
        folder = self.root / sha[:2]
        return folder / f"{sha}.gz", folder / f"{sha}.bin"

    def put(self, body: bytes) -> str:
        """Keep ``body`` (once) and return its SHA-256."""
        sha = hashlib.sha256(body).hexdigest()
        packed, plain = self._paths(sha)
        if packed.exists() or plain.exists():
            return sha
        private_dir(packed.parent)
        archive = body.startswith(_ARCHIVE_MAGIC)
        target = plain if archive else packed
        data = body if archive else gzip.compress(body, compresslevel=6, mtime=0)
        # A name of its own per writer: two polls may keep the same bytes at the same moment.
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(target)
        return sha

    def get(self, sha: str) -> bytes:
        """The bytes kept under ``sha``, checked against it."""
        if not _SHA.match(sha):
            raise EwsError(f"not a SHA-256 hash: {sha!r}")
        packed, plain = self._paths(sha)
        if packed.exists():
            try:
                body = gzip.decompress(packed.read_bytes())
            except (OSError, EOFError, zlib.error):
                raise EwsError(f"raw response {sha[:12]}… is damaged (not readable)") from None
        elif plain.exists():
            body = plain.read_bytes()
        else:
            raise EwsError(f"no raw response {sha[:12]}… in {self.root}")
        if hashlib.sha256(body).hexdigest() != sha:
            raise EwsError(f"raw response {sha[:12]}… is damaged (hash differs)")
        return body

    def __contains__(self, sha: object) -> bool:
        return isinstance(sha, str) and any(p.exists() for p in self._paths(sha))
