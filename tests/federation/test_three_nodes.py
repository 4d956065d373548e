"""Three real nodes (KR, US, JP) as separate processes on loopback ports.

Shows: an alert raised in KR reaches US and JP exactly once; AMBER reaches only the named
partner; RED reaches nobody; a forged message is refused and audit-logged; JP, down when
the alerts were raised, catches up when it returns. Every wait is bounded; the processes are
killed in teardown whatever happens.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ews.alerts.repository import load_alerts, save_alert
from ews.alerts.signing import generate_key, seal
from ews.settings import project_root
from tests.federation.helpers import NodeUnderTest, alert, link, make_node

STARTUP_S = 30.0
DELIVERY_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], what: str, timeout: float) -> float:
    """Poll ``check`` every 0.2 s until true; returns seconds waited, fails after timeout."""
    start = time.monotonic()
    for _ in range(int(timeout / 0.2) + 1):
        if check():
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Cluster:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.nodes: dict[str, NodeUnderTest] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        for name in ("KR", "US", "JP"):
            self.nodes[name] = make_node(tmp_path, name, f"http://127.0.0.1:{free_port()}")
        link(*self.nodes.values())

    def start(self, name: str) -> None:
        node = self.nodes[name]
        port = node.url.rsplit(":", 1)[1]
        env = dict(
            os.environ,
            EWS_STORE=node.node.config.store,
            EWS_NODE_ID=name,
            EWS_NODE_KEY=str(node.node.config.key_path),
            EWS_ENV="test",
            EWS_FEDERATION_RETRY_MAX="1",
            EWS_FEDERATION_TIMEOUT="2",
        )
        log = (self.tmp / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ews.cli",
                "node",
                "serve",
                "--port",
                port,
                "--sync-interval",
                "0.3",
            ],
            env=env,
            cwd=project_root(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            if self.procs[name].poll() is not None:
                raise AssertionError(f"{name} exited: {(self.tmp / f'{name}.log').read_text()}")
            try:
                return httpx.get(f"{node.url}/federation/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, f"{name} to serve", STARTUP_S)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def keys(self, name: str) -> list[str]:
        with self.nodes[name].node.store() as store:
            return sorted(a.key for a in load_alerts(store))

    def query(self, name: str, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        with self.nodes[name].node.store() as store:
            return store.query(sql, params)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.stop_all()


def test_three_nodes_share_alerts_by_tlp(cluster: Cluster) -> None:
    green = alert("KR", 1, "GREEN")
    amber = alert("KR", 2, "AMBER", ("US",))
    red = alert("KR", 3, "RED", ("US", "JP"))
    cluster.start("KR")
    cluster.start("US")  # JP stays down for now
    with cluster.nodes["KR"].node.store() as store:
        for a in (green, amber, red):
            save_alert(store, a)

    waited = wait_for(
        lambda: cluster.keys("US") == sorted([green.key, amber.key]),
        "US to receive the GREEN and AMBER alerts",
        DELIVERY_S,
    )

    # JP is down: its deliveries stay pending and are retried.
    def jp_retried() -> bool:
        rows = cluster.query("KR", "SELECT attempts FROM federation_outbox WHERE partner = 'JP'")
        return len(rows) == 1 and rows[0]["attempts"] >= 2

    wait_for(jp_retried, "KR to retry JP", DELIVERY_S)

    # A forged message (claims to be KR, signed with another key) is refused and logged.
    forged = seal(
        alert("KR", 4, "GREEN"),
        generate_key(),
        sender="KR",
        recipient="US",
        now=dt.datetime.now(dt.UTC),
    )
    r = httpx.post(f"{cluster.nodes['US'].url}/federation/v1/inbox", json=forged, timeout=5)
    assert (r.status_code, r.json()["error"]) == (401, "bad_signature")

    cluster.start("JP")
    caught_up = wait_for(lambda: cluster.keys("JP") == [green.key], "JP to catch up", DELIVERY_S)

    def settled() -> bool:
        rows = cluster.query("KR", "SELECT status FROM federation_outbox")
        return bool(rows) and all(r["status"] == "delivered" for r in rows)

    wait_for(settled, "KR's outbox to drain", DELIVERY_S)
    time.sleep(1.0)  # a few more sync rounds: pulls repeat deliveries, nothing may duplicate

    assert cluster.keys("US") == sorted([green.key, amber.key])
    assert cluster.keys("JP") == [green.key]  # no AMBER (not named), no RED
    for name in ("US", "JP"):
        rows = cluster.query(
            name, "SELECT count(*) AS n FROM alerts WHERE alert_id = ?", [green.alert_id]
        )
        assert rows[0]["n"] == 1
    assert red.key not in cluster.keys("US") + cluster.keys("JP")
    outbox = cluster.query(
        "KR", "SELECT partner, alert_id, attempts FROM federation_outbox ORDER BY partner, alert_id"
    )
    assert [(r["partner"], r["alert_id"]) for r in outbox] == [
        ("JP", green.alert_id),
        ("US", green.alert_id),
        ("US", amber.alert_id),
    ]
    rejects = [
        json.loads(r["detail"])
        for r in cluster.query(
            "US", "SELECT detail FROM audit_log WHERE action = 'federation.reject'"
        )
    ]
    assert [r["reason"] for r in rejects] == ["bad_signature"]
    received = {
        name: [
            json.loads(r["detail"])["outcome"]
            for r in cluster.query(
                name, "SELECT detail FROM audit_log WHERE action = 'federation.receive'"
            )
        ]
        for name in ("US", "JP")
    }
    for name in ("US", "JP", "KR"):
        with cluster.nodes[name].node.store() as store:
            assert store.verify_audit()[0]
    jp_attempts = next(r["attempts"] for r in outbox if r["partner"] == "JP")
    print(  # figures for the report (pytest -s)
        f"\nUS got GREEN+AMBER in {waited:.1f} s; JP caught up in {caught_up:.1f} s after "
        f"{jp_attempts} push attempts; messages received US {received['US']}, "
        f"JP {received['JP']}; refused at US: {[r['reason'] for r in rejects]}"
    )
