"""``ews run``: the node polls its live sources and warns by itself (``ews.run.cycle``)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from typing import Annotated, Any

import typer

from ews.cli.common import StoreOpt, err, handles_errors, out
from ews.errors import EwsError
from ews.settings import get_settings


class _JsonLog(logging.Formatter):
    """One JSON object per line: what a log shipper (journald, Loki, CloudWatch) indexes."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def _logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        formatter: logging.Formatter = _JsonLog()
        formatter.converter = __import__("time").gmtime
        handler.setFormatter(formatter)
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("ews")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


@handles_errors
def run_cmd(
    once: Annotated[bool, typer.Option("--once", help="One cycle, then exit.")] = False,
    every: Annotated[
        str, typer.Option(help="How often the node wakes to poll due sources: 30s, 1m, 5m.")
    ] = "1m",
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Poll only this source, due or not (repeatable)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Poll every enabled source now.")] = False,
    assess: Annotated[bool, typer.Option(help="Assess and raise alerts after new data.")] = True,
    push: Annotated[bool, typer.Option(help="Push new alert versions to partners.")] = True,
    stream: Annotated[
        str | None, typer.Option(help="Also publish new alert versions to nats or kafka.")
    ] = None,
    stream_url: Annotated[str | None, typer.Option(help="The stream's servers.")] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Serve /metrics and /healthz on this port (daemon only; 0: any)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address for /metrics and /healthz.")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(help="Sources polled at once.", min=1, max=32)] = 4,
    log_format: Annotated[str, typer.Option(help="text or json (one object a line).")] = "text",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    store: StoreOpt = None,
) -> None:
    """Poll due live sources, store, extract, assess, alert and share: once, or as a daemon.

    Safe to kill at any point: a restart continues and nothing is lost or stored twice."""
    from ews.run.cycle import RunOptions, run_cycle, run_forever
    from ews.run.metrics import RunMetrics, serve_metrics

    if log_format not in ("text", "json"):
        raise EwsError(f"unknown log format {log_format!r}; use text or json")
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise EwsError(f"unknown log level {log_level!r}")
    _logging(log_format, log_level)
    settings = get_settings()
    options = RunOptions(
        store=store,
        only=tuple(source or ()),
        force=force,
        assess=assess,
        push=push,
        stream=stream,
        stream_url=stream_url,
        workers=workers,
    )
    metrics = RunMetrics()
    if once:
        report = run_cycle(settings, options, metrics=metrics)
        out.print(report.summary(), highlight=False, markup=False)
        for problem in report.errors:
            err.print(f"warning: {problem}", highlight=False, markup=False)
        if report.polled and report.failed == report.polled:
            raise typer.Exit(1)
        return
    interval = _seconds(every)
    if port is not None:
        server = serve_metrics(metrics, host, port)
        err.print(
            f"metrics: http://{host}:{server.server_address[1]}/metrics and /healthz",
            highlight=False,
        )
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logging.getLogger("ews.run").info("signal %s: stopping after the polls under way", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run_forever(settings, options, every=interval, metrics=metrics, stop=stop)


def _seconds(text: str) -> float:
    import re

    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", text)
    if not found:
        raise EwsError(f"--every {text!r}: write 30s, 1m or 5m")
    value = float(found.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[found.group(2)]
    if value < 1:
        raise EwsError("--every: at least one second")
    return value
