"""A loopback HTTP server that answers as recorded: each path has a queue of answers (status,
body, headers, delay), honours If-None-Match against the answer's ETag, and records every
request it saw (path, headers) for the tests to check."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    repeat: bool = True  # the last answer of a path repeats


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float


class Loopback:
    def __init__(self) -> None:
        self.routes: dict[str, list[Answer]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, *answers: Answer) -> str:
        with self._lock:
            self.routes[path] = list(answers)
        return self.url(path)

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def _next(self, path: str) -> Answer | None:
        """The answer of the path with its query (exact), else of the path alone."""
        with self._lock:
            queue = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
            if not queue:
                return None
            return queue[0] if len(queue) == 1 and queue[0].repeat else queue.pop(0)


def _handler(loop: Loopback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with loop._lock:
                loop.seen.append(Seen(self.path, dict(self.headers.items()), time.monotonic()))
            answer = loop._next(self.path)
            if answer is None:
                self._send(404, b"not found", {})
                return
            if answer.delay:
                time.sleep(answer.delay)
            etag = answer.headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag and answer.status == 200:
                self._send(304, b"", {"ETag": etag})
                return
            self._send(answer.status, answer.body, answer.headers)

        def _send(self, status: int, body: bytes, headers: dict[str, Any]) -> None:
            try:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, str(v))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def loopback() -> Iterator[Loopback]:
    loop = Loopback()
    loop.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(loop))
    loop.server.daemon_threads = True
    thread = threading.Thread(target=loop.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.server.shutdown()
        loop.server.server_close()
