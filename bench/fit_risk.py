"""Fit the risk levels on the episodes before 2022, then report them on the later ones.

Run by hand on a backtest store that `ews backtest` has prepared (it ingests the shared data
and the announcement texts; this script only replays):

    .venv/bin/ews backtest --store bt.duckdb --with-news bench/announcements.jsonl
    .venv/bin/python bench/fit_risk.py --store bt.duckdb

The fit replays 2017-01-01 to 2021-12-31 only (no signal known later is seen) for every
combination of the grid below and scores each on the fit episodes (announced before 2022):

    objective = episodes with caution within a day of the announcement
                - PENALTY x unmatched runs at caution or above (2017-2021)

Ties go to the combination nearest the shipped config in the accuracy knobs (a knob the fit
set cannot tell apart keeps its shipped value), then to the one whose levels change least
often: the hold time (`hysteresis.min_days`) is chosen to cut flapping at no loss. The chosen
combination is then replayed on the whole period and reported on the later episodes, which the
fit never saw.
A figure printed here is what goes into docs/risk.md, with this command beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
import time
from typing import Any

from ews.backtest.replay import FIT_BEFORE, Episode, EpisodeResult, evaluate, load_episodes
from ews.context import Context
from ews.risk.assess import ReplayResult, StructureBook, replay
from ews.risk.config import RiskConfig, load_config, load_priors
from ews.risk.run import collect_signals
from ews.settings import Settings

PENALTY = 0.25
"""Four unmatched runs weigh as one episode caught late."""

HOLD_KNOBS = frozenset({"hysteresis.min_days"})
"""Knobs that set how long a level holds, chosen for less flapping rather than accuracy."""

GRID: dict[str, tuple[Any, ...]] = {
    "thresholds.caution": (1.0, 1.2, 1.4),
    "corroboration.min_voices": (1, 2),
    "half_life_days.event": (14, 21, 35),
    "standing.floor": (0.25, 0.35, 0.45),
    "hysteresis.min_days": (7, 14, 28),
}


def variant(base: RiskConfig, choice: dict[str, Any]) -> RiskConfig:
    data = base.model_dump()
    for path, value in choice.items():
        head, key = path.split(".")
        data[head][key] = value
    return RiskConfig.model_validate(data)


def on_time(results: list[EpisodeResult]) -> int:
    return sum(
        1
        for r in results
        if r.episode.announced is not None
        and r.lead_days_from_announcement is not None
        and r.lead_days_from_announcement >= -1
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a store `ews backtest` has prepared")
    args = parser.parse_args()
    base = load_config()
    episodes = load_episodes()
    fit_eps: list[Episode] = [e for e in episodes if e.split == "fit"]
    fit_end = FIT_BEFORE - dt.timedelta(days=1)
    start = dt.date(2017, 1, 1)
    today = dt.date.today()
    settings = Settings(store=args.store, env="test")
    with Context.open(settings, store=args.store) as ctx:
        every = collect_signals(ctx, base, today=today).signals
        catalog = ctx.catalog
    structures = StructureBook(base, load_priors())
    names = list(GRID)
    combos = list(itertools.product(*GRID.values()))
    shipped = tuple(_get(base, name) for name in names)
    known_in_fit = [s for s in every if s.known <= fit_end]
    rows = []
    began = time.monotonic()
    for n, combo in enumerate(combos, start=1):
        config = variant(base, dict(zip(names, combo, strict=True)))
        result = replay(
            known_in_fit,
            start=start,
            end=fit_end,
            config=config,
            structures=structures,
            catalog=catalog,
            node="fit",
        )
        found, alarms = evaluate(result, fit_eps, catalog)
        caught, runs = on_time(found), len(alarms)
        distance = sum(
            a != b
            for name, a, b in zip(names, combo, shipped, strict=True)
            if name not in HOLD_KNOBS
        )
        flips = changes(result)
        rows.append((caught - PENALTY * runs, -distance, -flips, combo, caught, runs, flips))
        elapsed = time.monotonic() - began
        sys.stderr.write(f"\r{n}/{len(combos)} combinations, {elapsed:.0f} s")
    sys.stderr.write("\n")
    rows.sort(reverse=True)
    announced = sum(1 for e in fit_eps if e.announced is not None)
    print(f"fit: {len(fit_eps)} episodes before {FIT_BEFORE} ({announced} announced)")
    print("objective  caught  runs  level changes  " + "  ".join(names))
    for objective, _, _, combo, caught, runs, flips in rows[:8]:
        print(
            f"{objective:9.2f}  {caught:6d}  {runs:4d}  {flips:13d}  " + "  ".join(map(str, combo))
        )
    tied = sum(1 for r in rows if r[0] == rows[0][0])
    print(f"{tied} of {len(rows)} combinations reach the best objective ({rows[0][0]:.2f})")
    best = dict(zip(names, rows[0][3], strict=True))
    shipped_row = next(r for r in rows if r[3] == shipped)
    print(
        f"shipped: {dict(zip(names, shipped, strict=True))} objective {shipped_row[0]:.2f}, "
        f"{shipped_row[6]} level changes"
    )
    print(f"chosen:  {best}")
    config = variant(base, best)
    result = replay(
        every,
        start=start,
        end=today,
        config=config,
        structures=structures,
        catalog=catalog,
        node="report",
    )
    found, alarms = evaluate(result, episodes, catalog)
    print(f"level changes over the whole replay: {changes(result)}")
    for split in ("fit", "report"):
        mine = [r for r in found if r.episode.split == split]
        unmatched = [a for a in alarms if (a.start < FIT_BEFORE) == (split == "fit")]
        print(
            f"{split}: caution within a day of the announcement on {on_time(mine)} of "
            f"{sum(1 for r in mine if r.episode.announced is not None)} announced episodes; "
            f"unmatched runs at caution or above: {len(unmatched)}"
        )
    return 0


def changes(result: ReplayResult) -> int:
    """Level changes over every unit and day: what a partner receives as updates."""
    return sum(
        1
        for rows in result.daily.values()
        for before, after in itertools.pairwise(rows)
        if before[2] != after[2]
    )


def _get(config: RiskConfig, path: str) -> Any:
    head, key = path.split(".")
    part = getattr(config, head)
    return part[key] if isinstance(part, dict) else getattr(part, key)


if __name__ == "__main__":
    sys.exit(main())
