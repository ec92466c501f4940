"""An XLSX workbook opened with its parts bounded before they are materialised.

openpyxl reads a workbook's shared strings (the text of every cell, stored once) into a list
before the first row, and its parser keeps an element per string attached to the tree while
it reads: an 875 KB workbook of 20 million one-letter strings peaked at 3.3 GB. Here the
shared strings are read by a streaming parser that drops each element once its text is
taken, counts what the list holds in memory, and refuses the file past
``Limits.part_bytes`` (first from a count of its strings' tags, which costs no parsing, then
from the strings as they are read); a single string whose XML runs past what the cell limit
allows is refused before its text is joined. Worksheets stream as before, through a guard that
refuses a cell whose XML runs past that same bound (a 300 MB inline string in one cell),
before the parser holds it.

openpyxl's own reader (``ExcelReader``) does everything else: this module replaces its
shared-strings step only, and keeps its result (the text of plain and rich-text strings,
phonetic runs left out, ``_x005F_`` escapes as openpyxl undoes them).
"""

from __future__ import annotations

import io
import re
import sys
import xml.etree.ElementTree as ET

from gvrs.data.errors import FileError
from gvrs.data.limits import LimitError, Limits

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_SI, _T, _R = f"{_MAIN}si", f"{_MAIN}t", f"{_MAIN}r"
_READ_BYTES = 1 << 16
# A cell's text in XML: up to 4 bytes of UTF-8 per character, or a 10-byte character
# reference (&#x1F600;), and rich-text markup around its runs. 64 bytes per character of the
# cell limit (about 2 MB) is more than any real cell takes, and little memory.
_XML_BYTES_PER_CHAR = 64
# Where a row or a cell begins, with or without a namespace prefix (<x:c r="A1">).
_CELL_OR_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:c|row)[\s>/]")
_SHEET_DATA_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?sheetData\s*>")
_STRING_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s>/]")
# What the smallest string costs in the list: an empty str (49 bytes) and its slot (8).
_LEAST_HELD = 57
_TAIL = 64  # bytes kept from one read to the next, so a tag split between reads is found


def _xml_budget(limits: Limits) -> int:
    return _XML_BYTES_PER_CHAR * limits.cell_chars


def _string_text(si: ET.Element) -> str:
    """A shared string's text as openpyxl gives it (``Text.content``): its plain text, then
    its rich-text runs' text; phonetic runs are not part of it."""
    parts = [t.text or "" for t in si.findall(_T)]
    parts += [t.text or "" for r in si.findall(_R) for t in r.findall(_T)]
    return "".join(parts).replace("x005F_", "")


def count_shared_strings(stream, limits: Limits, file_name: str) -> int:
    """How many strings ``stream`` holds, counted from the bytes (no parsing), refused as
    soon as even that many empty strings would be over ``limits.part_bytes``: 20 million
    one-letter strings are refused after a second of counting rather than a minute and a
    half of parsing the first 4.6 million."""
    count = 0
    tail = b""
    most = limits.part_bytes // _LEAST_HELD
    while chunk := stream.read(_READ_BYTES):
        window = tail + chunk
        # A tag cut by the previous read is found now; one found whole in the tail was
        # counted then and lies before ``len(tail)``.
        count += sum(1 for m in _STRING_START.finditer(window) if m.end() > len(tail))
        if count > most:
            raise LimitError(
                file_name,
                "part_bytes",
                limits.part_bytes,
                found=f"{count:,} shared strings or more",
            )
        tail = window[-_TAIL:]
    return count


def read_shared_strings(stream, limits: Limits, file_name: str) -> list[str]:
    """The shared strings of ``stream`` (``xl/sharedStrings.xml``), refused past
    ``limits.part_bytes`` held in memory (each string counted as Python holds it, with its
    slot in the list) or at a string whose XML is longer than a cell can be."""
    parser = ET.XMLPullParser(events=("start", "end"))
    budget = _xml_budget(limits)
    strings: list[str] = []
    held = 0
    root = None
    since_string = 0  # bytes fed since the last complete string
    try:
        while chunk := stream.read(_READ_BYTES):
            parser.feed(chunk)
            since_string += len(chunk)
            for event, element in parser.read_events():
                if root is None and event == "start":
                    root = element
                if event != "end" or element.tag != _SI:
                    continue
                text = _string_text(element)
                strings.append(text)
                held += sys.getsizeof(text) + 8
                since_string = 0
                if held > limits.part_bytes:
                    raise LimitError(
                        file_name,
                        "part_bytes",
                        limits.part_bytes,
                        found=f"{len(strings):,} shared strings or more",
                    )
            if root is not None:
                del root[:]  # the strings read so far: their text is taken, the tree need not grow
            if since_string > budget:
                raise LimitError(
                    file_name,
                    "cell_chars",
                    limits.cell_chars,
                    found=f"a shared string of more than {budget:,} bytes of XML",
                )
        parser.close()
    except ET.ParseError as exc:
        reason = f"not a readable XLSX workbook (its shared strings: {exc})"
        raise FileError(file_name, reason) from None
    return strings


class _CellGuard(io.RawIOBase):
    """A worksheet's XML, refused where a cell's (or a row's) XML runs past what a cell may
    hold, before the parser has it in memory. Checked up to the end of the sheet's data."""

    def __init__(self, inner, budget: int, limits: Limits, file_name: str) -> None:
        self._inner = inner
        self._budget = budget
        self._limits = limits
        self._name = file_name
        self._run = 0  # bytes since the last row or cell began
        self._tail = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n and not self._done:
            self._check(data)
        return n

    def _check(self, data: bytes) -> None:
        window = self._tail + data
        start = self._run - len(self._tail)  # the run where the window begins
        end = _SHEET_DATA_END.search(window)
        for match in _CELL_OR_ROW.finditer(window):
            if end is not None and match.start() > end.start():
                break
            self._refuse_over(start + match.start())
            start = -match.end()
        self._run = start + len(window)
        if end is not None:
            self._done = True
        else:
            self._refuse_over(self._run)
        self._tail = window[-_TAIL:]

    def _refuse_over(self, run: int) -> None:
        if run > self._budget:
            raise LimitError(
                self._name,
                "cell_chars",
                self._limits.cell_chars,
                found=f"a cell of more than {self._budget:,} bytes of XML",
            )

    def close(self) -> None:
        self._inner.close()
        super().close()


class _GuardedArchive:
    """The workbook's zip archive, whose parts open through ``_CellGuard`` (openpyxl's
    read-only worksheets open their XML from it, row by row, as they are read)."""

    def __init__(self, archive, limits: Limits, file_name: str) -> None:
        self._archive = archive
        self._limits = limits
        self._name = file_name

    def open(self, name, *args, **kwargs):
        inner = self._archive.open(name, *args, **kwargs)
        return _CellGuard(inner, _xml_budget(self._limits), self._limits, self._name)

    def __getattr__(self, name):
        return getattr(self._archive, name)


def load_workbook(path, limits: Limits, file_name: str):
    """openpyxl's read-only workbook of ``path`` (values, not formulas), its shared strings
    and worksheets read within ``limits``."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    class BoundedReader(ExcelReader):
        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                name = part.PartName[1:]
                with self.archive.open(name) as src:
                    count_shared_strings(src, limits, file_name)
                with self.archive.open(name) as src:
                    self.shared_strings = read_shared_strings(src, limits, file_name)

    reader = BoundedReader(path, read_only=True, data_only=True)
    reader.read()
    book = reader.wb
    book._archive = _GuardedArchive(book._archive, limits, file_name)
    return book
