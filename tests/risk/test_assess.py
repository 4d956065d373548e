"""Replay and alert lifecycle on synthetic signals: new -> update -> cancel, stable ids."""

from __future__ import annotations

import datetime as dt

from ews.alerts.records import alert_id_for
from ews.catalog import Catalog
from ews.risk.assess import StructureBook, UnitKey, replay
from ews.risk.config import load_config, load_priors
from ews.risk.signals import Signal

CFG = load_config()
D0 = dt.date(2025, 10, 9)


def sig(
    ref: str,
    type_: str,
    known: dt.date,
    strength: float = 0.9,
    supplier: str | None = "CN",
    group: str = "rare_earths",
    importer: str | None = None,
) -> Signal:
    return Signal(
        kind="event",
        type=type_,
        ref=ref,
        group=group,
        hs=("280530",),
        supplier=supplier,
        importer=importer,
        observed=known,
        known=known,
        strength=strength,
        summary=ref,
        text=f"evidence for {ref}",
        lang="vi",
    )


def run(signals: list[Signal], catalog: Catalog, end: dt.date, watch: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return replay(
        signals,
        start=D0 - dt.timedelta(days=10),
        end=end,
        config=CFG,
        structures=StructureBook(CFG, load_priors()),
        catalog=catalog,
        node="KR",
        watchlist=list(watch),
    )


def test_episode_lifecycle(catalog: Catalog) -> None:
    signals = [
        sig("a", "export_restriction", D0),
        sig("b", "export_restriction", D0, strength=0.9),
        sig("c", "restriction_eased", D0 + dt.timedelta(days=30)),
    ]
    result = run(signals, catalog, D0 + dt.timedelta(days=120))
    alerts = [a for a in result.alerts if a.importer is None]
    assert alerts[0].msg_type == "Alert" and alerts[-1].msg_type == "Cancel"
    first = alerts[0]
    assert first.alert_id == alert_id_for(first.hs, "CN", None, D0, node="KR")
    assert first.alert_id.endswith("@KR") and first.origin_node == "KR"
    assert first.onset == D0 and first.level in ("alert", "serious")
    assert first.evidence and first.evidence[0].text == "evidence for a"
    for n, a in enumerate(alerts, start=1):
        assert a.version == n and a.alert_id == first.alert_id
        assert a.references == tuple(f"{first.alert_id}#{k}" for k in range(1, n))
    # the easing brings the level down within days, not after the signals decay on their own
    fall = next(a for a in alerts if a.level != first.level)
    assert (fall.sent.date() - (D0 + dt.timedelta(days=30))).days <= CFG.hysteresis.min_days + 1


def test_same_history_gives_same_ids_and_versions(catalog: Catalog) -> None:
    signals = [sig("a", "export_restriction", D0), sig("b", "shortage", D0 + dt.timedelta(days=3))]
    one = run(signals, catalog, D0 + dt.timedelta(days=90))
    two = run(list(reversed(signals)), catalog, D0 + dt.timedelta(days=90))
    assert one.alerts, "the history raised no alert: nothing was compared"
    assert [a.key for a in one.alerts] == [a.key for a in two.alerts]
    assert [a.sent for a in one.alerts] == [a.sent for a in two.alerts]


def test_clock_hides_the_future(catalog: Catalog) -> None:
    known = D0 + dt.timedelta(days=5)
    signals = [sig("a", "export_restriction", known)]
    result = run(signals, catalog, D0)
    assert result.alerts == []
    # The same signal does raise an alert once the clock reaches the day it became known.
    later = run(signals, catalog, known + dt.timedelta(days=1))
    assert later.alerts and min(a.sent.date() for a in later.alerts) == known


def test_watchlist_weighs_by_dependence(catalog: Catalog) -> None:
    # a price-like global signal on urea: Korea depends on China for 97 % (shipped prior)
    urea = Signal(
        kind="price_anomaly",
        type="price_anomaly",
        ref="p",
        group="nitrogen_fertilisers",
        hs=("310210",),
        supplier=None,
        observed=D0,
        known=D0,
        strength=1.0,
        summary="urea spike",
    )
    result = run([urea], catalog, D0 + dt.timedelta(days=5), watch=("KR", "JP"))
    peak = {u: max(s for _, s, _ in rows) for u, rows in result.daily.items()}
    kr = peak[UnitKey("nitrogen_fertilisers", None, "KR")]
    world = peak[UnitKey("nitrogen_fertilisers", None)]
    assert kr > world
    # Japan has no dependence figures of its own here: its view would repeat the global one
    assert UnitKey("nitrogen_fertilisers", None, "JP") not in peak
    kr_alert = next(a for a in result.alerts if a.importer == "KR")
    assert kr_alert.supplier == "CN"  # attributed to Korea's top supplier
    assert kr_alert.hs == "310210" and kr_alert.item_name.startswith("Urea")


def test_private_signal_reaches_only_its_importer(catalog: Catalog) -> None:
    drop = Signal(
        kind="trade_anomaly",
        type="trade_drop",
        ref="t",
        group="graphite",
        hs=("250410",),
        supplier="CN",
        importer="KR",
        observed=D0,
        known=D0,
        strength=1.0,
        summary="drop to KR",
    )
    result = run([drop], catalog, D0 + dt.timedelta(days=5), watch=("KR", "JP"))
    units = set(result.daily)
    assert UnitKey("graphite", None, "KR") in units
    assert UnitKey("graphite", "CN") not in units and UnitKey("graphite", None, "JP") not in units
