"""Coverage-guided fuzzing of every parser with atheris (libFuzzer), run by hand.

    .venv/bin/python bench/fuzz.py TARGET -runs=200000 -rss_limit_mb=2048 -timeout=10
    .venv/bin/python bench/fuzz.py all -runs=20000     # every target, one after the other

Targets: cap, feed, html, csv, trade, events, jsonl, message. A target passes bytes to a
parser; anything but a result or an InputError (a ``Rejected`` is one) is a crash, and
libFuzzer's ``-rss_limit_mb`` and ``-timeout`` turn memory blow-ups and hangs into crashes
too. The unit tests (tests/reliability/test_fuzz.py) run the same parsers under Hypothesis.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from ews.alerts import cap
    from ews.alerts.signing import generate_key, open_message
    from ews.catalog import load_catalog
    from ews.errors import InputError
    from ews.sources.files import open_input, read_csv
    from ews.sources.news import documents_from_lines, parse_feed, read_html
    from ews.sources.registry import ReadContext, get_spec
    from ews.text.events_file import read_events

CATALOG = load_catalog()
TMP = Path(tempfile.mkdtemp(prefix="ews-fuzz-"))
KEY = generate_key()
NOW = dt.datetime(2026, 1, 6, 9, tzinfo=dt.UTC)


def _file(data: bytes, name: str) -> Path:
    path = TMP / name
    path.write_bytes(data or b"\n")
    return path


def _ctx(spec: str, path: Path) -> ReadContext:
    return ReadContext(
        spec=get_spec(spec), catalog=CATALOG, file=open_input(path, max_bytes=1 << 24)
    )


def t_cap(data: bytes) -> None:
    cap.decode(data)


def t_feed(data: bytes) -> None:
    parse_feed(data, source_id="news-feed", file_name="f.xml", file_sha256="0" * 64, skipped={})


def t_html(data: bytes) -> None:
    list(read_html(_ctx("news-html", _file(data, "p.html"))))


def t_csv(data: bytes) -> None:
    file = open_input(_file(data, "t.csv"), max_bytes=1 << 24)
    _, rows = read_csv(file)
    for _ in rows:
        pass


def t_trade(data: bytes) -> None:
    from ews.sources.ingest import detect_trade_source

    path = _file(data, "china-exports-hs6.csv")
    file = open_input(path, max_bytes=1 << 24)
    spec = detect_trade_source(file)
    list(spec.read_function()(ReadContext(spec=spec, catalog=CATALOG, file=file)))


def t_events(data: bytes) -> None:
    read_events(_file(data, "e.jsonl"), CATALOG, max_bytes=1 << 24)


def t_jsonl(data: bytes) -> None:
    ctx = _ctx("news-jsonl", _file(b"x", "n.jsonl"))
    list(documents_from_lines(enumerate(data.split(b"\n"), start=1), ctx))


def t_message(data: bytes) -> None:
    open_message(data, me="US", key_of={"KR": KEY.public_key()}.get, now=NOW)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "cap": t_cap,
    "feed": t_feed,
    "html": t_html,
    "csv": t_csv,
    "trade": t_trade,
    "events": t_events,
    "jsonl": t_jsonl,
    "message": t_message,
}


def main() -> None:
    name, libfuzzer_args = sys.argv[1], sys.argv[2:]
    if name == "all":
        for target in TARGETS:
            print(f"== {target}", flush=True)
            subprocess.run([sys.executable, __file__, target, *libfuzzer_args], check=True)
        return
    target = TARGETS[name]

    def one(data: bytes) -> None:
        with contextlib.suppress(InputError):
            target(data)

    atheris.Setup([sys.argv[0], *libfuzzer_args], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
