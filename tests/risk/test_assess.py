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


def run(  # type: ignore[no-untyped-def]
    signals: list[Signal],
    catalog: Catalog,
    end: dt.date,
    watch: tuple[str, ...] = (),
    start: dt.date = D0,
):
    return replay(
        signals,
        start=start - dt.timedelta(days=10),
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
    # Two outlets: one alone would be held at attention (corroboration), raising no alert.
    signals = [sig("a", "export_restriction", known), sig("b", "export_restriction", known)]
    result = run(signals, catalog, D0)
    assert result.alerts == []
    # The same signal does raise an alert once the clock reaches the day it became known.
    later = run(signals, catalog, known + dt.timedelta(days=1))
    assert later.alerts and min(a.sent.date() for a in later.alerts) == known


def test_watchlist_weighs_by_dependence(catalog: Catalog) -> None:
    # a price-like global signal on urea in Jan 2022, when Korea's 97.6 % dependence on China
    # for industrial urea was public (shipped prior, known from 4 Nov 2021)
    day = dt.date(2022, 1, 10)
    urea = Signal(
        kind="price_anomaly",
        type="price_anomaly",
        ref="p",
        group="nitrogen_fertilisers",
        hs=("310210",),
        supplier=None,
        observed=day,
        known=day,
        strength=1.0,
        summary="urea spike",
    )
    # Two price series (two witnesses), or the unit would wait at attention for a second.
    urea2 = urea.model_copy(update={"ref": "p2", "witness": "price:urea-2"})
    result = run([urea, urea2], catalog, day + dt.timedelta(days=5), watch=("KR", "JP"), start=day)
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


def test_a_watchers_view_opens_only_when_its_figure_is_public(catalog: Catalog) -> None:
    """The US's gallium dependence (USGS MCS 2026) was published on 28 Feb 2026: a replay
    must not open a US view of the Oct 2025 controls from a figure nobody had then."""
    known = load_priors().importer_dependence["US"]["gallium_germanium"]["CN"][0].known
    assert known == dt.date(2026, 2, 28)
    first = [sig(f"ga{i}", "export_restriction", D0, group="gallium_germanium") for i in range(2)]
    later = [
        sig(f"gb{i}", "export_restriction", dt.date(2026, 3, 5), group="gallium_germanium")
        for i in range(2)
    ]
    result = run([*first, *later], catalog, dt.date(2026, 3, 31), watch=("US",))
    us = result.daily[UnitKey("gallium_germanium", None, "US")]
    assert all(level == "normal" for day, _, level in us if day < known)
    assert any(level != "normal" for day, _, level in us if day >= dt.date(2026, 3, 5))
    world = result.daily[UnitKey("gallium_germanium", "CN")]
    assert any(level != "normal" for day, _, level in world if day < known)
    # Before any figure of its own is public, a replay ending then opens no US view at all.
    early = run(first, catalog, dt.date(2025, 12, 31), watch=("US",))
    assert UnitKey("gallium_germanium", None, "US") not in early.daily


def test_a_measure_aimed_at_a_watcher_is_heard_once_in_its_view(catalog: Catalog) -> None:
    """China's ban on antimony to the US: the world signal and its copy aimed at the US
    (inputs.AIMED_SUFFIX) reach the US view once, and open it although the US has no
    antimony figure public yet (Dec 2024)."""
    from ews.risk.inputs import AIMED_SUFFIX

    day = dt.date(2024, 12, 3)
    world = [
        sig(f"c{i}:antimony:o{i}", "export_restriction", day, group="antimony") for i in (1, 2)
    ]
    aimed = [
        s.model_copy(update={"ref": f"{s.ref}{AIMED_SUFFIX}US", "importer": "US"}) for s in world
    ]
    both = run([*world, *aimed], catalog, day + dt.timedelta(days=3), watch=("US",), start=day)
    us = both.daily[UnitKey("antimony", None, "US")]
    alone = run(aimed, catalog, day + dt.timedelta(days=3), watch=("US",), start=day)
    assert us == alone.daily[UnitKey("antimony", None, "US")]  # not counted twice
    assert any(level in ("caution", "alert", "serious") for _, _, level in us)
