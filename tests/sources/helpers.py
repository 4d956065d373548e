"""Builders of bad inputs from good ones: each test breaks one thing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from ews.sources.sample import sample_files


def sample(name: str) -> Path:
    return next(path for _, path in sample_files() if path.name == name)


def edited_workbook(tmp: Path, edit: Any, name: str = "edited.xlsx") -> Path:
    """The bundled Pink Sheet sample with ``edit(worksheet)`` applied, saved under tmp."""
    wb = openpyxl.load_workbook(sample("pinksheet-2000.xlsx"))
    edit(wb["Monthly Prices"])
    out = tmp / name
    wb.save(out)
    return out


def header_index(ws: Any, title: str) -> int:
    for cell in ws[5]:
        if cell.value and str(cell.value).strip().rstrip("*").strip() == title:
            return int(cell.column)
    raise KeyError(title)
