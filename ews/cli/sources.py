"""``ews sources list|add|remove|enable|disable|status|raw``: the live sources a node polls.

Every command is a few lines over ``ews.sources.live`` (the registry, its status read side and
the raw response store); ``ews run`` (``ews.cli.run``) polls them.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from ews.cli.common import StoreOpt, err, handles_errors, open_context, out
from ews.errors import EwsError
from ews.settings import get_settings

FormatOpt = Annotated[str, typer.Option("--format", metavar="[table|json]", help="table or json.")]


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise EwsError(f"unknown format {fmt!r}; use table or json")


@handles_errors
def sources_list(
    readers: Annotated[
        bool, typer.Option("--readers", help="Also list the file readers (ews ingest).")
    ] = True,
    defaults: Annotated[
        bool, typer.Option("--defaults", help="List the shipped default sources instead.")
    ] = False,
    fmt: FormatOpt = "table",
    store: StoreOpt = None,
) -> None:
    """The live sources this node polls, and the file formats it reads."""
    from ews.sources.live.registry import default_sources, format_every, list_sources
    from ews.sources.registry import load_specs

    _check_format(fmt)
    if defaults:
        live = list(default_sources())
    else:
        with open_context(store) as ctx:
            live = list_sources(ctx.store)
    if fmt == "json":
        rows = [
            {
                "id": s.id,
                "kind": s.kind,
                "url": s.url,
                "lang": s.lang,
                "country": s.country,
                "official": s.official,
                "enabled": s.enabled,
                "every": format_every(s.every_seconds),
                "params": s.params,
                "why": s.why,
                "lag": s.lag,
            }
            for s in live
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if readers and not defaults:
        table = Table(title="file readers (ews ingest)")
        for col in ("id", "kind", "format", "licence", "name"):
            table.add_column(col)
        for spec in load_specs().values():
            table.add_row(spec.id, spec.kind, spec.format, spec.licence, spec.name)
        out.print(table)
    title = "shipped default sources" if defaults else "live sources (ews run)"
    table = Table(title=f"{title}: {len(live)}")
    for col in ("id", "kind", "lang", "every", "on", "url", "why"):
        table.add_column(col, overflow="fold")
    for s in live:
        table.add_row(
            s.id,
            s.kind,
            s.lang or "",
            format_every(s.every_seconds),
            "yes" if s.enabled else "no",
            s.url,
            s.why or "",
        )
    out.print(table)
    if not live and not defaults:
        out.print(
            "No live sources yet: add one with `ews sources add ID URL --kind rss`, or the "
            "shipped list with `ews sources add --defaults`.",
            highlight=False,
        )


@handles_errors
def sources_add(
    source_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="A name: a-z, 0-9, . _ -")
    ] = None,
    url: Annotated[str | None, typer.Argument(help="The feed, page or API address.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="rss, atom, html-list, gdelt, federal-register, comtrade, pinksheet, portwatch."
        ),
    ] = None,
    lang: Annotated[str | None, typer.Option(help="Language of its text: en ko ja zh vi.")] = None,
    every: Annotated[str, typer.Option(help="Poll interval: 15m, 1h, 1d (at least 15s).")] = "1h",
    country: Annotated[str | None, typer.Option(help="Publisher's country (ISO alpha-2).")] = None,
    official: Annotated[bool, typer.Option(help="A government or agency source.")] = False,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="A kind's parameter as key=value (repeatable), e.g. "
            "link_pattern=/article/, max_follow=20.",
        ),
    ] = None,
    why: Annotated[str | None, typer.Option(help="Why this source is watched.")] = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Add it without polling it.")
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a source of this id.")
    ] = False,
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Add the shipped default sources (all, or --lang).")
    ] = False,
    store: StoreOpt = None,
) -> None:
    """Add a live source (or the shipped defaults); `ews run` polls it from its next cycle."""
    from dataclasses import replace as copy

    from ews.sources.live.registry import LiveSource, add_source, default_sources, parse_every

    if defaults:
        if source_id or url:
            raise EwsError("--defaults takes no ID or URL")
        chosen = [s for s in default_sources() if lang is None or s.lang == lang]
        added = 0
        with open_context(store) as ctx:
            for default in chosen:
                s = copy(default, enabled=not disabled)
                try:
                    added += add_source(ctx.store, s, actor="cli", replace=replace)
                except EwsError as exc:
                    err.print(f"{s.id}: {exc}", highlight=False, markup=False)
        out.print(f"{added} of {len(chosen)} default sources added", highlight=False)
        return
    if not source_id or not url or not kind:
        raise EwsError("give ID, URL and --kind (or --defaults)")
    params: dict[str, object] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise EwsError(f"--param {item!r}: write key=value")
        params[key.strip()] = int(value) if value.strip().isdigit() else value
    source = LiveSource(
        id=source_id,
        kind=kind,
        url=url,
        every_seconds=parse_every(every),
        lang=lang,
        country=country.upper() if country else None,
        enabled=not disabled,
        official=official,
        params=params,
        why=why,
    )
    if kind == "html-list" and "link_pattern" in params:
        import re

        try:
            re.compile(str(params["link_pattern"]))
        except re.error as exc:
            raise EwsError(f"link_pattern is not a regular expression: {exc}") from None
    with open_context(store) as ctx:
        changed = add_source(ctx.store, source, actor="cli", replace=replace)
    out.print(
        f"{'added' if changed else 'unchanged'}: {source.id} ({source.kind}, every {every})",
        highlight=False,
    )


@handles_errors
def sources_remove(
    source_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Sources to remove.")],
    store: StoreOpt = None,
) -> None:
    """Stop polling sources; what they brought (documents, observations, raw bytes) stays."""
    from ews.sources.live.registry import remove_source

    with open_context(store) as ctx:
        for sid in source_ids:
            remove_source(ctx.store, sid, actor="cli")
            out.print(f"removed: {sid}", highlight=False)


def _set_enabled(source_ids: list[str], enabled: bool, store: str | None) -> None:
    from ews.sources.live.registry import set_enabled

    with open_context(store) as ctx:
        for sid in source_ids:
            set_enabled(ctx.store, sid, enabled, actor="cli")
            out.print(f"{'enabled' if enabled else 'disabled'}: {sid}", highlight=False)


@handles_errors
def sources_enable(
    source_ids: Annotated[list[str], typer.Argument(metavar="ID...")], store: StoreOpt = None
) -> None:
    """Poll these sources again."""
    _set_enabled(source_ids, True, store)


@handles_errors
def sources_disable(
    source_ids: Annotated[list[str], typer.Argument(metavar="ID...")], store: StoreOpt = None
) -> None:
    """Stop polling these sources for now, keeping their state."""
    _set_enabled(source_ids, False, store)


@handles_errors
def sources_status(fmt: FormatOpt = "table", store: StoreOpt = None) -> None:
    """Each source's health: last success and error, items, publication lag, next poll."""
    from ews.sources.live.status import lag_text, source_statuses

    _check_format(fmt)
    with open_context(store) as ctx:
        rows = source_statuses(
            ctx.store, now=dt.datetime.now(dt.UTC), stale_after=get_settings().source_stale_after
        )
    if fmt == "json":
        sys.stdout.write(
            json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2) + "\n"
        )
        return
    table = Table(title=f"live sources: {len(rows)}")
    for col in ("id", "state", "last success", "items", "lag", "next poll", "note"):
        table.add_column(col, overflow="fold")
    style = {"ok": "green", "stale": "bold red", "failing": "red", "never": "yellow"}
    for r in rows:
        table.add_row(
            r.id,
            f"[{style.get(r.state, '')}]{r.state}[/]" if r.state in style else r.state,
            f"{r.last_success:%Y-%m-%d %H:%M}" if r.last_success else "never",
            f"{r.items_last} / {r.items_total}",
            lag_text(r.lag_seconds),
            f"{r.next_poll:%Y-%m-%d %H:%M}" if r.next_poll else "now",
            r.note,
        )
    out.print(table)
    stale = [r.id for r in rows if r.stale]
    if stale:
        err.print(f"warning: {len(stale)} stale sources: {', '.join(stale)}", highlight=False)


@handles_errors
def sources_raw(
    sha256: Annotated[
        str, typer.Argument(help="The hash a document's provenance or the fetch log names.")
    ],
) -> None:
    """Write the raw bytes a source returned (kept by their SHA-256) to standard output."""
    from ews.sources.live.raw import RawStore, raw_dir_for

    body = RawStore(raw_dir_for()).get(sha256.strip().lower())
    sys.stdout.buffer.write(body)
