"""Alert ids name their origin node, unambiguously, and the record holds them to it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ews.alerts.records import (
    ALERT_ID_PATTERN,
    Alert,
    alert_id_for,
    alert_origin,
    legacy_alert_id_for,
)
from ews.settings import Settings
from tests.alerts.strategies import COUNTRY, HS, NODE
from tests.alerts.test_cap import sample

DAY = dt.date(2026, 1, 5)


@given(
    HS,
    st.one_of(st.none(), COUNTRY),
    st.one_of(st.none(), COUNTRY),
    st.dates(),
    st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True),
    NODE,
)
def test_the_node_reads_back_and_two_nodes_never_share_an_id(
    hs: str, supplier: str | None, importer: str | None, onset: dt.date, node: str, other: str
) -> None:
    alert_id = alert_id_for(hs, supplier, importer, onset, node=node)
    assert re.fullmatch(ALERT_ID_PATTERN, alert_id)
    assert alert_origin(alert_id) == node  # node ids may hold '-' and '.': still unambiguous
    if other != node:
        assert alert_id_for(hs, supplier, importer, onset, node=other) != alert_id
    assert alert_origin(legacy_alert_id_for(hs, supplier, importer, onset)) is None


def test_the_format() -> None:
    assert alert_id_for("280530", "CN", None, DAY, node="KR") == (
        "ews-280530-CN-ALL-20260105-95b76c90@KR"
    )
    # Unchanged for stores written before namespacing.
    assert legacy_alert_id_for("280530", "CN", "KR", DAY) == "ews-280530-CN-KR-20260105-b8e50eef"


@pytest.mark.parametrize("node", ["", "K R", "KR@US", "KR#1", "x" * 65])
def test_a_node_id_that_could_blur_the_id_is_refused(node: str) -> None:
    with pytest.raises(ValueError, match="node id"):
        alert_id_for("280530", "CN", None, DAY, node=node)
    with pytest.raises(ValidationError):
        Settings(node_id=node)  # EWS_NODE_ID allows none of them either


def _data(**changes: object) -> dict[str, object]:
    data = sample().model_dump()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"origin_node": "US"}, "belongs to node 'KR'"),
        ({"alert_id": "ews-x@US"}, "belongs to node 'US'"),
        ({"alert_id": "ews@x@KR"}, "alert_id"),
        ({"alert_id": "ews-x#2@KR"}, "alert_id"),
        ({"references": ("ews-280530-CN-ALL-20260105-95b76c90@KR#1",)}, "not an earlier version"),
        ({"references": ("ews-280530-CN-KR-20260105-8d09ec71@KR#2",)}, "not an earlier version"),
        ({"references": ("ews-280530-CN-KR-20260105-8d09ec71@KR#x",)}, "not an earlier version"),
        ({"origin_node": "K R"}, "origin_node"),
    ],
)
def test_the_record_holds_the_id_to_its_origin(changes: dict[str, object], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        Alert.model_validate(_data(**changes))
