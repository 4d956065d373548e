"""Property tests over every parser: any input is read or refused with a clear error.

"Clear" means an :class:`~ews.errors.InputError` (a ``Rejected`` for signed messages, which is
one) or a 4xx answer over HTTP: never another exception, never a 500. A refused file leaves
the store unchanged. Inputs are mutations of real or bundled files, so the examples reach
deep into each parser instead of failing at its first byte. ``bench/fuzz.py`` runs the same
targets under atheris (coverage-guided, millions of inputs) by hand.

Already covered elsewhere, and not repeated here: arbitrary bytes and mutations into the CAP
decoder (tests/alerts/test_cap.py), arbitrary JSON lines into the news reader
(tests/text/test_sources.py), ``read_csv`` and the number/month parsers
(tests/sources/test_parsers.py).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ews.alerts.signing import Rejected, generate_key, open_message, seal
from ews.api.node import create_app as create_node_app
from ews.catalog import Catalog
from ews.catalog.sync import sync_catalog
from ews.errors import InputError
from ews.sources.files import open_input
from ews.sources.ingest import ingest_file
from ews.sources.news import parse_feed, read_html
from ews.sources.registry import ReadContext, get_spec
from ews.sources.sample import sample_files
from ews.store import Store
from ews.text.events_file import read_events
from tests.alerts.test_cap import sample as sample_alert
from tests.federation.helpers import alert, link, make_node
from tests.sources.test_trade import _ct, comtrade_csv

FIXTURES = Path(__file__).parent.parent / "text" / "fixtures"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TABLES = ("price_observations", "trade_observations", "ingested_files", "audit_log")


def _bundled(name: str) -> bytes:
    return next(p for _, p in sample_files() if p.name == name).read_bytes()


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes overwritten, cut out, or repeated, or the end cut off."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        op = draw(st.sampled_from(["set", "cut", "dup", "truncate"]))
        if op == "set":
            out[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del out[i : i + draw(st.integers(1, 64))]
        elif op == "dup":
            out[i:i] = out[i : i + draw(st.integers(1, 64))]
        else:
            del out[i:]
    return bytes(out) or b"\x00"


CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "-1", "nan", "inf", "1e309", "0x10", "1,0", "2023M13", "999999", "…"]),
)


@st.composite
def cell_mutations(draw: st.DrawFn, text: str) -> str:
    """A CSV with some cells replaced by odd values, rows dropped or repeated."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        cells = lines[i].split(",")
        op = draw(st.sampled_from(["cell", "drop", "repeat", "extra"]))
        if op == "cell":
            j = draw(st.integers(0, len(cells) - 1))
            cells[j] = draw(CELL).replace("\n", " ")
            lines[i] = ",".join(cells)
        elif op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[i])
        else:
            lines[i] += "," + draw(CELL).replace("\n", " ")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Iterator[Store]:
    store = Store(str(tmp_path_factory.mktemp("fuzz") / "fuzz.duckdb"))
    sync_catalog(store, catalog)
    yield store
    store.close()


def _counts(store: Store) -> dict[str, int]:
    return {t: int(store.scalar(f"SELECT count(*) FROM {t}")) for t in TABLES}


def _ingest_or_refuse(
    store: Store, catalog: Catalog, path: Path, kind: str, source: str | None = None
) -> bool:
    """True when ingested; refusals must be InputErrors naming the file, store untouched."""
    before = _counts(store)
    try:
        ingest_file(store, catalog, path, kind=kind, source_id=source)
    except InputError as exc:
        assert exc.file is not None and Path(exc.file).name == path.name, exc
        assert exc.message
        assert _counts(store) == before, "a refused file changed the store"
        return False
    return True


# -- trade CSV ------------------------------------------------------------------------------------
@FUZZ
@given(st.data())
def test_china_exports_csv_mutations(
    tmp_path: Path, catalog: Catalog, fuzz_store: Store, data: st.DataObject
) -> None:
    good = _bundled("china-exports-hs6.csv")
    mutated = (
        data.draw(cell_mutations(good.decode()), "cells").encode()
        if data.draw(st.booleans(), "cells or bytes")
        else data.draw(byte_mutations(good), "bytes")
    )
    path = tmp_path / "china-exports-hs6.csv"
    path.write_bytes(mutated)
    _ingest_or_refuse(fuzz_store, catalog, path, "trade")


COMTRADE_VALUES = {
    "freqCode": st.sampled_from(["M", "A", "Q", "", "m"]),
    "period": st.sampled_from(["202308", "2023", "2023-08", "202313", "", "abc"]),
    "reporterISO": st.sampled_from(["CHN", "KOR", "W00", "XXX", "", "chn"]),
    "partnerISO": st.sampled_from(["KOR", "W00", "JPN", "ZZZ", ""]),
    "partnerCode": st.sampled_from(["410", "0", "", "x"]),
    "flowCode": st.sampled_from(["X", "M", "RX", "", "?"]),
    "cmdCode": st.sampled_from(["811292", "2805", "TOTAL", "28", "999999", ""]),
    "customsCode": st.sampled_from(["C00", "C01", ""]),
    "motCode": st.sampled_from(["0", "1000", ""]),
    "partner2Code": st.sampled_from(["0", "156", ""]),
    "netWgt": CELL,
    "primaryValue": CELL,
}


@FUZZ
@given(st.lists(st.fixed_dictionaries(COMTRADE_VALUES), min_size=1, max_size=6))
def test_comtrade_csv_generated_rows(
    tmp_path: Path, catalog: Catalog, fuzz_store: Store, rows: list[dict[str, str]]
) -> None:
    path = tmp_path / "comtrade.csv"
    path.write_text(
        comtrade_csv([_ct(**{k: v.replace("\n", " ") for k, v in r.items()}) for r in rows])
    )
    if _ingest_or_refuse(fuzz_store, catalog, path, "trade", "comtrade"):
        stored = fuzz_store.scalar(
            "SELECT count(*) FROM trade_observations WHERE source_id = 'comtrade' "
            "AND (value_usd < 0 OR isnan(value_usd) OR isinf(value_usd))"
        )
        assert stored == 0, "an impossible value was stored"


# -- XLSX ----------------------------------------------------------------------------------------
@settings(FUZZ, max_examples=40)
@given(st.data())
def test_pinksheet_xlsx_byte_mutations(
    tmp_path: Path, catalog: Catalog, fuzz_store: Store, data: st.DataObject
) -> None:
    good = _bundled("pinksheet-2000.xlsx")
    # Mutations anywhere in the zip container: headers, directory, compressed sheets.
    path = tmp_path / "pinksheet.xlsx"
    path.write_bytes(data.draw(byte_mutations(good)))
    _ingest_or_refuse(fuzz_store, catalog, path, "prices")


# -- RSS / Atom / HTML ----------------------------------------------------------------------------
@settings(FUZZ, max_examples=150)
@given(st.data())
def test_feed_mutations(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["synthetic-rss.xml", "synthetic-atom.xml"]))
    raw = data.draw(byte_mutations((FIXTURES / name).read_bytes()))
    try:
        docs = parse_feed(
            raw, source_id="news-feed", file_name=name, file_sha256="0" * 64, skipped={}
        )
    except InputError as exc:
        assert exc.message.startswith("not an RSS or Atom feed")
        return
    for doc in docs:
        assert doc.title or doc.text
        assert doc.published is None or doc.published.tzinfo is not None


@settings(FUZZ, max_examples=40)
@given(st.data())
def test_html_mutations(tmp_path: Path, catalog: Catalog, data: st.DataObject) -> None:
    raw = data.draw(byte_mutations((FIXTURES / "synthetic-page.html").read_bytes()))
    path = tmp_path / "page.html"
    path.write_bytes(raw)
    ctx = ReadContext(
        spec=get_spec("news-html"), catalog=catalog, file=open_input(path, max_bytes=1 << 20)
    )
    docs = list(read_html(ctx))  # no exception at all: a bad page is a counted skip
    assert len(docs) + sum(ctx.skipped.values()) == 1


# -- events files ---------------------------------------------------------------------------------
JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(st.data())
def test_events_file_lines(tmp_path: Path, catalog: Catalog, data: st.DataObject) -> None:
    good = _bundled("events-vi.jsonl").decode().splitlines()
    lines = list(good[: data.draw(st.integers(1, 5))])
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        record = json.loads(lines[i])
        field = data.draw(st.sampled_from(sorted(record)))
        record[field] = data.draw(JSONISH)
        lines[i] = json.dumps(record)
    if data.draw(st.booleans()):
        lines.append(data.draw(st.text(max_size=40)).replace("\n", " "))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    try:
        events = read_events(path, catalog, max_bytes=1 << 20)
    except InputError as exc:
        assert exc.row is not None or exc.message
        return
    for event, _ in events:
        assert event.event_id and 0.0 <= event.confidence <= 1.0


# -- signed messages and the federation inbox -----------------------------------------------------
KEY = generate_key()
NOW = dt.datetime(2026, 1, 6, 9, 0, tzinfo=dt.UTC)


def _good_message() -> dict[str, Any]:
    return seal(sample_alert(origin_node="KR"), KEY, sender="KR", recipient="US", now=NOW)


def _mutate_json(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    """Replace one value somewhere in a JSON document by an arbitrary one."""
    if isinstance(value, dict) and value and depth < 4:
        key = data.draw(st.sampled_from(sorted(value)))
        if data.draw(st.integers(0, 4)) == 0:
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: _mutate_json(value[key], data, depth + 1)}
    if isinstance(value, list) and value and depth < 4:
        i = data.draw(st.integers(0, len(value) - 1))
        return [*value[:i], _mutate_json(value[i], data, depth + 1), *value[i + 1 :]]
    return data.draw(JSONISH)


@settings(FUZZ, max_examples=200)
@given(st.data())
def test_signed_message_mutations_are_rejected_cleanly(data: st.DataObject) -> None:
    message = _mutate_json(_good_message(), data)
    raw: bytes | dict[str, Any] = (
        json.dumps(message).encode() if data.draw(st.booleans()) else message
    )
    try:
        opened = open_message(raw, me="US", key_of={"KR": KEY.public_key()}.get, now=NOW)
    except Rejected as exc:
        assert exc.reason
        return
    # Accepted only when the signed content is untouched (a change outside the envelope).
    assert opened.alert == sample_alert(origin_node="KR")


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("inbox")
    kr, us = make_node(tmp, "KR"), make_node(tmp, "US")
    link(kr, us)
    return TestClient(create_node_app(us.node), raise_server_exceptions=False)


@settings(FUZZ, max_examples=80)
@given(
    st.one_of(
        JSONISH.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
    )
)
def test_inbox_answers_any_body_with_a_4xx(inbox: TestClient, body: bytes) -> None:
    answer = inbox.post("/federation/v1/inbox", content=body)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:200])
    assert "error" in answer.json()


@settings(FUZZ, max_examples=40)
@given(st.data())
def test_import_file_refuses_cleanly(tmp_path: Path, data: st.DataObject) -> None:
    from ews.alerts import cap
    from ews.federation.inbox import import_file

    tmp = Path(tempfile.mkdtemp(dir=tmp_path))  # a fresh node for every example
    node = make_node(tmp, "US").node
    good = data.draw(
        st.sampled_from(
            [
                cap.encode(alert("JP", 1, "GREEN")),
                alert("JP", 1, "GREEN").model_dump_json().encode(),
                json.dumps(_good_message()).encode(),
            ]
        )
    )
    path = tmp / "in.file"
    path.write_bytes(data.draw(byte_mutations(good)))
    try:
        import_file(node, path, now=NOW)
    except InputError as exc:  # Rejected is one
        assert exc.message
