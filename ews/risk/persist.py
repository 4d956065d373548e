"""Storing a replay's results: assessments (derived, replaced per run) and alert versions
(append-only: a version once stored is never rewritten)."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from ews.alerts.repository import save_versions
from ews.catalog import Catalog
from ews.risk.assess import Assessment, ReplayResult
from ews.risk.config import RiskConfig
from ews.risk.lifecycle import representative_hs
from ews.store import Store
from ews.store.db import utcnow


def explanation(a: Assessment, config: RiskConfig) -> list[dict[str, Any]]:
    """Each contribution with its evidence, strongest first (JSON-ready)."""
    out: list[dict[str, Any]] = [
        {
            "kind": "structure",
            "multiplier": round(a.score.structure.multiplier(config), 4),
            "share": a.score.structure.share,
            "basis": a.score.structure.basis,
            "source": a.score.structure.source,
            "known": a.score.structure.known,
        }
    ]
    for c in a.score.contributions:
        s = c.signal
        out.append(
            {
                "kind": s.kind,
                "type": s.type,
                "ref": s.ref,
                "contribution": round(c.weight * c.effective, 4),
                "weight": c.weight,
                "strength_now": round(c.effective, 4),
                "summary": s.summary,
                "known": s.known.isoformat(),
                "lang": s.lang,
                "evidence": s.text,
                "link": s.link,
                "figure": s.figure,
            }
        )
    for flag in a.score.flags:
        out.append({"kind": "flag", "summary": flag})
    return out


def save(
    store: Store, result: ReplayResult, config: RiskConfig, catalog: Catalog, node: str
) -> tuple[int, int]:
    """Replace this node's assessments and add alert versions not stored yet.

    Returns (assessments written, alert versions added)."""
    now = utcnow()
    rows = []
    for a in result.assessments:
        unit = a.unit
        rows.append(
            {
                "assessment_id": "|".join(
                    (unit.group, unit.supplier or "", unit.importer or "", str(a.day))
                ),
                "hs": representative_hs(catalog, unit.group, a.score),
                "supplier": a.supplier,
                "importer": unit.importer,
                "as_of": a.day,
                "score": a.score.value,
                "level": a.level,
                "explanation": json.dumps(explanation(a, config), ensure_ascii=False, default=str),
                "config_version": config.version,
                "created_at": now,
                "item_group": unit.group,
                "structure": a.score.structure.basis,
            }
        )
    with store.transaction():
        # Assessments are derived: each run replaces them all.
        store.replace_all("assessments", pa.Table.from_pylist(rows))
        added = save_versions(store, result.alerts)
        store.audit(
            "risk",
            "assess",
            node,
            {"config": config.version, "assessments": len(rows), "alerts_added": added},
        )
    return len(rows), added
