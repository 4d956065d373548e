"""Opening input files safely: size limits, hashing, text decoding and CSV rows with numbers.

Every refusal is an :class:`~ews.errors.InputError` naming the file and, where it applies,
the row and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ews.errors import InputError, SourceShapeError

CHUNK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """A file accepted for reading: its path, size and content hash."""

    path: Path
    size: int
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


def open_input(path: str | Path, *, max_bytes: int) -> InputFile:
    """Check that ``path`` is a readable regular file within the size limit, and hash it."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", file=p)
    if not p.is_file():
        raise InputError("not a regular file", file=p)
    size = p.stat().st_size
    if size == 0:
        raise InputError("file is empty", file=p)
    if size > max_bytes:
        raise InputError(f"file is {size:,} bytes, over the limit of {max_bytes:,}", file=p)
    digest = hashlib.sha256()
    try:
        with p.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=p) from exc
    return InputFile(path=p, size=size, sha256=digest.hexdigest())


def decode_text(data: bytes, file: InputFile) -> str:
    """UTF-8 text (a BOM is allowed); anything else is refused with the line of the bad byte."""
    if b"\x00" in data[:8192]:
        raise InputError("binary data where text was expected (NUL byte)", file=file.path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}; "
            "convert the file to UTF-8",
            file=file.path,
            row=line,
        ) from exc


@dataclass(frozen=True)
class CsvRow:
    """One CSV data row with its 1-based line number (header is line 1)."""

    line: int
    values: dict[str, str]


HEADER_BYTES = 65536
"""What :func:`read_csv_header` reads: a header row is far shorter."""


def read_csv(
    file: InputFile, *, required: Sequence[str] | None = None
) -> tuple[list[str], Iterator[CsvRow]]:
    """The header and an iterator of rows. Rows of the wrong width are refused."""
    return _parse_csv(decode_text(file.path.read_bytes(), file), file, required)


def read_csv_header(file: InputFile) -> list[str]:
    """The header row alone, from the file's first :data:`HEADER_BYTES` (choosing a source
    by its columns need not read and decode a file of hundreds of megabytes)."""
    with file.path.open("rb") as fh:
        head = fh.read(HEADER_BYTES)
    if len(head) == HEADER_BYTES and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]  # whole lines: no character cut in two
    header, _ = _parse_csv(decode_text(head, file), file, None)
    return header


def _parse_csv(
    text: str, file: InputFile, required: Sequence[str] | None
) -> tuple[list[str], Iterator[CsvRow]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError("no header row", file=file.path, row=1) from None
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", file=file.path, row=1) from exc
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise SourceShapeError(f"duplicate columns {dupes}", file=file.path, row=1)
    if required:
        missing = [c for c in required if c not in header]
        if missing:
            raise SourceShapeError(
                f"missing columns {missing}; found {header}",
                file=file.path,
                row=1,
                field=missing[0],
            )

    def rows() -> Iterator[CsvRow]:
        try:
            for values in reader:
                line = reader.line_num
                if not values or all(not v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    raise InputError(
                        f"{len(values)} fields where the header has {len(header)}",
                        file=file.path,
                        row=line,
                    )
                yield CsvRow(line, dict(zip(header, values, strict=True)))
        except csv.Error as exc:
            raise InputError(f"malformed CSV: {exc}", file=file.path, row=reader.line_num) from exc

    return header, rows()


def parse_number(
    text: str,
    *,
    file: InputFile,
    row: int,
    field: str,
    allow_empty: bool = False,
    allow_negative: bool = False,
) -> float | None:
    """A finite number; empty only when allowed; negative only when allowed."""
    raw = text.strip().replace(",", "") if text else ""
    if not raw:
        if allow_empty:
            return None
        raise InputError(
            "empty value where a number is required", file=file.path, row=row, field=field
        )
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"not a number: {text!r}", file=file.path, row=row, field=field) from None
    if math.isnan(value) or math.isinf(value):
        raise InputError(f"not a finite number: {text!r}", file=file.path, row=row, field=field)
    if value < 0 and not allow_negative:
        raise InputError(f"negative value {value:g}", file=file.path, row=row, field=field)
    return value


def parse_month(text: str, *, file: InputFile, row: int, field: str) -> dt.date:
    """The first day of a month from '2023-08-01', '2023-08', '202308' or '2023M08'."""
    raw = text.strip()
    year = month = None
    try:
        if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
            day = dt.date.fromisoformat(raw)
            if day.day != 1:
                raise InputError(
                    f"monthly period {raw!r} is not the first of a month",
                    file=file.path,
                    row=row,
                    field=field,
                )
            return day
        if len(raw) == 7 and raw[4] in "-M":
            year, month = int(raw[:4]), int(raw[5:])
        elif len(raw) == 6 and raw.isdigit():
            year, month = int(raw[:4]), int(raw[4:])
    except ValueError:
        year = None
    if year is None or month is None or not 1 <= month <= 12 or not 1900 <= year <= 2200:
        raise InputError(f"not a month: {text!r}", file=file.path, row=row, field=field)
    return dt.date(year, month, 1)
