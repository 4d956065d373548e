"""Episodes and how runs are matched to them, on hand-made replays (no real data needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from ews.alerts.records import Level
from ews.backtest.replay import Episode, evaluate, false_alarms, load_episodes
from ews.catalog import Catalog
from ews.risk.assess import ReplayResult, UnitKey
from ews.risk.config import load_chokepoints

D = dt.date


def days(start: dt.date, levels: list[Level]) -> list[tuple[dt.date, float, Level]]:
    score = {"normal": 0.0, "attention": 0.8, "caution": 1.5, "alert": 2.5, "serious": 4.0}
    return [(start + dt.timedelta(days=i), score[lv], lv) for i, lv in enumerate(levels)]


def episode(**kw: object) -> Episode:
    base: dict[str, object] = {
        "id": "e",
        "title": "t",
        "group": "copper",
        "supplier": "MA",
        "importer": None,
        "announced": D(2025, 4, 24),
        "impact": D(2025, 4, 24),
        "window": (D(2025, 2, 1), D(2025, 10, 31)),
    }
    base.update(kw)
    return Episode(**base)  # type: ignore[arg-type]


def test_the_shipped_episodes_are_sourced_and_well_formed() -> None:
    episodes = load_episodes()
    assert len(episodes) >= 15
    assert len({e.id for e in episodes}) == len(episodes)
    for e in episodes:
        assert e.sources, f"{e.id} has no source"
        assert e.window[0] <= e.onset <= e.window[1], e.id
        assert e.announced is None or e.announced <= e.impact or e.impact_note, e.id
    assert {e.split for e in episodes} == {"fit", "report"}


def test_a_measure_covers_the_other_families_it_names() -> None:
    ep = episode(also=("aluminium",))
    run = (D(2025, 4, 24), D(2025, 5, 17))
    assert ep.covers(UnitKey("aluminium", "MA"), *run)
    assert ep.covers(UnitKey("copper", None, "KR"), *run)  # a watcher's view of the family
    assert not ep.covers(UnitKey("aluminium", "ZA"), *run)  # another supplier
    assert not ep.covers(UnitKey("zinc", "MA"), *run)
    assert not ep.covers(UnitKey("aluminium", "MA"), D(2026, 1, 1), D(2026, 2, 1))  # outside


def test_a_chokepoint_closure_covers_everything_shipped_through_it() -> None:
    ep = episode(group="crude_oil", supplier="SA", chokepoint="hormuz")
    through = load_chokepoints()["hormuz"].through
    run = (D(2025, 5, 1), D(2025, 6, 1))
    for supplier, groups in through.items():
        for group in groups:
            assert ep.covers(UnitKey(group, supplier), *run)
    assert ep.covers(UnitKey("natural_gas", None), *run)  # the family's world unit
    assert not ep.covers(UnitKey("rare_earths", "CN"), *run)


def test_an_unknown_chokepoint_in_the_episode_file_is_refused() -> None:
    from ews.backtest.replay import _chokepoint
    from ews.errors import InputError

    with pytest.raises(InputError, match="unknown chokepoint"):
        _chokepoint("hormoz", "x")


def test_a_supplier_episode_is_seen_on_the_world_unit_too(catalog: Catalog) -> None:
    """A price spike has no supplier: the family's world unit raising caution counts."""
    ep = episode(
        group="natural_gas",
        supplier="RU",
        announced=D(2021, 8, 6),
        impact=D(2021, 8, 6),
        window=(D(2021, 6, 1), D(2022, 12, 31)),
    )
    result = ReplayResult(
        daily={
            UnitKey("natural_gas", "RU"): days(D(2021, 8, 1), ["attention"] * 20),
            UnitKey("natural_gas", None): days(D(2021, 8, 1), ["normal", "normal", "caution"] * 1)
            + days(D(2021, 8, 4), ["caution"] * 10),
        }
    )
    (res,), alarms = evaluate(result, [ep], catalog)
    assert res.first["caution"] == D(2021, 8, 3)
    assert res.lead_days_from_announcement == 3 and res.raised_before_announcement
    assert not alarms


def test_the_other_party_to_a_measure_is_watched_and_matched(catalog: Catalog) -> None:
    """The Dutch order on Nexperia is half of the Nexperia episode (supplier CN, parties NL):
    the Netherlands' run is the episode's, not a false alarm, and counts for its lead."""
    (nexperia,) = [e for e in load_episodes() if e.id == "nexperia-2025"]
    assert nexperia.parties == ("NL",)
    ep = episode(group="chips", supplier="CN", parties=("NL",), announced=D(2025, 10, 12))
    result = ReplayResult(
        daily={
            UnitKey("chips", "NL"): days(D(2025, 10, 13), ["caution"] * 30),
            UnitKey("chips", "DE"): days(D(2025, 10, 13), ["caution"] * 30),
        }
    )
    (res,), alarms = evaluate(result, [ep], catalog)
    assert res.first["caution"] == D(2025, 10, 13)
    assert [a.unit.supplier for a in alarms] == ["DE"]  # a bystander is still unmatched


def test_an_unannounced_crisis_counts_from_its_impact(catalog: Catalog) -> None:
    ep = episode(announced=None, impact=D(2025, 5, 1))
    result = ReplayResult(daily={UnitKey("copper", "MA"): days(D(2025, 5, 3), ["caution"] * 5)})
    (res,), _ = evaluate(result, [ep], catalog)
    assert res.lead_days == -2 and res.lead_days_from_announcement is None
    assert res.as_json()["caution_within_a_day"] is None
    assert ep.split == "report" and ep.onset == D(2025, 5, 1)


def test_unmatched_runs_are_false_alarms_once_per_span() -> None:
    run = days(D(2024, 1, 1), ["caution"] * 5 + ["normal"])
    result = ReplayResult(
        daily={
            UnitKey("zinc", "PE"): run,
            UnitKey("zinc", None, "KR"): run,  # the same run seen by a watcher: listed once
            UnitKey("copper", "MA"): days(D(2025, 3, 1), ["caution"] * 3),  # matched
        }
    )
    alarms = false_alarms(result, [episode()])
    assert [(a.unit, a.start, a.end) for a in alarms] == [
        (UnitKey("zinc", "PE"), D(2024, 1, 1), D(2024, 1, 5))
    ]


def test_a_watchers_episode_sees_the_suppliers_alert_before_its_own_view_opens(
    catalog: Catalog,
) -> None:
    """Korea's urea view opens only when a Korean dependence figure is public (28 Oct 2021);
    before that, China's urea alert is what a Korean analyst sees."""
    ep = episode(
        group="nitrogen_fertilisers",
        supplier="CN",
        importer="KR",
        announced=D(2021, 10, 11),
        impact=D(2021, 11, 3),
        window=(D(2021, 8, 1), D(2022, 3, 31)),
    )
    result = ReplayResult(
        daily={
            UnitKey("nitrogen_fertilisers", "CN"): days(D(2021, 10, 11), ["caution"] * 30),
            UnitKey("nitrogen_fertilisers", None, "KR"): days(D(2021, 10, 28), ["alert"] * 10),
        }
    )
    (res,), _ = evaluate(result, [ep], catalog)
    assert res.first["caution"] == D(2021, 10, 11) and res.first["alert"] == D(2021, 10, 28)
    assert res.lead_days_from_announcement == 0
