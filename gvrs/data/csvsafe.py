"""CSV cells a spreadsheet would run as a formula, made inert (CSV or "formula" injection).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``). Such a
cell in a file gvrs writes gets a leading apostrophe, which spreadsheets show as text, as
OWASP advises. A plain number (``-3``, ``+1.5e3``) is left as it is: it is not a formula.
"""

from __future__ import annotations

import re

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


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
