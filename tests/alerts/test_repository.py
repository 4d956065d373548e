"""Alert versions in the store: append-only, idempotent, loadable."""

from __future__ import annotations

import pytest

from ews.alerts.repository import load_alert, load_alerts, save_alert, sent_times
from ews.errors import InputError
from ews.store import Store
from tests.alerts.test_cap import sample


def test_save_load_and_list(store: Store) -> None:
    v2 = sample()
    v1 = sample(version=1, msg_type="Alert", references=(), previous_level=None)
    assert save_alert(store, v1) == "stored"
    assert save_alert(store, v2) == "stored"
    assert save_alert(store, v2) == "duplicate"
    assert store.scalar("SELECT count(*) FROM alerts") == 2
    assert load_alert(store, v2.alert_id) == v2
    assert load_alert(store, v2.alert_id, 1) == v1
    assert load_alerts(store) == [v1, v2]
    assert load_alerts(store, origin="US") == []
    assert sent_times(store, v2.references) == {v1.key: v1.sent}


def test_a_stored_version_is_never_rewritten(store: Store) -> None:
    save_alert(store, sample())
    with pytest.raises(InputError, match="immutable"):
        save_alert(store, sample(summary="changed"))
    assert load_alert(store, sample().alert_id) == sample()


def test_missing_alert_is_an_input_error(store: Store) -> None:
    with pytest.raises(InputError, match="no alert"):
        load_alert(store, "ews-nothing", 3)
