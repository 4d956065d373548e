"""What ``ews run`` tells a monitoring system: Prometheus metrics at ``/metrics`` and a health
answer at ``/healthz``, served by a small thread of the daemon (no web framework needed).

``/healthz`` is 200 while the last cycle finished within three run intervals and at least one
source succeeded in it (or none was due); 503 otherwise, with the reasons, so a supervisor or a
load balancer can tell a stuck node from a busy one.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest


@dataclass
class RunMetrics:
    """The daemon's counters and gauges, in a registry of its own."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    every: float = 60.0
    last_cycle_end: float | None = None
    last_cycle_ok: bool = True
    problems: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        r = self.registry
        self.fetch_seconds = Histogram(
            "ews_fetch_seconds",
            "Time of one HTTP request to a live source.",
            ["source"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.fetch_errors = Counter(
            "ews_fetch_errors", "Polls of a source that failed.", ["source"], registry=r
        )
        self.polls = Counter(
            "ews_polls", "Polls of a source, by outcome.", ["source", "outcome"], registry=r
        )
        self.lag = Gauge(
            "ews_source_lag_seconds",
            "Publication to fetch, for the newest new item of the source's last poll.",
            ["source"],
            registry=r,
        )
        self.last_success = Gauge(
            "ews_source_last_success_timestamp_seconds",
            "When the source last answered a poll well.",
            ["source"],
            registry=r,
        )
        self.source_stale = Gauge(
            "ews_source_stale", "1 when the source is stale (docs/live.md).", ["source"], registry=r
        )
        self.documents = Counter(
            "ews_documents", "New documents stored, by source.", ["source"], registry=r
        )
        self.observations = Counter(
            "ews_observations", "Observations new or changed, by source.", ["source"], registry=r
        )
        self.events = Counter("ews_events", "New events extracted.", registry=r)
        self.alerts = Counter("ews_alert_versions", "Alert versions raised or updated.", registry=r)
        self.pushed = Counter(
            "ews_alerts_pushed", "Alert versions delivered to partners.", registry=r
        )
        self.cycles = Counter("ews_cycles", "Run cycles, by outcome.", ["outcome"], registry=r)
        self.cycle_seconds = Histogram(
            "ews_cycle_seconds",
            "Time of one run cycle (poll, store, extract, assess, share).",
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
            registry=r,
        )
        self.last_cycle = Gauge(
            "ews_last_cycle_timestamp_seconds", "When the last run cycle ended.", registry=r
        )

    def cycle_done(self, ok: bool, problems: list[str], stale: list[str]) -> None:
        with self._lock:
            self.last_cycle_end = time.time()
            self.last_cycle_ok = ok
            self.problems = problems[:20]
            self.stale = stale[:50]
        self.last_cycle.set(self.last_cycle_end)
        self.cycles.labels("ok" if ok else "failed").inc()

    def health(self) -> tuple[int, dict[str, Any]]:
        """HTTP status and the body of ``/healthz``."""
        with self._lock:
            now = time.time()
            body: dict[str, Any] = {
                "last_cycle_end": self.last_cycle_end,
                "last_cycle_ok": self.last_cycle_ok,
                "problems": list(self.problems),
                "stale_sources": list(self.stale),
            }
            if self.last_cycle_end is None:
                body["status"], code = "starting", 503
            elif now - self.last_cycle_end > 3 * self.every + 60:
                body["status"], code = "stuck", 503
                body["problems"].insert(0, f"no cycle ended for {now - self.last_cycle_end:.0f} s")
            elif not self.last_cycle_ok:
                body["status"], code = "failing", 503
            else:
                body["status"] = "degraded" if self.stale else "ok"
                code = 200
        return code, body


class _Handler(BaseHTTPRequestHandler):
    metrics: RunMetrics

    def do_GET(self) -> None:  # the standard library's name
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            body = generate_latest(self.metrics.registry)
            self._answer(200, CONTENT_TYPE_LATEST, body)
        elif path in ("/healthz", "/health"):
            code, data = self.metrics.health()
            self._answer(code, "application/json", json.dumps(data).encode("utf-8"))
        else:
            self._answer(404, "text/plain; charset=utf-8", b"not found: /metrics or /healthz\n")

    def _answer(self, code: int, media: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # scrapes every 15 s would drown the run's own log


def serve_metrics(metrics: RunMetrics, host: str, port: int) -> ThreadingHTTPServer:
    """Serve ``/metrics`` and ``/healthz`` on a daemon thread; returns the server (its
    ``server_address`` holds the port when 0 was asked)."""
    handler = type("Handler", (_Handler,), {"metrics": metrics})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="ews-metrics", daemon=True).start()
    return server
