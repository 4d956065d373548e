"""Building test nodes: a store file, a key and a config each, partners registered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ews.alerts.records import Alert, Tlp
from ews.alerts.signing import generate_key, save_private_key
from ews.federation.config import FederationConfig
from ews.federation.node import Node
from ews.federation.partners import add_partner
from tests.alerts.test_cap import sample


@dataclass
class NodeUnderTest:
    name: str
    node: Node
    url: str

    @property
    def public_key(self) -> str:
        return self.node.public_key


def make_node(tmp_path: Path, name: str, url: str = "http://127.0.0.1:9") -> NodeUnderTest:
    """A node with its own store file and 0600 key under ``tmp_path``."""
    key_path = tmp_path / f"{name.lower()}.pem"
    save_private_key(generate_key(), key_path)
    config = FederationConfig(
        node_id=name,
        store=str(tmp_path / f"{name.lower()}.duckdb"),
        key_path=key_path,
        http_timeout=2.0,
    )
    return NodeUnderTest(name=name, node=Node(config), url=url)


def link(*nodes: NodeUnderTest) -> None:
    """Register every node as a partner of every other."""
    for me in nodes:
        with me.node.store() as store:
            for other in nodes:
                if other is not me:
                    add_partner(store, other.name, other.url, other.public_key, self_id=me.name)


def alert(origin: str, n: int, tlp: Tlp, recipients: tuple[str, ...] = ()) -> Alert:
    """Version 1 of a distinct alert raised by ``origin``."""
    return sample(
        alert_id=f"ews-280530-CN-KR-2026010{n}-test{n:04d}@{origin}",
        version=1,
        msg_type="Alert",
        references=(),
        previous_level=None,
        origin_node=origin,
        tlp=tlp,
        recipients=recipients,
        sent=dt.datetime(2026, 1, n, 9, tzinfo=dt.UTC),
    )
