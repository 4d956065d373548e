"""Inbox, feed and outbox in one process (the HTTP app through FastAPI's test client)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from ews.alerts.repository import load_alerts, save_alert
from ews.alerts.signing import Rejected, generate_key, seal, sign, sign_request
from ews.api.node import create_app
from ews.federation.exchange import FEED_PATH, INBOX_PATH, enqueue
from ews.federation.inbox import accept
from ews.federation.partners import add_agreement, remove_partner
from tests.federation.helpers import NodeUnderTest, alert, link, make_node

NOW = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
def trio(tmp_path: Path) -> tuple[NodeUnderTest, NodeUnderTest, NodeUnderTest]:
    kr, us, jp = (make_node(tmp_path, n) for n in ("KR", "US", "JP"))
    link(kr, us, jp)
    return kr, us, jp


def _audit(node: NodeUnderTest, action: str) -> list[dict[str, Any]]:
    with node.node.store() as store:
        rows = store.query(
            "SELECT subject, detail FROM audit_log WHERE action = ? ORDER BY seq", [action]
        )
    return [{"subject": r["subject"], **json.loads(r["detail"])} for r in rows]


def test_receive_stores_once_and_refuses_replays(trio: tuple[NodeUnderTest, ...]) -> None:
    kr, us, _ = trio
    a = alert("KR", 1, "GREEN")
    first = seal(a, kr.node.key, sender="KR", recipient="US", now=NOW)
    second = seal(a, kr.node.key, sender="KR", recipient="US", now=NOW)  # a retry: new nonce
    with us.node.store() as store:
        assert (
            accept(store, us.node, first, now=NOW, via="test", nonces="consume").outcome == "stored"
        )
        assert (
            accept(store, us.node, second, now=NOW, via="test", nonces="consume").outcome
            == "duplicate"
        )
        with pytest.raises(Rejected) as info:
            accept(store, us.node, first, now=NOW, via="test", nonces="consume")
        assert info.value.reason == "replayed"
        assert load_alerts(store) == [a]
        assert store.verify_audit()[0]
    assert [r["outcome"] for r in _audit(us, "federation.receive")] == ["stored", "duplicate"]
    assert [r["reason"] for r in _audit(us, "federation.reject")] == ["replayed"]


def test_a_conflicting_version_is_refused_and_nothing_half_stored(
    trio: tuple[NodeUnderTest, ...],
) -> None:
    kr, us, _ = trio
    a = alert("KR", 1, "GREEN")
    changed = a.model_copy(update={"summary": "rewritten"})
    with us.node.store() as store:
        accept(
            store,
            us.node,
            seal(a, kr.node.key, sender="KR", recipient="US", now=NOW),
            now=NOW,
            via="test",
            nonces="consume",
        )
        msg = seal(changed, kr.node.key, sender="KR", recipient="US", now=NOW)
        with pytest.raises(Rejected, match="conflict"):
            accept(store, us.node, msg, now=NOW, via="test", nonces="consume")
        assert load_alerts(store) == [a]
        # the refused message's nonce was rolled back with it: nothing of it remains
        nonce = msg["envelope"]["nonce"]
        assert store.scalar("SELECT count(*) FROM federation_nonces WHERE nonce = ?", [nonce]) == 0


def test_outbox_follows_tlp_recipients_and_agreements(trio: tuple[NodeUnderTest, ...]) -> None:
    kr, _, _ = trio
    with kr.node.store() as store:
        for a in (
            alert("KR", 1, "GREEN"),
            alert("KR", 2, "AMBER", ("US",)),
            alert("KR", 3, "RED", ("US", "JP")),
            alert("KR", 4, "AMBER+STRICT"),
            alert("US", 5, "CLEAR"),  # received from a partner: never relayed
        ):
            save_alert(store, a)
        assert enqueue(store, "KR", NOW) == 3
        add_agreement(store, "JP", hs_prefix="28", tlp_max="AMBER+STRICT")
        assert enqueue(store, "KR", NOW) == 2  # the agreement opens alerts 2 and 4 to JP
        assert enqueue(store, "KR", NOW) == 0
        rows = store.query(
            "SELECT partner, alert_id FROM federation_outbox ORDER BY alert_id, partner"
        )
    got = {(r["partner"], r["alert_id"].removesuffix("@KR")[-1]) for r in rows}
    assert got == {("JP", "1"), ("US", "1"), ("US", "2"), ("JP", "2"), ("JP", "4")}


def _client(node: NodeUnderTest) -> TestClient:
    return TestClient(create_app(node.node, clock=lambda: NOW))


def test_inbox_over_http(trio: tuple[NodeUnderTest, ...]) -> None:
    kr, us, _ = trio
    client = _client(us)
    a = alert("KR", 1, "GREEN")
    msg = seal(a, kr.node.key, sender="KR", recipient="US", now=NOW)
    assert client.post(INBOX_PATH, json=msg).json() == {"outcome": "stored", "key": a.key}
    replay = client.post(INBOX_PATH, json=msg)
    assert (replay.status_code, replay.json()["error"]) == (409, "replayed")
    forged = dict(
        msg,
        **sign(
            seal(a, kr.node.key, sender="KR", recipient="US", now=NOW)["envelope"], generate_key()
        ),
    )
    r = client.post(INBOX_PATH, json=forged)
    assert (r.status_code, r.json()["error"]) == (401, "bad_signature")
    r = client.post(INBOX_PATH, content=b"{" + b" " * 1_100_000 + b"}")
    assert (r.status_code, r.json()["error"]) == (413, "too_large")
    r = client.post(INBOX_PATH, json={"envelope": msg["envelope"]})
    assert (r.status_code, r.json()["error"]) == (401, "unsigned")
    reasons = [x["reason"] for x in _audit(us, "federation.reject")]
    assert reasons == ["replayed", "bad_signature", "too_large", "unsigned"]


def _signed_get(client: TestClient, node: NodeUnderTest, **params: str) -> Any:
    query = urlencode(params)
    headers = sign_request(
        node.node.key, method="GET", path=FEED_PATH, query=query, node=node.name, now=NOW
    )
    return client.get(f"{FEED_PATH}?{query}", headers=headers)


def test_feed_shows_each_partner_only_what_it_may_see(trio: tuple[NodeUnderTest, ...]) -> None:
    kr, us, jp = trio
    with kr.node.store() as store:
        for a in (alert("KR", 1, "GREEN"), alert("KR", 2, "AMBER", ("US",)), alert("KR", 3, "RED")):
            save_alert(store, a)
    client = _client(kr)
    seen = {}
    for partner in (us, jp):
        page = _signed_get(client, partner, cursor="0").json()
        seen[partner.name] = [
            i["envelope"]["payload"]["alert_id"].removesuffix("@KR")[-1] for i in page["items"]
        ]
        assert page["next_cursor"] == "3" and page["more"] is False
        assert all(i["envelope"]["recipient"] == partner.name for i in page["items"])
    assert seen == {"US": ["1", "2"], "JP": ["1"]}
    page = _signed_get(client, us, cursor="1", limit="1").json()
    assert (page["next_cursor"], page["more"]) == ("2", True)
    page = _signed_get(client, us, cursor="0", since="2026-01-02T00:00:00Z").json()
    assert [
        i["envelope"]["payload"]["alert_id"].removesuffix("@KR")[-1] for i in page["items"]
    ] == ["2"]


def test_feed_refuses_unsigned_forged_replayed_and_removed_requesters(
    trio: tuple[NodeUnderTest, ...],
) -> None:
    kr, us, _ = trio
    client = _client(kr)
    assert client.get(f"{FEED_PATH}?cursor=0").json()["error"] == "unsigned"
    query = "cursor=0"
    headers = sign_request(
        generate_key(), method="GET", path=FEED_PATH, query=query, node="US", now=NOW
    )
    assert client.get(f"{FEED_PATH}?{query}", headers=headers).json()["error"] == "bad_signature"
    headers = sign_request(
        us.node.key, method="GET", path=FEED_PATH, query=query, node="US", now=NOW
    )
    assert client.get(f"{FEED_PATH}?{query}", headers=headers).status_code == 200
    assert client.get(f"{FEED_PATH}?{query}", headers=headers).json()["error"] == "replayed"
    tampered = client.get(f"{FEED_PATH}?cursor=5", headers=headers)  # query changed
    assert tampered.json()["error"] == "bad_signature"
    with kr.node.store() as store:
        remove_partner(store, "US")
    assert _signed_get(client, us, cursor="0").json()["error"] == "unknown_sender"
    assert [r["reason"] for r in _audit(kr, "federation.reject")] == [
        "unsigned",
        "bad_signature",
        "replayed",
        "bad_signature",
        "unknown_sender",
    ]
