"""Event refs read back into cluster and family; the live clock on the publishers' calendar."""

from __future__ import annotations

import datetime as dt

from ews.catalog import Catalog
from ews.risk.explain import split_event_ref
from ews.risk.inputs import local_date, newest_local_date


def test_refs_of_every_shape_give_cluster_and_family(catalog: Catalog) -> None:
    groups = catalog.groups
    assert split_event_ref("c3b95308:rare_earths", groups) == ("c3b95308", "rare_earths")
    assert split_event_ref("c3b95308:rare_earths:tuoitre.vn", groups) == (
        "c3b95308",
        "rare_earths",
    )
    assert split_event_ref("c1:crude_oil:vnexpress.net:hormuz:SA", groups) == ("c1", "crude_oil")
    # An id from an events file may hold colons of its own, and an outlet a port.
    assert split_event_ref("gta:143978:copper:host:8080", groups) == ("gta:143978", "copper")
    assert split_event_ref("no-family-here", groups) == ("no-family-here", "")


def test_a_live_run_reaches_the_easternmost_publishers_today() -> None:
    evening = dt.datetime(2026, 12, 5, 19, 50, tzinfo=dt.UTC)
    # 04:50 on 6 Dec in Seoul: a story Seoul dates the 6th is not "in the future".
    assert local_date(evening, "ko") == dt.date(2026, 12, 6)
    assert newest_local_date(evening) == dt.date(2026, 12, 6)
    morning = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)
    assert newest_local_date(morning) == dt.date(2026, 12, 5)


def test_a_surge_before_a_controls_date_confirms_it_and_other_surges_are_dropped() -> None:
    from ews.risk.config import load_config
    from ews.risk.inputs import front_loading
    from ews.risk.signals import Signal

    config = load_config()

    def signal(**kw: object) -> Signal:
        base: dict[str, object] = {
            "kind": "event",
            "type": "export_restriction",
            "ref": "c",
            "group": "graphite",
            "hs": ("250410",),
            "supplier": "CN",
            "observed": dt.date(2023, 10, 20),
            "known": dt.date(2023, 10, 20),
            "strength": 0.5,
            "summary": "export_restriction (CN), reported by x",
            "effective": dt.date(2023, 12, 1),
        }
        base.update(kw)
        return Signal.model_validate(base)

    control = signal()
    surge = signal(
        kind="trade_anomaly",
        type="trade_surge",
        ref="trade:CN>WLD:export:250410@2023-11:trade_surge",
        observed=dt.date(2023, 11, 1),
        known=dt.date(2023, 12, 20),
        summary="CN exports of 250410 to all partners: trade surge in 2023-11",
        effective=None,
    )
    after = surge.model_copy(update={"observed": dt.date(2024, 1, 1), "ref": "late"})
    elsewhere = surge.model_copy(update={"supplier": "MZ", "ref": "mz"})
    out = front_loading([control, surge, after, elsewhere], config)
    assert [s.type for s in out] == ["export_restriction", "front_loading"]
    assert "ahead of the control effective 2023-12-01" in out[1].summary
    assert config.weights["front_loading"] > 0 and config.weights["trade_surge"] == 0


def test_a_shortage_where_goods_are_bought_is_the_worlds_not_a_suppliers() -> None:
    from ews.risk.config import load_priors
    from ews.risk.inputs import _supplies

    priors = load_priors()
    day = dt.date(2026, 2, 26)
    assert _supplies(priors, "rare_earths", "CN", day)
    assert not _supplies(priors, "rare_earths", "US", day)  # the US buys; China supplies
    # A family with no supplier figure yet gives the benefit of the doubt.
    assert _supplies(priors, "natural_gas", "US", day)
    # Figures count only from their publication: no rare-earth share was public in 1990.
    assert _supplies(priors, "rare_earths", "US", dt.date(1990, 1, 1))
