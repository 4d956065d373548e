"""Regenerate the demo's bundled sample data (``ews/sample/``) from the real data in shared/.

- ``pinksheet-2000.xlsx``: the World Bank Pink Sheet monthly prices (CC BY 4.0), every series,
  months from 2000M01 on, in the workbook's own layout (header row 5, units row 6).
- ``china-exports-hs6.csv`` and ``china-exports-overview.csv``: China's monthly exports of
  graphite, gallium/germanium, rare earths and polysilicon (UN Comtrade extracts via
  github qennis/ChinaCriticalMineralComtrade), numeric columns only, unchanged.

Usage: python scripts/build_sample.py [path/to/shared/data]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import openpyxl
import python_calamine

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "ews" / "sample"
FIRST_PERIOD = "2000M01"


def build_prices(data: Path) -> None:
    book = python_calamine.CalamineWorkbook.from_path(
        str(data / "prices" / "CMO-Historical-Data-Monthly.xlsx")
    )
    rows = book.get_sheet_by_name("Monthly Prices").to_python(skip_empty_area=False)
    keep = rows[:6] + [r for r in rows[6:] if str(r[0]) >= FIRST_PERIOD]
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Monthly Prices"
    for row in keep:
        ws.append([None if cell == "" else cell for cell in row])
    wb.save(OUT / "pinksheet-2000.xlsx")
    print(f"prices: {len(keep) - 6} months x {len(rows[4]) - 1} columns")


def main(argv: list[str]) -> int:
    data = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data"
    build_prices(data)
    shutil.copyfile(
        data / "trade" / "china-exports-deep_dive_hs6_monthly.csv", OUT / "china-exports-hs6.csv"
    )
    shutil.copyfile(
        data / "trade" / "china-exports-overview_monthly.csv", OUT / "china-exports-overview.csv"
    )
    print("trade: copied the hs6 and overview tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
