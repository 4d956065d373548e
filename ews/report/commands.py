"""``ews report``: the weekly brief as a self-contained HTML file or a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer


def register(app: typer.Typer) -> None:
    from ews.cli import _open, err, handles_errors, out

    @app.command("report")
    @handles_errors
    def report_cmd(
        week: Annotated[str, typer.Option(help="ISO week, e.g. 2025-W41.")],
        fmt: Annotated[
            Literal["html", "pdf"], typer.Option("--format", help="html or pdf.")
        ] = "html",
        output: Annotated[
            Path | None,
            typer.Option("--out", "-o", help="File to write (default: ews-brief-WEEK.FORMAT)."),
        ] = None,
        include_red: Annotated[
            bool, typer.Option(help="Also carry TLP:RED alerts (the brief is then RED).")
        ] = False,
        store: Annotated[str | None, typer.Option(help="Store location.")] = None,
    ) -> None:
        """Write the week's brief: alerts, their charts and evidence, and the week's events."""
        from ews.report.weekly import build_weekly, render_html, render_pdf

        with _open(store) as ctx, err.status(f"building the brief for {week}…"):
            brief = build_weekly(
                ctx.store,
                ctx.catalog,
                week,
                node_id=ctx.settings.node_id,
                include_red=include_red,
            )
            html = render_html(brief, ctx.catalog)
        target = output or Path(f"ews-brief-{brief.week}.{fmt}")
        if fmt == "pdf":
            with err.status("typesetting the PDF…"):
                payload = render_pdf(html)
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(payload)
        else:
            tmp = target.with_name(target.name + ".part")
            tmp.write_text(html, encoding="utf-8")
        # Written beside and renamed: a reader never sees half a brief.
        tmp.replace(target)
        out.print(
            f"{target}: brief for {brief.week} ({brief.monday} to {brief.sunday}), "
            f"{len(brief.lines)} alerts, {len(brief.events)} events, TLP:{brief.tlp}",
            highlight=False,
        )
