"""Errors a file can have, each naming where it is and why.

A ``RowError`` is one bad value in one row; validation collects all of them rather than stopping
at the first, so an analyst can fix a file in one pass. A ``FileError`` is a problem with the
file as a whole (not a table, undecodable, a column missing) and stops the import.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """One invalid value. ``line`` counts the header as line 1 (a spreadsheet's row number).

    ``table`` names the table inside the file, for an import of several tables (a NIBRS
    state-year folder): the line is that table's."""

    line: int
    column: str
    value: str
    reason: str
    table: str = ""

    def describe(self, file_name: str) -> str:
        shown = self.value if len(self.value) <= 40 else self.value[:37] + "..."
        where = f"{file_name}: {self.table}" if self.table else file_name
        return f"{where}: line {self.line}: {self.column}={shown!r}: {self.reason}"


class FileError(Exception):
    """A problem with a whole file; the message names the file and, where known, the line."""

    def __init__(self, file_name: str, reason: str, line: int | None = None) -> None:
        self.file_name = file_name
        self.reason = reason
        self.line = line
        where = f"{file_name}: line {line}" if line is not None else file_name
        super().__init__(f"{where}: {reason}")
