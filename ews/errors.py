"""Errors that reach the user as one clear line.

Every refusal of input names where it happened (file, row, field) so a person can fix the
input without reading a traceback; the CLI turns these into exit code 2.
"""

from __future__ import annotations

from pathlib import Path


class EwsError(Exception):
    """Base of all errors EWS reports to a user."""


class InputError(EwsError):
    """Input that EWS refuses: malformed, wrong encoding, wrong shape or impossible values."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``file:row: field 'x': message`` with the parts that are known."""
        where = self.file or "<input>"
        if self.row is not None:
            where += f":{self.row}"
        field = f" field '{self.field}':" if self.field else ""
        return f"{where}:{field} {self.message}"


class SourceShapeError(InputError):
    """A source file whose layout is not what its description says (the source changed)."""


class StoreError(EwsError):
    """The store cannot be opened or migrated."""
