"""Read the tables police records systems export, in chunks, as text.

Every reader yields ``Chunk`` objects: a DataFrame whose cells are all strings (``""`` for an
empty cell) plus the file line number of each row, so that validation can name the line of a
bad value and memory stays flat however large the file. Types are decided later, by
validation, so that a bad cell is reported rather than silently coerced by a reader.

Supported: CSV or any delimited text (plain or gzip-compressed, encoding detected or given),
XLSX and Parquet. The kind of file is told by its first bytes, not by its name.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from gvrs.data.errors import FileError
from gvrs.data.text import text_frame

CHUNK_ROWS = 100_000
_ARROW_BLOCK_BYTES = 1 << 20
_SAMPLE_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_WESTERN = {"cp1252", "latin_1", "iso8859_15", "cp850", "mac_roman"}
# A valid UTF-8 multi-byte sequence: its presence beside invalid bytes means "damaged UTF-8",
# not "some legacy encoding".
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


@dataclass
class Chunk:
    frame: pd.DataFrame  # string cells, "" where empty
    lines: np.ndarray  # int64 file line of each row (header = line 1)


class _CountingReader(io.RawIOBase):
    """Counts bytes read from the underlying (compressed) file, for the progress bar."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)
        self.count += n or 0
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class Table(ABC):
    """An opened table file. Iterate ``chunks()`` once; ``columns`` is known after opening."""

    kind: str
    columns: list[str]
    encoding: str | None = None

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.size_bytes = self.path.stat().st_size
        self._counter: _CountingReader | None = None

    @property
    def bytes_read(self) -> int:
        return self._counter.count if self._counter else 0

    @abstractmethod
    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        """Yield the rows in order, ``chunk_rows`` at a time."""

    def _open_counted(self) -> io.BufferedReader:
        self._counter = _CountingReader(open(self.path, "rb"))  # noqa: SIM115 - closed by caller
        return io.BufferedReader(self._counter)


def open_table(path: str | Path, *, encoding: str | None = None) -> Table:
    """Open ``path`` as a table, telling CSV, gzip, XLSX and Parquet apart by content."""
    path = Path(path)
    if not path.exists():
        raise FileError(str(path), "no such file")
    if path.is_dir():
        raise FileError(str(path), "is a folder, not a file")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise FileError(path.name, "the file is empty (0 bytes)")
    if head.startswith(_PARQUET_MAGIC):
        return ParquetTable(path)
    if head.startswith(_ZIP_MAGIC):
        return XlsxTable(path)
    return CsvTable(path, encoding=encoding, compressed=head.startswith(_GZIP_MAGIC))


# -- delimited text ----------------------------------------------------------------------------


def detect_encoding(sample: bytes, file_name: str) -> str:
    """Choose the encoding of a text sample, refusing to guess when the bytes look damaged.

    BOMs win; then UTF-8 if the sample decodes; a sample that mixes valid UTF-8 sequences with
    invalid bytes is damaged UTF-8 and is an error, not a cue to guess another encoding.
    Otherwise the sample is legacy 8-bit text and charset-normalizer names the code page.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multi-byte character at the sample's end is not damage.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
        if _UTF8_MULTIBYTE.search(sample):
            line = sample.count(b"\n", 0, exc.start) + 1
            raise FileError(
                file_name,
                f"bytes {sample[exc.start : exc.end]!r} are not valid UTF-8 (the rest of the file "
                "is UTF-8); fix the file or give its encoding with --encoding",
                line=line,
            ) from None
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    # Short samples fool any detector (a few accented names read as Big5); legacy exports from
    # US records systems are nearly always Windows-1252, so a short sample that decodes as
    # cp1252 is taken as cp1252 unless the detector names a Western code page itself.
    trusted = best is not None and (
        best.encoding in _WESTERN or (len(sample) >= 4096 and best.percent_chaos < 5)
    )
    if not trusted:
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass
    if best is None:
        raise FileError(file_name, "cannot tell the file's text encoding; give it with --encoding")
    return best.encoding


def _locate_decode_error(path: Path, compressed: bool, encoding: str) -> tuple[int, bytes]:
    """Find the first line that does not decode, reading line by line (error path only)."""
    opener = gzip.open if compressed else open
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with opener(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                decoder.decode(raw)
            except UnicodeDecodeError as exc:
                return number, raw[exc.start : exc.end]
    return 0, b""


class CsvTable(Table):
    kind = "csv"

    def __init__(self, path: Path, *, encoding: str | None, compressed: bool) -> None:
        super().__init__(path)
        self.compressed = compressed
        self.kind = "csv.gz" if compressed else "csv"
        sample = self._sample()
        if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileError(self.name, "this is a binary file, not a table (CSV, XLSX or Parquet)")
        if encoding:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise FileError(self.name, f"unknown encoding {encoding!r}") from None
        self.encoding = encoding or detect_encoding(sample, self.name)
        text = sample.decode(self.encoding, errors="replace")
        lines = text.splitlines()
        if not any(line.strip() for line in lines):
            raise FileError(self.name, "the file is empty (no header row)")
        self.delimiter = self._sniff_delimiter(lines)
        header = next(csv.reader([lines[0]], delimiter=self.delimiter))
        self.columns = [column.strip().lstrip("\ufeff") for column in header]

    def _sample(self) -> bytes:
        opener = gzip.open if self.compressed else open
        try:
            with opener(self.path, "rb") as fh:
                return fh.read(_SAMPLE_BYTES)
        except (OSError, EOFError) as exc:
            raise FileError(self.name, f"cannot decompress: {exc}") from None

    def _sniff_delimiter(self, lines: list[str]) -> str:
        head = "\n".join(lines[:50])
        try:
            return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
        except csv.Error:
            first = lines[0]
            for candidate in (",", ";", "\t", "|"):
                if candidate in first:
                    return candidate
            if len(lines) > 1 and first.strip().startswith(("{", "[", "<")):
                raise FileError(
                    self.name,
                    "this looks like JSON, HTML or XML, not a table (CSV, XLSX or Parquet)",
                ) from None
            return ","

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        """UTF-8 text is parsed by pyarrow (in C++, on every core: about five times faster
        than pandas); other encodings, and any file pyarrow refuses, by pandas. pyarrow is
        the stricter of the two (a row shorter than the header, bytes that are not UTF-8),
        so when it refuses a file pandas reads on from the same row, and either reads the
        rest as before or names the problem with its line."""
        if self.encoding not in ("utf-8", "utf-8-sig"):
            yield from self._pandas_chunks(chunk_rows)
            return
        yielded = 0
        try:
            for chunk in self._arrow_chunks(chunk_rows):
                yielded += len(chunk.frame)
                yield chunk
        except pa.ArrowInvalid:
            yield from self._pandas_chunks(chunk_rows, skip=yielded)

    def _arrow_chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        raw = self._open_counted()
        stream = gzip.GzipFile(fileobj=raw) if self.compressed else raw
        names = [f"c{i}" for i in range(len(self.columns))]
        try:
            reader = pa_csv.open_csv(
                stream,
                read_options=pa_csv.ReadOptions(
                    skip_rows=1, column_names=names, block_size=_ARROW_BLOCK_BYTES
                ),
                parse_options=pa_csv.ParseOptions(
                    delimiter=self.delimiter, newlines_in_values=True
                ),
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            pending: list[pa.RecordBatch] = []
            waiting = 0
            next_line = 2
            for batch in reader:
                pending.append(batch)
                waiting += batch.num_rows
                while waiting >= chunk_rows:
                    table = pa.Table.from_batches(pending)
                    head, rest = table.slice(0, chunk_rows), table.slice(chunk_rows)
                    pending, waiting = rest.to_batches(), rest.num_rows
                    yield self._arrow_chunk(head, next_line)
                    next_line += head.num_rows
            if waiting:
                yield self._arrow_chunk(pa.Table.from_batches(pending), next_line)
        finally:
            stream.close()

    def _arrow_chunk(self, table: pa.Table, first_line: int) -> Chunk:
        frame = text_frame(table)
        frame.columns = self.columns
        return Chunk(frame, np.arange(first_line, first_line + len(frame), dtype=np.int64))

    def _pandas_chunks(self, chunk_rows: int, skip: int = 0) -> Iterator[Chunk]:
        """Chunks read by pandas, leaving out the first ``skip`` rows."""
        raw = self._open_counted()
        stream = gzip.GzipFile(fileobj=raw) if self.compressed else raw
        text = io.TextIOWrapper(stream, encoding=self.encoding, errors="strict", newline="")
        next_line = 2
        try:
            reader = pd.read_csv(
                text,
                sep=self.delimiter,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                chunksize=chunk_rows,
                skip_blank_lines=True,
                index_col=False,
                engine="c",
            )
            while (frame := _next_strict(reader)) is not None:
                frame.columns = self.columns[: len(frame.columns)] + list(
                    frame.columns[len(self.columns) :]
                )
                lines = np.arange(next_line, next_line + len(frame), dtype=np.int64)
                next_line += len(frame)
                if skip >= len(frame):
                    skip -= len(frame)
                    continue
                yield Chunk(frame.iloc[skip:], lines[skip:])
                skip = 0
        except UnicodeDecodeError:
            line, bad = _locate_decode_error(self.path, self.compressed, self.encoding)
            raise FileError(
                self.name,
                f"bytes {bad!r} cannot be decoded as {self.encoding}; "
                "give the file's encoding with --encoding",
                line=line or None,
            ) from None
        except pd.errors.EmptyDataError:
            raise FileError(self.name, "the file is empty (no header row)") from None
        except pd.errors.ParserWarning as exc:
            raise FileError(
                self.name, f"not a well-formed table: a row has more fields than the header ({exc})"
            ) from None
        except pd.errors.ParserError as exc:
            match = re.search(r"line (\d+)", str(exc))
            raise FileError(
                self.name,
                f"not a well-formed table: {exc}",
                line=int(match.group(1)) if match else None,
            ) from None
        except (OSError, EOFError) as exc:
            raise FileError(self.name, f"cannot read: {exc}") from None
        finally:
            text.close()


def _next_strict(reader) -> pd.DataFrame | None:
    """The next chunk, with pandas' "row longer than header" warning raised as an error:
    pandas would otherwise drop the extra fields of the first row silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return next(reader, None)


# -- spreadsheets and columnar files -----------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return str(value).strip()


class XlsxTable(Table):
    """The first worksheet of an XLSX workbook; its first non-empty row is the header."""

    kind = "xlsx"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        import openpyxl

        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several unrelated types for a bad zip
            raise FileError(self.name, f"not a readable XLSX workbook ({exc})") from None
        self._sheet = self._book.worksheets[0]
        self._rows = self._sheet.iter_rows(values_only=True)
        self._header_line = 0
        for number, row in enumerate(self._rows, start=1):
            if any(cell not in (None, "") for cell in row):
                self.columns = [_cell_text(cell) for cell in row]
                self._header_line = number
                break
        else:
            raise FileError(self.name, "the workbook's first sheet is empty")

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        width = len(self.columns)
        buffer: list[list[str]] = []
        lines: list[int] = []
        line = self._header_line
        for row in self._rows:
            line += 1
            cells = [_cell_text(cell) for cell in row[:width]]
            if not any(cells):
                continue
            buffer.append(cells + [""] * (width - len(cells)))
            lines.append(line)
            if len(buffer) >= chunk_rows:
                yield Chunk(pd.DataFrame(buffer, columns=self.columns, dtype=str), np.array(lines))
                buffer, lines = [], []
        if buffer:
            yield Chunk(pd.DataFrame(buffer, columns=self.columns, dtype=str), np.array(lines))
        self._book.close()


class ParquetTable(Table):
    """A Parquet file read batch by batch; 'line' means the row number plus one (header)."""

    kind = "parquet"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow's ArrowInvalid and friends
            raise FileError(self.name, f"not a readable Parquet file ({exc})") from None
        self.columns = list(self._file.schema_arrow.names)

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        next_line = 2
        for batch in self._file.iter_batches(batch_size=chunk_rows):
            frame = batch.to_pandas()
            text = pd.DataFrame(
                {name: _column_text(frame[name]) for name in frame.columns}, index=frame.index
            )
            lines = np.arange(next_line, next_line + len(text), dtype=np.int64)
            next_line += len(text)
            yield Chunk(text, lines)


def _column_text(series: pd.Series) -> pd.Series:
    """Typed Parquet values as the strings a CSV export would hold."""
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series.dt.strftime("%Y-%m-%dT%H:%M:%S")
    elif pd.api.types.is_float_dtype(series):
        integral = series.notna() & (series % 1 == 0)
        out = series.astype(object).where(~integral, series.where(integral).astype("Int64"))
        out = out.astype(str)
    else:
        out = series.astype(str)
    return out.where(series.notna(), "").astype(str)
