"""The pages of a Parquet file, read from their headers before any page is decoded.

A Parquet reader decompresses a whole page before it can hand out one value of it, and a
value is never split across pages: a 946 KB file can hold one 300 MB cell, and reading it
held 1.24 GB before the cell limit refused it. The column chunks' sizes in the footer do not
say so (one huge cell among thousands of small ones keeps their mean small), but every page
begins with a header that does: its decompressed size and its number of values. So every
page header is read (a few dozen bytes each, skipping the compressed data between them) and a
page is refused when its decompressed size is over ``Limits.part_bytes`` or its mean value
is longer than the cell limit allows, before anything is decoded.

The headers are Thrift structures in the compact protocol (the Parquet format's
``PageHeader``); this module reads just enough of that protocol to find the sizes and skip
the rest, reading large binary fields (page statistics) by seeking past them.

References: Apache Parquet format, ``parquet.thrift`` (PageHeader, DataPageHeader,
DictionaryPageHeader, DataPageHeaderV2); Apache Thrift, compact protocol specification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

# Compact protocol field types.
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY = range(9)
_LIST, _SET, _MAP, _STRUCT = 9, 10, 11, 12
# PageHeader field ids (parquet.thrift).
_UNCOMPRESSED, _COMPRESSED = 2, 3
_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 5, 7, 8
_NUM_VALUES = 1  # the first field of each of the three page headers


class PageHeaderError(ValueError):
    """A page header that cannot be read (a damaged or hostile file)."""


@dataclass(frozen=True)
class Page:
    offset: int  # where its header starts in the file
    uncompressed_bytes: int
    compressed_bytes: int
    values: int  # values (nulls included) in the page; 0 when its header does not say


class _Reader:
    """Compact-protocol values read from a file, with large binaries skipped by seeking."""

    def __init__(self, fh: BinaryIO, end: int) -> None:
        self.fh = fh
        self.end = end

    def byte(self) -> int:
        data = self.fh.read(1)
        if not data or self.fh.tell() > self.end:
            raise PageHeaderError("a page header runs past its column chunk")
        return data[0]

    def varint(self) -> int:
        shift = result = 0
        for _ in range(10):
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
        raise PageHeaderError("a page header holds a malformed number")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, kind: int) -> None:
        if kind in (_TRUE, _FALSE):
            return
        if kind == _BYTE:
            self.byte()
        elif kind in (_I16, _I32, _I64):
            self.varint()
        elif kind == _DOUBLE:
            self.fh.seek(8, 1)
        elif kind == _BINARY:
            self.fh.seek(self.varint(), 1)
            if self.fh.tell() > self.end:
                raise PageHeaderError("a page header runs past its column chunk")
        elif kind in (_LIST, _SET):
            head = self.byte()
            size = head >> 4 if head >> 4 != 15 else self.varint()
            inner = head & 0x0F
            for _ in range(size):
                self.byte() if inner in (_TRUE, _FALSE) else self.skip(inner)
        elif kind == _MAP:
            size = self.varint()
            if size:
                types = self.byte()
                for _ in range(size):
                    self.skip(types >> 4)
                    self.skip(types & 0x0F)
        elif kind == _STRUCT:
            self.struct(lambda field, kind: self.skip(kind))
        else:
            raise PageHeaderError(f"a page header holds an unknown field type {kind}")

    def struct(self, on_field) -> None:
        """Read a struct, calling ``on_field(field id, type)`` for each field, which must
        consume the field's value."""
        last = 0
        while True:
            head = self.byte()
            kind = head & 0x0F
            if kind == _STOP:
                return
            delta = head >> 4
            last = last + delta if delta else self.zigzag()
            on_field(last, kind)


def _page_header(reader: _Reader) -> tuple[int, int, int]:
    """(decompressed size, compressed size, number of values) of the header at the reader."""
    found = {"values": 0, "uncompressed": -1, "compressed": -1}

    def page_field(field: int, kind: int) -> None:
        if field == _UNCOMPRESSED and kind == _I32:
            found["uncompressed"] = reader.zigzag()
        elif field == _COMPRESSED and kind == _I32:
            found["compressed"] = reader.zigzag()
        elif field in (_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2) and kind == _STRUCT:

            def inner(sub: int, sub_kind: int) -> None:
                if sub == _NUM_VALUES and sub_kind == _I32:
                    found["values"] = reader.zigzag()
                else:
                    reader.skip(sub_kind)

            reader.struct(inner)
        else:
            reader.skip(kind)

    reader.struct(page_field)
    if found["uncompressed"] < 0 or found["compressed"] < 0:
        raise PageHeaderError("a page header does not give the page's sizes")
    return found["uncompressed"], found["compressed"], found["values"]


def column_pages(fh: BinaryIO, start: int, length: int) -> list[Page]:
    """The pages of the column chunk whose pages occupy ``length`` bytes from ``start``
    (its first page's offset and its total compressed size, from the footer)."""
    end = start + length
    reader = _Reader(fh, end)
    pages = []
    offset = start
    while offset < end:
        fh.seek(offset)
        uncompressed, compressed, values = _page_header(reader)
        pages.append(Page(offset, uncompressed, compressed, values))
        offset = fh.tell() + compressed
    return pages
