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
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from gvrs.data.errors import FileError
from gvrs.data.limits import LimitError, Limits
from gvrs.data.parquetpages import PageHeaderError, column_pages
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


class _LimitedReader(io.RawIOBase):
    """Decompressed bytes, refused past ``Limits.decompressed_bytes`` or at a row longer than
    ``Limits.line_bytes``: a gzip holding one 2 GB line fails after a megabyte is read, never
    after the line is in memory.

    A row ends at a line break outside double quotes (a quoted value may hold line breaks,
    and a row of many short quoted lines is as long as their sum). Each read is capped at the
    limit, so in text without quotes only the run carried over from earlier reads, plus the
    bytes up to the first line break, needs checking; text with quotes is checked with numpy
    over the read (quote parity at each line break)."""

    def __init__(self, inner, limits: Limits, file_name: str) -> None:
        self._inner = inner
        self._limits = limits
        self._name = file_name
        self.total = 0
        self._run = 0  # bytes since the last row end
        self._rows = 0  # row ends seen (the header's included)
        self._in_quotes = False

    def readable(self) -> bool:
        return True

    def _too_long(self, length: int, row_index: int) -> LimitError:
        return LimitError(
            self._name,
            "line_bytes",
            self._limits.line_bytes,
            found=f"{length:,} bytes or more",
            line=row_index + 1,
        )

    def readinto(self, buffer) -> int:  # type: ignore[override]
        limit = self._limits.line_bytes
        view = memoryview(buffer)[:limit]
        n = self._inner.readinto(view)
        if not n:
            return n or 0
        data = view[:n].tobytes()
        self.total += n
        if self.total > self._limits.decompressed_bytes:
            raise LimitError(self._name, "decompressed_bytes", self._limits.decompressed_bytes)
        if not self._in_quotes and b'"' not in data:
            first = data.find(b"\n")
            if first < 0:
                self._run += n
                if self._run > limit:
                    raise self._too_long(self._run, self._rows)
                return n
            if self._run + first > limit:
                raise self._too_long(self._run + first, self._rows)
            self._rows += data.count(b"\n")
            self._run = n - data.rfind(b"\n") - 1
            return n
        array = np.frombuffer(data, dtype=np.uint8)
        quotes = np.cumsum(array == ord('"')) + int(self._in_quotes)
        breaks = np.flatnonzero(array == ord("\n"))
        ends = breaks[quotes[breaks] % 2 == 0]
        if not len(ends):
            self._run += n
            if self._run > limit:
                raise self._too_long(self._run, self._rows)
        else:
            if self._run + int(ends[0]) > limit:
                raise self._too_long(self._run + int(ends[0]), self._rows)
            gaps = np.diff(ends) - 1
            if len(gaps) and gaps.max() > limit:
                at = int(np.argmax(gaps > limit))
                raise self._too_long(int(gaps[at]), self._rows + at + 1)
            self._rows += len(ends)
            self._run = n - int(ends[-1]) - 1
        self._in_quotes = bool(quotes[-1] % 2)
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


class Table(ABC):
    """An opened table file. Iterate ``chunks()`` once; ``columns`` is known after opening."""

    kind: str
    columns: list[str]
    encoding: str | None = None

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.size_bytes = self.path.stat().st_size
        self.limits = limits or Limits.from_env()
        self._counter: _CountingReader | None = None

    def _check_columns(self) -> None:
        """Refuse a header over the column limit, or one naming a column twice (a mapping
        could not tell which one it means)."""
        if len(self.columns) > self.limits.columns:
            raise LimitError(
                self.name,
                "columns",
                self.limits.columns,
                found=f"{len(self.columns):,} columns",
                line=1,
            )
        seen: dict[str, int] = {}
        for number, name in enumerate(self.columns, start=1):
            if name and name in seen:
                raise FileError(
                    self.name,
                    f"the column name {name[:60]!r} appears twice in the header "
                    f"(columns {seen[name]} and {number}); rename one",
                    line=1,
                )
            seen.setdefault(name, number)

    def _check_cells(self, table: pa.Table, first_line: int) -> None:
        """Refuse a cell longer than the limit, naming its line and column (pyarrow counts
        characters in C++, so this costs little on a million rows). Dictionary-encoded
        columns are checked on their dictionary, never expanded."""
        limit = self.limits.cell_chars
        for name, column in zip(self.columns, table.columns, strict=False):
            offset = 0
            for chunk in column.chunks:
                values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
                if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
                    break
                lengths = pc.utf8_length(values)
                longest = pc.max(lengths).as_py()
                if longest is not None and longest > limit:
                    over = pc.greater(lengths, limit)
                    if pa.types.is_dictionary(chunk.type):
                        over = pc.is_in(chunk.indices, value_set=pc.indices_nonzero(over))
                    at = pc.index(over, True).as_py()
                    raise LimitError(
                        self.name,
                        "cell_chars",
                        limit,
                        found=f"{longest:,} characters",
                        line=first_line + offset + at,
                        column=name,
                    )
                offset += len(chunk)

    @property
    def bytes_read(self) -> int:
        return self._counter.count if self._counter else 0

    @abstractmethod
    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        """Yield the rows in order, ``chunk_rows`` at a time."""

    def _open_counted(self) -> io.BufferedReader:
        self._counter = _CountingReader(open(self.path, "rb"))  # noqa: SIM115 - closed by caller
        return io.BufferedReader(self._counter)


def open_table(
    path: str | Path, *, encoding: str | None = None, limits: Limits | None = None
) -> Table:
    """Open ``path`` as a table, telling CSV, gzip, XLSX and Parquet apart by content.

    ``limits`` (default: ``Limits.from_env()``) bounds what is read; a file over one raises
    ``LimitError`` naming the limit and its setting."""
    path = Path(path)
    limits = limits or Limits.from_env()
    if not path.exists():
        raise FileError(str(path), "no such file")
    if path.is_dir():
        raise FileError(str(path), "is a folder, not a file")
    if not path.is_file():
        raise FileError(str(path), "is not a regular file (a device or a pipe)")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise FileError(path.name, "the file is empty (0 bytes)")
    if head.startswith(_PARQUET_MAGIC):
        table: Table = ParquetTable(path, limits)
    elif head.startswith(_ZIP_MAGIC):
        table = XlsxTable(path, limits)
    else:
        table = CsvTable(
            path, encoding=encoding, compressed=head.startswith(_GZIP_MAGIC), limits=limits
        )
    table._check_columns()
    return table


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

    def __init__(
        self, path: Path, *, encoding: str | None, compressed: bool, limits: Limits | None = None
    ) -> None:
        super().__init__(path, limits)
        self.compressed = compressed
        self.kind = "csv.gz" if compressed else "csv"
        if not compressed and self.size_bytes > self.limits.decompressed_bytes:
            raise LimitError(
                self.name,
                "decompressed_bytes",
                self.limits.decompressed_bytes,
                found=f"{self.size_bytes:,} bytes",
            )
        sample = self._sample()
        header_end = sample.find(b"\n")
        if (header_end if header_end >= 0 else len(sample)) > self.limits.line_bytes:
            raise LimitError(self.name, "line_bytes", self.limits.line_bytes, line=1)
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
        except (OSError, EOFError, zlib.error) as exc:
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
        try:
            yield from self._text_chunks(chunk_rows)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileError(self.name, f"cannot read or decompress: {exc}") from None

    def _text_chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        if self.encoding not in ("utf-8", "utf-8-sig"):
            yield from self._pandas_chunks(chunk_rows)
            return
        yielded = 0
        try:
            for chunk in self._arrow_chunks(chunk_rows):
                yielded += len(chunk.frame)
                yield chunk
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc):
                # A row (quoted line breaks included) longer than a read block, which is
                # larger than the line limit.
                raise LimitError(
                    self.name,
                    "line_bytes",
                    self.limits.line_bytes,
                    found="a row with line breaks inside quotes runs past it",
                    line=yielded + 2,
                ) from None
            yield from self._pandas_chunks(chunk_rows, skip=yielded)

    def _limited_stream(self) -> io.BufferedReader:
        raw = self._open_counted()
        stream = gzip.GzipFile(fileobj=raw) if self.compressed else raw
        return io.BufferedReader(_LimitedReader(stream, self.limits, self.name))

    def _arrow_chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        stream = self._limited_stream()
        names = [f"c{i}" for i in range(len(self.columns))]
        reader = None
        try:
            reader = pa_csv.open_csv(
                stream,
                read_options=pa_csv.ReadOptions(
                    skip_rows=1,
                    column_names=names,
                    block_size=max(_ARROW_BLOCK_BYTES, 2 * self.limits.line_bytes),
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
            # Arrow reads ahead on a thread of its own: stop it before its file is closed, or
            # a refused file (a limit raised inside that read) leaves the thread running and
            # the process aborts as it exits ("terminate called without an active exception").
            if reader is not None:
                reader.close()
            stream.close()

    def _arrow_chunk(self, table: pa.Table, first_line: int) -> Chunk:
        self._check_cells(table, first_line)
        frame = text_frame(table)
        frame.columns = self.columns
        return Chunk(frame, np.arange(first_line, first_line + len(frame), dtype=np.int64))

    def _pandas_chunks(self, chunk_rows: int, skip: int = 0) -> Iterator[Chunk]:
        """Chunks read by pandas, leaving out the first ``skip`` rows."""
        stream = self._limited_stream()
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
                # By position: a header may repeat a name (two empty ones), which pyarrow
                # refuses as column names; the check names columns from self.columns anyway.
                positional = frame.set_axis([str(i) for i in range(frame.shape[1])], axis=1)
                self._check_cells(pa.Table.from_pandas(positional, preserve_index=False), next_line)
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
    """The first worksheet of an XLSX workbook; its first non-empty row is the header.

    Rows and columns are those of real cells. The sheet's declared dimension is ignored: a
    workbook may claim A1:XFD1048576 while holding two cells, and openpyxl would pad every
    row to 16,384 cells. So the dimension is reset, the header's width is its last real cell,
    and data rows are cut to that width as they are parsed."""

    kind = "xlsx"

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        super().__init__(path, limits)
        import zipfile

        from gvrs.data.xlsxparts import load_workbook

        try:
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(item.file_size for item in archive.infolist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise FileError(self.name, f"not a readable XLSX workbook ({exc})") from None
        if unpacked > self.limits.decompressed_bytes:
            raise LimitError(
                self.name,
                "decompressed_bytes",
                self.limits.decompressed_bytes,
                found=f"{unpacked:,} bytes unpacked",
            )
        try:
            # Shared strings and worksheet cells bounded before they are held in memory.
            self._book = load_workbook(path, self.limits, self.name)
            self._sheet = self._book.worksheets[0]
        except FileError:
            raise
        except Exception as exc:  # openpyxl raises several unrelated types for a bad zip
            raise FileError(self.name, f"not a readable XLSX workbook ({exc})") from None
        self._sheet.reset_dimensions()
        self._header_line = 0
        for number, row in enumerate(self._sheet.iter_rows(values_only=True), start=1):
            if len(row) > self.limits.columns:
                raise LimitError(
                    self.name,
                    "columns",
                    self.limits.columns,
                    found=f"row {number} has a cell in column {len(row):,}",
                    line=number,
                )
            if any(cell not in (None, "") for cell in row):
                self.columns = [_cell_text(cell) for cell in row]
                self._header_line = number
                break
        else:
            self._book.close()
            raise FileError(self.name, "the workbook's first sheet is empty")

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        width = len(self.columns)
        limit = self.limits.cell_chars
        buffer: list[list[str]] = []
        lines: list[int] = []
        line = self._header_line
        rows = self._sheet.iter_rows(min_row=self._header_line + 1, max_col=width, values_only=True)
        try:
            for row in rows:
                line += 1
                if not any(cell not in (None, "") for cell in row):
                    continue
                cells = [_cell_text(cell) for cell in row]
                for position, cell in enumerate(cells):
                    if len(cell) > limit:
                        raise LimitError(
                            self.name,
                            "cell_chars",
                            limit,
                            found=f"{len(cell):,} characters",
                            line=line,
                            column=self.columns[position],
                        )
                buffer.append(cells + [""] * (width - len(cells)))
                lines.append(line)
                if len(buffer) >= chunk_rows:
                    yield Chunk(
                        pd.DataFrame(buffer, columns=self.columns, dtype=str), np.array(lines)
                    )
                    buffer, lines = [], []
            if buffer:
                yield Chunk(pd.DataFrame(buffer, columns=self.columns, dtype=str), np.array(lines))
        finally:
            self._book.close()


class ParquetTable(Table):
    """A Parquet file read batch by batch; 'line' means the row number plus one (header).

    The file's own metadata is checked before any value is decoded: the column count, the
    decoded size of every row group, each column chunk's mean value size (a mean over the
    cell limit means some cell is over it) and, for a column chunk larger decoded than
    ``Limits.part_bytes``, every page's decompressed size and mean value size from the page
    headers, so a few kilobytes of compressed repetition cannot unfold into gigabytes, nor
    one 300 MB cell hide among small ones. Batches are sized so one holds about ``_BATCH_BYTES``."""

    kind = "parquet"
    _BATCH_BYTES = 64 * 2**20

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        super().__init__(path, limits)
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(path)
            # Text columns are read dictionary-encoded: a value repeated in every row is held
            # (and its length checked) once, however many rows repeat it.
            text = [f.name for f in schema if pa.types.is_string(f.type)]
            self._file = pq.ParquetFile(path, read_dictionary=text)
        except Exception as exc:  # pyarrow's ArrowInvalid and friends
            raise FileError(self.name, f"not a readable Parquet file ({exc})") from None
        self.columns = list(schema.names)
        if len(self.columns) > self.limits.columns:
            return  # refused by _check_columns, with the count
        for field in schema:
            if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
                raise FileError(
                    self.name,
                    f"column {field.name!r} holds binary data, not text or numbers; "
                    "export it as text",
                    line=1,
                )
            if pa.types.is_nested(field.type):
                raise FileError(
                    self.name,
                    f"column {field.name!r} holds nested values ({field.type}), not a plain "
                    "table column",
                    line=1,
                )
        self._row_bytes = self._check_metadata()

    def _check_metadata(self) -> int:
        """Refuse what the metadata already shows to be over a limit; return the largest mean
        decoded bytes per row, for sizing batches."""
        meta = self._file.metadata
        limits = self.limits
        total = 0
        row_bytes = 1
        for group_index in range(meta.num_row_groups):
            group = meta.row_group(group_index)
            total += group.total_byte_size
            if total > limits.decompressed_bytes:
                raise LimitError(
                    self.name,
                    "decompressed_bytes",
                    limits.decompressed_bytes,
                    found=f"row groups hold {total:,} bytes or more when decoded",
                )
            rows = max(group.num_rows, 1)
            row_bytes = max(row_bytes, group.total_byte_size // rows)
            for column_index in range(group.num_columns):
                chunk = group.column(column_index)
                column = self.columns[column_index] if column_index < len(self.columns) else None
                self._check_mean(chunk.total_uncompressed_size, chunk.num_values, column)
                if chunk.total_uncompressed_size > limits.part_bytes:
                    # Small enough in all, no page of it can be larger; else each page is
                    # checked from its header, before one is decompressed.
                    self._check_pages(chunk, column)
        return row_bytes

    def _check_mean(self, decoded_bytes: int, values: int, column: str | None) -> None:
        """UTF-8 takes at most 4 bytes per character, and a size counts a little page
        overhead: a mean above 4 bytes x the cell limit proves a cell over it."""
        mean = decoded_bytes / max(values, 1)
        if mean > 4 * self.limits.cell_chars + 64:
            raise LimitError(
                self.name,
                "cell_chars",
                self.limits.cell_chars,
                found=f"cells of about {int(mean):,} bytes on average",
                column=column,
            )

    def _check_pages(self, chunk, column: str | None) -> None:
        """Every page of a column chunk, from its header (``gvrs.data.parquetpages``): a
        page is decompressed whole before its first value is read, and one value is never
        split across pages, so one huge cell makes one huge page."""
        offsets = [o for o in (chunk.dictionary_page_offset, chunk.data_page_offset) if o]
        try:
            with open(self.path, "rb") as fh:
                pages = column_pages(fh, min(offsets), chunk.total_compressed_size)
        except (PageHeaderError, OSError, ValueError) as exc:
            raise FileError(self.name, f"not a readable Parquet file ({exc})") from None
        for page in pages:
            self._check_mean(page.uncompressed_bytes, page.values, column)
            if page.uncompressed_bytes > self.limits.part_bytes:
                raise LimitError(
                    self.name,
                    "part_bytes",
                    self.limits.part_bytes,
                    found=f"a page of {page.uncompressed_bytes:,} bytes decompressed",
                    column=column,
                )

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        next_line = 2
        batch_rows = max(1, min(chunk_rows, self._BATCH_BYTES // self._row_bytes))
        for batch in self._file.iter_batches(batch_size=batch_rows):
            table = pa.Table.from_batches([batch])
            self._check_cells(table, next_line)
            frame = table.to_pandas()  # dictionary columns become categoricals
            text = pd.DataFrame(
                {name: _column_text(frame[name]) for name in frame.columns}, index=frame.index
            )
            lines = np.arange(next_line, next_line + len(text), dtype=np.int64)
            next_line += len(text)
            yield Chunk(text, lines)


# Floats beyond 2**53 are not whole numbers a records system meant (and cannot be held as
# 64-bit integers): they are written as floats.
_EXACT_INTEGER = 2.0**53


def _column_text(series: pd.Series) -> pd.Series:
    """Typed Parquet values as the strings a CSV export would hold."""
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series.dt.strftime("%Y-%m-%dT%H:%M:%S")
    elif isinstance(series.dtype, pd.CategoricalDtype):
        out = series.astype(object).astype(str)
    elif pd.api.types.is_float_dtype(series):
        integral = series.notna() & (series % 1 == 0) & (series.abs() < _EXACT_INTEGER)
        out = series.astype(object).where(~integral, series.where(integral).astype("Int64"))
        out = out.astype(str)
    else:
        out = series.astype(str)
    return out.where(series.notna(), "").astype(str)
