"""This node: its store (opened briefly, shared with other processes) and its key.

DuckDB lets one process write a file at a time, and a node's server, its sync loop and the
operator's commands all need the store. So federation code opens the store for each short
unit of work, never across a network call, and retries while another process holds it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ews.alerts.signing import load_private_key, public_key_text
from ews.federation.config import FederationConfig
from ews.settings import get_settings
from ews.store import Store
from ews.store.db import open_waiting

# Threads of one process take turns: two connections of one process to one file would race
# on the same transactions.
_PROCESS_LOCK = threading.RLock()


@contextmanager
def open_store(location: str, *, timeout: float | None = None) -> Iterator[Store]:
    """The store, opened (and migrated) for one unit of work and closed after it.

    Opened as every command opens it (:func:`~ews.store.db.open_waiting`, as
    :meth:`ews.context.Context.open` does): waits up to ``timeout`` seconds (default
    ``EWS_STORE_WAIT``) while another process holds the file's lock.
    """
    if timeout is None:
        timeout = get_settings().store_wait
    with _PROCESS_LOCK:
        store = open_waiting(location, timeout=timeout)
        try:
            yield store
        finally:
            store.close()


class Node:
    """This node's identity and configuration."""

    def __init__(self, config: FederationConfig) -> None:
        self.config = config

    @property
    def node_id(self) -> str:
        return self.config.node_id

    @cached_property
    def key(self) -> Ed25519PrivateKey:
        """The node's signing key (read once)."""
        return load_private_key(self.config.key_path, self.config.key_passphrase)

    @property
    def public_key(self) -> str:
        return public_key_text(self.key)

    @contextmanager
    def store(self) -> Iterator[Store]:
        """See :func:`open_store`; waits ``config.store_wait`` (``EWS_STORE_WAIT``)."""
        with open_store(self.config.store, timeout=self.config.store_wait) as store:
            yield store
