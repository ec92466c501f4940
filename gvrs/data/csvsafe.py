"""The one way gvrs writes CSV: RFC 4180 rows whose cells a spreadsheet opens as text.

Two things make a CSV cell dangerous in a spreadsheet:

- **A formula.** A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is a formula to Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``,
  ``+cmd|...``, ``@SUM(...)``). Such a cell gets a leading apostrophe, which spreadsheets show
  as text, as OWASP advises. A plain number (``-3``, ``+1.5e3``) is left as it is.
- **A line break that is not quoted.** Spreadsheets (and most CSV readers) end a row at a bare
  carriage return as well as at a line feed. Python's ``csv`` module quotes a cell only for
  the characters of its own line terminator, so with ``"\\n"`` a cell ``"x\\r=HYPERLINK(..)"``
  was written unquoted: the spreadsheet read a new row whose first cell was a live formula.
  Every file here ends its rows with CRLF (RFC 4180, and the ``csv`` module's own default), so
  any cell holding a CR or an LF is quoted and stays one cell.

Every CSV gvrs writes goes through ``writer`` (rows) or ``write_frame`` (DataFrames);
``tests/test_csv_writer.py`` fails if a module writes CSV another way.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
LINE_END = "\r\n"  # RFC 4180; a cell holding "\r" or "\n" is then always quoted


def inert(value: str) -> str:
    """``value`` made safe to open in a spreadsheet."""
    if value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are ``inert``; numeric columns are untouched."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        text = series.astype(object)
        starts = text.map(lambda v: isinstance(v, str) and v.startswith(_TRIGGERS))
        if starts.any():
            out[column] = text.where(~starts, text[starts].map(inert))
    return out


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return inert(value)
    return value


class Writer:
    """A ``csv.writer`` whose text cells are made inert and whose rows end in CRLF.

    ``writerow`` returns what the file's ``write`` returned, so a pseudo-file that returns
    its argument turns rows into strings for a streamed response."""

    def __init__(self, fh) -> None:
        self._writer = csv.writer(fh, lineterminator=LINE_END, quoting=csv.QUOTE_MINIMAL)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh) -> Writer:
    """A CSV writer on ``fh`` (a text file opened with ``newline=""``, or anything with
    ``write``)."""
    return Writer(fh)


def write_frame(frame: pd.DataFrame, fh, *, header: bool = True) -> None:
    """``frame`` as CSV on ``fh`` (a path, or a text file opened with ``newline=""``), without
    its index, text cells inert, rows ending in CRLF."""
    inert_frame(frame).to_csv(fh, index=False, header=header, lineterminator=LINE_END)


def frame_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (as ``write_frame`` writes it)."""
    return inert_frame(frame).to_csv(index=False, lineterminator=LINE_END)
