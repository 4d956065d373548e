"""An alert belongs to the node that raised it: only that node issues its versions.

The three attacks of issue 15, finding 1, each through the real paths (the risk stage's replay
and persistence, the inbox every way in calls, the outbox), on the ids the risk stage really
computes: a partner cancelling this node's own alert, a partner claiming the id this node
will compute later, and two honest nodes raising the same episode.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from ews.alerts.records import Alert, alert_id_for, alert_origin, legacy_alert_id_for
from ews.alerts.repository import load_alert, load_alerts, save_alert, save_versions
from ews.alerts.signing import Rejected, seal
from ews.catalog import Catalog
from ews.federation.exchange import enqueue
from ews.federation.inbox import accept
from ews.risk.assess import StructureBook, replay
from ews.risk.config import load_config, load_priors
from ews.risk.signals import Signal
from tests.federation.helpers import NodeUnderTest, link, make_node
from tests.risk.test_assess import D0, sig

NOW = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
CFG = load_config()


@pytest.fixture
def trio(tmp_path: Path) -> tuple[NodeUnderTest, NodeUnderTest, NodeUnderTest]:
    kr, us, jp = (make_node(tmp_path, n) for n in ("KR", "US", "JP"))
    link(kr, us, jp)
    return kr, us, jp


def _signals() -> list[Signal]:
    return [
        sig("a", "export_restriction", D0),
        sig("b", "export_restriction", D0, strength=0.9),
        sig("c", "restriction_eased", D0 + dt.timedelta(days=30)),
    ]


def _assess(node: str, catalog: Catalog, legacy_ids: frozenset[str] = frozenset()) -> list[Alert]:
    """The global alert versions node ``node``'s risk stage issues for the same news."""
    result = replay(
        _signals(),
        start=D0 - dt.timedelta(days=10),
        end=D0 + dt.timedelta(days=120),
        config=CFG,
        structures=StructureBook(CFG, load_priors()),
        catalog=catalog,
        node=node,
        watchlist=[],
        legacy_ids=legacy_ids,
    )
    alerts = [a for a in result.alerts if a.importer is None]
    assert alerts and alerts[0].msg_type == "Alert" and alerts[-1].msg_type == "Cancel"
    return alerts


def _as_partner(alert: Alert, partner: str, **changes: Any) -> Alert:
    """``alert`` rewritten by ``partner`` under the same id: what a hostile partner sends.

    Built without validation, as an attacker builds JSON by hand."""
    return alert.model_copy(update={"origin_node": partner, **changes})


def _deliver(to: NodeUnderTest, sender: NodeUnderTest, alert: Alert) -> str:
    """Push ``alert`` signed by ``sender`` into ``to``'s inbox: the outcome or the refusal."""
    message = seal(alert, sender.node.key, sender=sender.name, recipient=to.name, now=NOW)
    with to.node.store() as store:
        try:
            return accept(store, to.node, message, via="test", now=NOW, nonces="consume").outcome
        except Rejected as rej:
            return f"refused: {rej.reason}"


def _assessed(store: Any, versions: list[Alert]) -> int:
    """Store a node's own versions as its risk stage does (``ews.risk.persist.save``)."""
    with store.transaction():
        return save_versions(store, versions)


def _refusals(node: NodeUnderTest) -> list[dict[str, Any]]:
    with node.node.store() as store:
        rows = store.query(
            "SELECT actor, subject, detail FROM audit_log WHERE action = 'federation.reject' "
            "ORDER BY seq"
        )
    return [{"subject": r["subject"], **json.loads(r["detail"])} for r in rows]


def test_a_partner_cannot_cancel_this_nodes_own_alert(
    trio: tuple[NodeUnderTest, ...], catalog: Catalog
) -> None:
    kr, us, _ = trio
    own = _assess("KR", catalog)[0]
    assert alert_origin(own.alert_id) == "KR" and own.alert_id.endswith("@KR")
    with kr.node.store() as store:
        assert _assessed(store, [own]) == 1
    cancel = _as_partner(
        own,
        "US",
        version=2,
        msg_type="Cancel",
        level="normal",
        previous_level=own.level,
        headline="US says: all clear",
        references=(own.key,),
    )
    assert _deliver(kr, us, cancel) == "refused: bad_payload"
    # The same with the id of a store from before namespacing (a legacy id of KR's own).
    legacy = own.model_copy(update={"alert_id": legacy_alert_id_for("280530", "CN", None, D0)})
    with kr.node.store() as store:
        save_alert(store, legacy)
    legacy_cancel = _as_partner(
        cancel, "US", alert_id=legacy.alert_id, references=(f"{legacy.alert_id}#1",)
    )
    assert _deliver(kr, us, legacy_cancel) == "refused: own_alert"
    with kr.node.store() as store:
        assert load_alert(store, own.alert_id) == own
        assert load_alert(store, legacy.alert_id) == legacy
        assert {a.origin_node for a in load_alerts(store)} == {"KR"}
        assert all(a.headline != "US says: all clear" for a in load_alerts(store))
    refusals = _refusals(kr)
    assert [r["reason"] for r in refusals] == ["bad_payload", "own_alert"]
    assert "belongs to node 'KR'" in refusals[0]["message"]
    assert refusals[1]["claimed_sender"] == "US"


def test_a_partner_cannot_claim_the_id_this_node_will_compute(
    trio: tuple[NodeUnderTest, ...], catalog: Catalog
) -> None:
    kr, us, _ = trio
    # Ids derive from public fields, so a partner can compute the one KR will give an episode
    # before KR's risk stage runs, and send its own version 1 under it.
    predicted = _assess("KR", catalog)[0]
    claim = _as_partner(predicted, "US", headline="US got there first")
    assert _deliver(kr, us, claim) == "refused: bad_payload"
    # The pre-namespacing id of the same episode (what KR computed before): not a new episode
    # any more, so it cannot be claimed either.
    legacy_claim = _as_partner(
        claim, "US", alert_id=legacy_alert_id_for("280530", "CN", None, D0), references=()
    )
    assert _deliver(kr, us, legacy_claim) == "refused: legacy_id"
    with kr.node.store() as store:
        assert load_alerts(store) == []
        # KR's own assessment then stores its alert (nothing silently dropped) and shares it.
        versions = _assess("KR", catalog)
        assert _assessed(store, versions) == len(versions)
        assert load_alert(store, predicted.alert_id, 1) == predicted
        assert enqueue(store, "KR", NOW) == 2 * len(versions)  # every version to US and JP
        queued = store.query("SELECT DISTINCT alert_id FROM federation_outbox")
    assert [r["alert_id"] for r in queued] == [predicted.alert_id]
    assert [r["reason"] for r in _refusals(kr)] == ["bad_payload", "legacy_id"]


def test_two_honest_nodes_raising_the_same_episode_never_collide(
    trio: tuple[NodeUnderTest, ...], catalog: Catalog
) -> None:
    kr, us, _ = trio
    mine, theirs = _assess("KR", catalog), _assess("US", catalog)
    for node, own in ((kr, mine), (us, theirs)):
        with node.node.store() as store:
            _assessed(store, own)
    # Each pushes every version of its own alert to the other: all stored, no conflict.
    assert [_deliver(us, kr, a) for a in mine] == ["stored"] * len(mine)
    assert [_deliver(kr, us, a) for a in theirs] == ["stored"] * len(theirs)
    assert {a.alert_id for a in mine}.isdisjoint(a.alert_id for a in theirs)
    for node, own, other in ((kr, mine, theirs), (us, theirs, mine)):
        with node.node.store() as store:
            assert load_alerts(store, origin=node.name) == own
            assert load_alerts(store, origin=other[0].origin_node) == other
        assert _refusals(node) == []


def test_versions_come_only_from_the_origin_of_a_partners_alert(
    trio: tuple[NodeUnderTest, ...], catalog: Catalog
) -> None:
    kr, us, jp = trio
    theirs = _assess("US", catalog)
    assert _deliver(kr, us, theirs[0]) == "stored"
    # JP cannot add a version to US's alert, under US's id nor by claiming its own origin.
    hijack = _as_partner(theirs[1], "JP")
    assert _deliver(kr, jp, hijack) == "refused: bad_payload"
    # A legacy alert of US's, stored before the upgrade, takes versions from US only.
    legacy_id = legacy_alert_id_for("280530", "CN", None, D0)
    old = theirs[0].model_copy(update={"alert_id": legacy_id})
    with kr.node.store() as store:
        save_alert(store, old)
    nxt = theirs[1].model_copy(update={"alert_id": legacy_id, "references": (f"{legacy_id}#1",)})
    assert _deliver(kr, jp, _as_partner(nxt, "JP")) == "refused: not_origin"
    assert _deliver(kr, us, nxt) == "stored"
    # References stay inside the alert's own id.
    stray = theirs[2].model_copy(update={"references": (f"{legacy_id}#1",)})
    assert _deliver(kr, us, stray) == "refused: bad_payload"
    with kr.node.store() as store:
        assert {a.origin_node for a in load_alerts(store)} == {"US"}
        assert load_alert(store, legacy_id) == nxt
    assert [r["reason"] for r in _refusals(kr)] == ["bad_payload", "not_origin", "bad_payload"]


def test_a_store_from_before_namespacing_goes_on_with_its_own_legacy_ids(
    catalog: Catalog,
) -> None:
    # The risk stage replays history on every run: an episode this node already issued under
    # a legacy id keeps that id (instead of being raised a second time under a new one); any
    # other episode gets the namespaced id.
    legacy_id = legacy_alert_id_for("280530", "CN", None, D0)
    versions = _assess("KR", catalog, frozenset({legacy_id}))
    assert {a.alert_id for a in versions} == {legacy_id}
    assert [a.references for a in versions[:2]] == [(), (f"{legacy_id}#1",)]
    assert all(a.origin_node == "KR" for a in versions)
    # Without it (a new store, or the episode never issued here), the namespaced id.
    assert {a.alert_id for a in _assess("KR", catalog)} == {
        alert_id_for("280530", "CN", None, D0, node="KR")
    }
