"""Property tests: the parsers either return a value or refuse with an InputError."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ews.errors import InputError
from ews.sources.files import InputFile, parse_month, parse_number, read_csv

FILE = InputFile(path=Path("x.csv"), size=1, sha256="0" * 64)


@given(st.text(max_size=30))
def test_parse_number_never_crashes(text: str) -> None:
    try:
        value = parse_number(text, file=FILE, row=2, field="v", allow_empty=True)
    except InputError as exc:
        assert exc.row == 2 and exc.field == "v"
    else:
        assert value is None or value >= 0


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_parse_number_round_trips(value: float) -> None:
    assert parse_number(repr(value), file=FILE, row=1, field="v") == value


@given(st.text(max_size=12))
def test_parse_month_never_crashes(text: str) -> None:
    try:
        day = parse_month(text, file=FILE, row=3, field="p")
    except InputError as exc:
        assert exc.row == 3
    else:
        assert day.day == 1


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_parse_month_formats_agree(day: dt.date) -> None:
    first = day.replace(day=1)
    forms = [
        first.isoformat(),
        f"{day.year}-{day.month:02d}",
        f"{day.year}{day.month:02d}",
        f"{day.year}M{day.month:02d}",
    ]
    assert {parse_month(f, file=FILE, row=1, field="p") for f in forms} == {first}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(st.binary(max_size=400))
def test_read_csv_on_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data or b"x")
    file = InputFile(path=path, size=len(data), sha256="0" * 64)
    try:
        header, rows = read_csv(file)
        for row in rows:
            assert len(row.values) == len(header)
    except InputError as exc:
        assert exc.file == str(path)


def test_the_header_alone_is_read_from_the_start_of_a_file(tmp_path: Path) -> None:
    """Source detection reads the header only, whole lines of the first 64 KiB: a bad byte
    further on is for the full read to report, with its line."""
    from ews.sources.files import HEADER_BYTES, open_input, read_csv_header

    path = tmp_path / "big.csv"
    rows = "".join(f"{i},ü{i}\n" for i in range(20_000))  # multi-byte text across the cut
    path.write_bytes(("Name,Wert\n" + rows).encode() + b"1,\xff\n")
    assert path.stat().st_size > HEADER_BYTES
    file = open_input(path, max_bytes=10**9)
    assert read_csv_header(file) == ["Name", "Wert"]
    with pytest.raises(InputError, match="not UTF-8") as refused:
        read_csv(file)
    assert refused.value.row == 20_002
