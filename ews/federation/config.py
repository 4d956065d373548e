"""Federation settings: what the exchange between nodes needs, taken from ``ews.settings``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path

import platformdirs

from ews.settings import APP_NAME, Settings, get_settings
from ews.store.db import redact_location


def default_key_path() -> Path:
    """``node_key.pem`` in the user's config directory."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "node_key.pem"


@dataclass(frozen=True, repr=False)
class FederationConfig:
    """Everything the exchange between nodes needs to know about this node.

    Its repr (and str) shows ``key_passphrase`` as ``'***'`` and the store without its
    password: a config printed or logged gives neither away.
    """

    node_id: str
    """This node's name (``EWS_NODE_ID``), as partners register it."""
    store: str
    """The store location (``EWS_STORE``)."""
    key_path: Path
    """The node's Ed25519 key (``EWS_NODE_KEY``; default in the user config dir)."""
    store_wait: float | None = None
    """Seconds to wait for a DuckDB store file another process holds (``EWS_STORE_WAIT``;
    None reads that setting when the store is opened)."""
    key_passphrase: bytes | None = None
    """Encrypts the key at rest when set (``EWS_NODE_KEY_PASSPHRASE``); never in the repr."""
    message_ttl: dt.timedelta = dt.timedelta(minutes=10)
    """How long a signed message stays valid (``EWS_FEDERATION_TTL``, seconds)."""
    clock_skew: dt.timedelta = dt.timedelta(minutes=2)
    """Tolerated clock difference between nodes (``EWS_FEDERATION_SKEW``, seconds)."""
    retry_max: dt.timedelta = dt.timedelta(minutes=5)
    """Longest wait between delivery attempts (``EWS_FEDERATION_RETRY_MAX``, seconds)."""
    http_timeout: float = 10.0
    """Seconds before a silent partner counts as down (``EWS_FEDERATION_TIMEOUT``)."""
    max_message_bytes: int = 1_000_000
    """Largest request body a node reads (``EWS_FEDERATION_MAX_BYTES``)."""
    ca_bundle: Path | None = None
    """CA file to check partners' TLS certificates (``EWS_FEDERATION_CA_BUNDLE``)."""
    production: bool = False
    """True in production: plain-http partner URLs are refused."""

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "key_passphrase" and value is not None:
                text = "'***'"
            elif f.name == "store":
                text = repr(redact_location(value))
            else:
                text = repr(value)
            shown.append(f"{f.name}={text}")
        return f"{type(self).__name__}({', '.join(shown)})"

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> FederationConfig:
        """The federation knobs of the validated settings (``EWS_*`` variables)."""
        settings = settings or get_settings()
        passphrase = settings.node_key_passphrase
        return cls(
            node_id=settings.node_id,
            store=settings.store,
            store_wait=settings.store_wait,
            key_path=settings.node_key.expanduser() if settings.node_key else default_key_path(),
            key_passphrase=passphrase.get_secret_value().encode("utf-8") if passphrase else None,
            message_ttl=dt.timedelta(seconds=settings.federation_ttl),
            clock_skew=dt.timedelta(seconds=settings.federation_skew),
            retry_max=dt.timedelta(seconds=settings.federation_retry_max),
            http_timeout=settings.federation_timeout,
            max_message_bytes=settings.federation_max_bytes,
            ca_bundle=settings.federation_ca_bundle,
            production=settings.env == "production",
        )
