"""NIBRS, the FBI's National Incident-Based Reporting System, read as gvrs's canonical rows.

Three forms of the same segments: a Crime Data Explorer state-year (``cde``), a monthly
flat-file submission (``flat``) and the IEPD 2019 XML (``xml``). Each reader fills one shape
(``records.Reading``), and ``canonical`` maps it to gvrs's schema once for all three
(docs/nibrs.md). ``open_nibrs`` gives the import pipeline a ``Table`` of canonical rows, so a
NIBRS file is validated, matched to places and written like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from gvrs.data.limits import Limits
from gvrs.data.nibrs.canonical import Canonical, to_canonical
from gvrs.data.nibrs.records import Reading
from gvrs.data.readers import CHUNK_ROWS, Chunk, Table

FORMS = ("nibrs-cde", "nibrs-flat", "nibrs-xml")
# The kinds a NIBRS source records (a month without any of them is a month of zeros).
KINDS = (
    "homicide",
    "nonfatal_shooting",
    "firearm_assault",
    "justifiable_homicide",
    "negligent_manslaughter",
)


def read(path: str | Path, form: str, limits: Limits | None = None) -> Reading:
    """Read ``path`` in NIBRS form ``form`` (one of ``FORMS``)."""
    if form == "nibrs-cde":
        from gvrs.data.nibrs.cde import read_cde

        return read_cde(path, limits)
    if form == "nibrs-flat":
        from gvrs.data.nibrs.flat import read_flat

        return read_flat(path, limits)
    if form == "nibrs-xml":
        from gvrs.data.nibrs.xml import read_xml

        return read_xml(path, limits)
    raise ValueError(f"unknown NIBRS form {form!r}; valid: {', '.join(FORMS)}")


class NibrsTable(Table):
    """A NIBRS file as a table of canonical rows, held in memory (a state-year's shootings
    and homicides are thousands of rows, not millions: every other incident is left out).

    Each row's ``line`` is its position here (the pipeline keys rows by line);
    ``where(line)`` gives the table and line of the file it came from, for messages."""

    kind = "nibrs"

    def __init__(self, path: Path, form: str, limits: Limits | None = None) -> None:
        super().__init__(path, limits)
        self.form = form
        self.reading = read(path, form, self.limits)
        self.canonical: Canonical = to_canonical(self.reading)
        rows = self.canonical.rows
        self.lines = np.arange(2, len(rows) + 2, dtype=np.int64)
        self._where = dict(
            zip(self.lines.tolist(), zip(rows["table"], rows["line"], strict=True), strict=True)
        )
        self.columns = [c for c in rows.columns if c not in ("incident", "ori", "table", "line")]
        self.rows_read = self.reading.rows_read

    @property
    def bytes_read(self) -> int:
        return self.size_bytes

    def where(self, line: int) -> tuple[str, int]:
        """(table, line) in the file of the canonical row at ``line``."""
        table, real = self._where.get(int(line), ("", 0))
        return table, int(real)

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        rows = self.canonical.rows[self.columns]
        for start in range(0, len(rows), chunk_rows):
            yield Chunk(
                rows.iloc[start : start + chunk_rows].reset_index(drop=True),
                self.lines[start : start + chunk_rows],
            )


__all__ = ["FORMS", "KINDS", "NibrsTable", "Reading", "read"]
