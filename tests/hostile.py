"""Small generated hostile files, one per class found in the review of issue 12 (used by the
hostile-files tests and by ``bench/hostile_bench.py``). Each is a few kilobytes on disk."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.importing_helpers import HEADER, row

HEADER_LINE = ",".join(HEADER)


def _csv_line(values: dict[str, str]) -> str:
    return ",".join(values.get(c, "") for c in HEADER)


def gzip_one_long_line(path: Path, line_bytes: int) -> Path:
    """A gzip holding the canonical header and one line of ``line_bytes`` bytes, no newline
    (the review's 9.4 MB gzip held a 2 GB line)."""
    block = b"a" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=6) as fh:
        fh.write(HEADER_LINE.encode() + b"\n")
        for _ in range(line_bytes // len(block)):
            fh.write(block)
        fh.write(b"a" * (line_bytes % len(block)))
    return path


def gzip_bomb(path: Path, decompressed_bytes: int) -> Path:
    """Valid short rows, repeated until the content is ``decompressed_bytes`` long."""
    line = (_csv_line(row("A-1")) + "\n").encode()
    block = line * ((1 << 20) // len(line))
    with gzip.open(path, "wb", compresslevel=6) as fh:
        fh.write(HEADER_LINE.encode() + b"\n")
        for _ in range(decompressed_bytes // len(block) + 1):
            fh.write(block)
    return path


def gzip_one_incident(path: Path, rows: int) -> Path:
    """``rows`` rows of one incident, ``G-1``, each a victim, gzipped (a few KB a million
    rows): every row is held in memory until the incident closes, unless refused."""
    lines = [
        _csv_line(row("G-1", killed="0", injured="1", victim_age=str(16 + i % 50)))
        for i in range(50)
    ]
    block = ("\n".join(lines) + "\n").encode()
    with gzip.open(path, "wb", compresslevel=6) as fh:
        fh.write(HEADER_LINE.encode() + b"\n")
        for _ in range(rows // 50):
            fh.write(block)
        fh.write(("\n".join(lines[: rows % 50]) + "\n").encode() if rows % 50 else b"")
    return path


def parquet_huge_cells(path: Path, cells: int = 200, cell_bytes: int = 5 * 2**20) -> Path:
    """``cells`` rows whose ``area`` is the same ``cell_bytes`` string, dictionary-encoded:
    a few kilobytes on disk, ``cells x cell_bytes`` decoded (the review: 2.6 KB, 1 GB)."""
    value = pa.array(["x" * cell_bytes])
    area = pa.DictionaryArray.from_arrays(pa.array([0] * cells, pa.int32()), value)
    base = row("A-1")
    columns = {c: pa.array([base[c]] * cells) for c in HEADER if c != "area"}
    columns["source_id"] = pa.array([f"P-{i}" for i in range(cells)])
    columns["area"] = area
    pq.write_table(pa.table(columns), path, compression="zstd")
    return path


def parquet_plain_huge_cells(path: Path, cells: int = 4, cell_bytes: int = 2**20) -> Path:
    """Huge cells written plain (no dictionary), compressed."""
    base = row("A-1")
    columns = {c: pa.array([base[c]] * cells) for c in HEADER}
    columns["area"] = pa.array(["y" * cell_bytes] * cells)
    pq.write_table(pa.table(columns), path, compression="zstd", use_dictionary=False)
    return path


def parquet_binary_column(path: Path) -> Path:
    base = row("A-1")
    columns = {c: pa.array([base[c]]) for c in HEADER}
    columns["area"] = pa.array([b"\x00\xff"], pa.binary())
    pq.write_table(pa.table(columns), path)
    return path


def parquet_huge_float(path: Path) -> Path:
    base = row("A-1")
    columns = {c: pa.array([base[c]]) for c in HEADER}
    columns["killed"] = pa.array([1e308])
    columns["latitude"] = pa.array([1e308])
    pq.write_table(pa.table(columns), path)
    return path


def _xlsx(
    path: Path, sheet_rows: str, dimension: str, shared_strings=None, strings_declared: int = 0
) -> Path:
    """A minimal workbook written by hand, so its declared dimension can lie.
    ``shared_strings``: an iterable of byte blocks, streamed into xl/sharedStrings.xml."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{sheet_rows}</sheetData></worksheet>'
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            + (
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                if shared_strings is not None
                else ""
            )
            + "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        if shared_strings is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
                    + f' count="{strings_declared}" uniqueCount="{strings_declared}">'.encode()
                )
                for block in shared_strings:
                    part.write(block)
                part.write(b"</sst>")
    return path


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xlsx_row(number: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{_column_letters(i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values, start=1)
    )
    return f'<row r="{number}">{cells}</row>'


def xlsx_false_dimension(path: Path) -> Path:
    """Declared A1:XFD1048576; a header and one data row at 1,048,576 (the review: 1.8 KB,
    7 minutes of CPU)."""
    base = row("A-1")
    rows = _xlsx_row(1, HEADER) + _xlsx_row(1_048_576, [base[c] for c in HEADER])
    return _xlsx(path, rows, "A1:XFD1048576")


def _shared_row(number: int, indexes: list[int]) -> str:
    cells = "".join(
        f'<c r="{_column_letters(i)}{number}" t="s"><v>{index}</v></c>'
        for i, index in enumerate(indexes, start=1)
    )
    return f'<row r="{number}">{cells}</row>'


def xlsx_many_shared_strings(path: Path, strings: int = 20_000_000) -> Path:
    """The canonical header and one row, whose text is in the shared strings, followed by
    ``strings`` more one-letter shared strings (the review: 875 KB, 20 M strings, a 3.3 GB
    peak in openpyxl)."""
    base = row("A-1")
    texts = [*HEADER, *(base[c] for c in HEADER)]

    def blocks():
        yield "".join(f"<si><t>{t}</t></si>" for t in texts).encode()
        block = b"<si><t>a</t></si>" * 65_536
        for _ in range(strings // 65_536):
            yield block
        yield b"<si><t>a</t></si>" * (strings % 65_536)

    width = len(HEADER)
    rows = _shared_row(1, list(range(width))) + _shared_row(2, list(range(width, 2 * width)))
    return _xlsx(
        path, rows, f"A1:{_column_letters(width)}2", blocks(), strings_declared=len(texts) + strings
    )


def xlsx_huge_inline_cell(path: Path, cell_bytes: int = 300 * 2**20) -> Path:
    """One row whose ``area`` is an inline string of ``cell_bytes`` characters."""
    base = row("A-1")
    head = _xlsx_row(1, HEADER)
    values = [base[c] if c != "area" else "\0" for c in HEADER]
    body = _xlsx_row(2, values)
    before, after = body.split("\0")
    block = "z" * (1 << 20)
    sheet_rows = head + before + block * (cell_bytes // len(block)) + after
    return _xlsx(path, sheet_rows, "A1:Z2")


def parquet_one_huge_cell(
    path: Path, cell_bytes: int = 300 * 2**20, rows: int = 20_000, compression: str = "gzip"
) -> Path:
    """``rows`` valid rows, one of whose ``area`` cells is ``cell_bytes`` long, written plain:
    the column's mean value stays small (the review: 946 KB, one 300 MB cell, 1.24 GB held
    before the refusal)."""
    base = row("A-1")
    columns = {c: pa.array([base[c]] * rows) for c in HEADER}
    columns["source_id"] = pa.array([f"H-{i}" for i in range(rows)])
    areas = ["East Bakersfield"] * rows
    areas[rows // 2] = "x" * cell_bytes
    columns["area"] = pa.array(areas, pa.large_string())
    del areas
    pq.write_table(pa.table(columns), path, compression=compression, use_dictionary=False)
    return path


def xlsx_wide_header(path: Path) -> Path:
    """A header with one more cell at the last column, XFD (16,384)."""
    rows = (
        '<row r="1">'
        + "".join(
            f'<c r="{_column_letters(i)}1" t="inlineStr"><is><t>{c}</t></is></c>'
            for i, c in enumerate(HEADER, start=1)
        )
        + '<c r="XFD1" t="inlineStr"><is><t>far</t></is></c></row>'
    )
    return _xlsx(path, rows, "A1:XFD1")


def csv_many_columns(path: Path, columns: int = 1_001) -> Path:
    names = [f"c{i}" for i in range(columns)]
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    return path


def csv_long_cell(path: Path, chars: int = 40_000) -> Path:
    rows = [_csv_line(row("A-1")), _csv_line(row("A-2", area="z" * chars))]
    path.write_text(HEADER_LINE + "\n" + "\n".join(rows) + "\n")
    return path


def csv_quoted_long_record(path: Path, record_bytes: int = 3 * 2**20) -> Path:
    """One record with a quoted value of many short lines: no line is long, the record is."""
    value = '"' + ("b" * 99 + "\n") * (record_bytes // 100) + '"'
    line = _csv_line({**row("A-2"), "area": value})
    path.write_text(HEADER_LINE + "\n" + _csv_line(row("A-1")) + "\n" + line + "\n")
    return path


def csv_duplicate_columns(path: Path) -> Path:
    header = [*HEADER, "area"]
    values = row("A-1")
    path.write_text(
        ",".join(header) + "\n" + ",".join([values.get(c, "") for c in HEADER] + ["x"]) + "\n"
    )
    return path


def csv_nul_byte(path: Path) -> Path:
    """A NUL inside a text cell, after the first megabyte (the sniffing sample)."""
    lines = [_csv_line(row(f"A-{i}")) for i in range(12_000)]
    lines.append(_csv_line(row("A-NUL", area="East\x00Side")))
    path.write_text(HEADER_LINE + "\n" + "\n".join(lines) + "\n")
    return path
