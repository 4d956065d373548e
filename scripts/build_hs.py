"""Regenerate ``ews/catalog/data/hs2022.csv`` from the HS 2022 nomenclature.

Source: WCO Harmonized System 2022 via github datasets/harmonized-system (ODC-PDDL).
Usage: python scripts/build_hs.py [path/to/harmonized-system.csv]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "codes" / "harmonized-system.csv"
OUTPUT = ROOT / "ews" / "catalog" / "data" / "hs2022.csv"


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_INPUT
    with source.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        code = row["hscode"].strip()
        level = int(row["level"])
        if code == "TOTAL":  # the file's root row, not a code
            continue
        if not code.isdigit() or len(code) != level:
            raise SystemExit(f"{source}: unexpected code {code!r} at level {level}")
        parent = row["parent"].strip()
        out.append(
            (
                code,
                level,
                "" if parent == "TOTAL" else parent,
                row["section"].strip(),
                " ".join(row["description"].split()),
            )
        )
    codes = {c for c, *_ in out}
    if len(codes) != len(out):
        raise SystemExit(f"{source}: duplicate HS codes")
    with OUTPUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["hs", "level", "parent", "section", "description"])
        writer.writerows(sorted(out))
    print(f"wrote {len(out)} codes to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
