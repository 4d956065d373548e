"""``ews items`` and ``ews countries``: what the node knows without a store."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from ews.catalog import load_catalog
from ews.catalog.names import fold
from ews.cli.common import handles_errors, out
from ews.errors import EwsError
from ews.records import NAME_KEYS


@handles_errors
def items_cmd(
    query: Annotated[str, typer.Argument(help="Code prefix or name in any language.")] = "",
    sector: Annotated[str | None, typer.Option(help="Only this sector.")] = None,
    lang: Annotated[str, typer.Option(help="Name column to show besides English.")] = "ko",
    fmt: Annotated[
        str, typer.Option("--format", metavar="[table|json]", help="table or json.")
    ] = "table",
) -> None:
    """List and search critical items (any language, with or without Vietnamese diacritics)."""
    catalog = load_catalog()
    if lang not in NAME_KEYS:
        raise EwsError(f"unknown language {lang!r}; use one of {', '.join(NAME_KEYS)}")
    found = [i for i in catalog.search_items(query) if sector is None or i.sector == sector]
    if fmt == "json":
        rows = [
            {
                "hs": i.hs,
                "group": i.group,
                "sector": i.sector,
                "names": i.names,
                "aliases": {k: list(v) for k, v in i.aliases.items()},
                "note": i.note,
            }
            for i in found
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    if fmt != "table":
        raise EwsError(f"unknown format {fmt!r}; use table or json")
    table = Table(title=f"{len(found)} critical items" + (f" matching {query!r}" if query else ""))
    for col in ("HS", "sector", "group", "English", lang):
        table.add_column(col)
    for i in found:
        table.add_row(i.hs, i.sector, i.group, i.names["en"], i.names[lang])
    out.print(table)
    if not found:
        raise typer.Exit(1)


@handles_errors
def countries_cmd(
    query: Annotated[str, typer.Argument(help="Name in any language, or ISO code.")] = "",
) -> None:
    """List countries, or find one by a name in any of the five languages."""
    catalog = load_catalog()
    q = fold(query)
    code = catalog.country_code(query) if query else None
    rows = [
        c
        for c in catalog.countries.values()
        if not q or c.iso2 == code or any(q in fold(n) for n in (*c.names.values(), *c.aliases))
    ]
    table = Table(title=f"{len(rows)} countries")
    for col in ("ISO", "en", "ko", "ja", "zh", "vi"):
        table.add_column(col)
    for c in sorted(rows, key=lambda c: c.iso2):
        table.add_row(
            c.iso2, c.names["en"], c.names["ko"], c.names["ja"], c.names["zh_hans"], c.names["vi"]
        )
    out.print(table)
    if not rows:
        raise typer.Exit(1)
