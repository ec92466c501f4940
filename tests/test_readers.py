"""Reading delimited text: pyarrow for UTF-8, pandas for the rest and for what pyarrow refuses.

Whichever parser reads a file, the chunks must hold the same cells with the same line numbers.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from gvrs.data.errors import FileError
from gvrs.data.readers import open_table


def read(path, chunk_rows=3) -> tuple[pd.DataFrame, np.ndarray, list[int]]:
    chunks = list(open_table(path).chunks(chunk_rows))
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    return frame, np.concatenate([c.lines for c in chunks]), [len(c.frame) for c in chunks]


def rows_text(n: int) -> str:
    return "id,name,note\n" + "".join(f"R{i},name {i},note {i}\n" for i in range(n))


def test_utf8_text_is_read_in_chunks_of_the_size_asked_with_file_line_numbers(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(rows_text(8), encoding="utf-8")
    frame, lines, sizes = read(path)
    assert sizes == [3, 3, 2]
    assert list(lines) == list(range(2, 10))
    assert list(frame.columns) == ["id", "name", "note"]
    assert frame.iloc[7].tolist() == ["R7", "name 7", "note 7"]


def test_quoted_delimiters_newlines_and_empty_cells_are_kept_as_text(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('id,name,note\nR1,"Smith, J","two\nlines"\nR2,,"say ""hi"""\n')
    frame, _, _ = read(path)
    assert frame.to_dict("records") == [
        {"id": "R1", "name": "Smith, J", "note": "two\nlines"},
        {"id": "R2", "name": "", "note": 'say "hi"'},
    ]


def test_a_short_row_after_the_first_chunks_is_read_on_by_pandas_without_losing_rows(tmp_path):
    text = rows_text(7) + "R7,name 7\n" + "R8,name 8,note 8\n"
    path = tmp_path / "in.csv"
    path.write_text(text)
    frame, lines, _ = read(path)
    assert list(frame["id"]) == [f"R{i}" for i in range(9)]
    assert list(lines) == list(range(2, 11))
    assert frame.iloc[7]["note"] == ""


def test_pyarrow_and_pandas_read_a_real_export_identically(tmp_path):
    """The same file as UTF-8 (pyarrow) and as Windows-1252 (pandas)."""
    rows = [f"P{i},Café {i},{i * 1.5},\n" for i in range(50)]
    text = "id,place,value,empty\n" + "".join(rows)
    utf8, legacy = tmp_path / "utf8.csv", tmp_path / "legacy.csv"
    utf8.write_text(text, encoding="utf-8")
    legacy.write_bytes(text.encode("cp1252"))
    assert open_table(legacy).encoding != "utf-8"
    a, lines_a, _ = read(utf8, chunk_rows=7)
    b, lines_b, _ = read(legacy, chunk_rows=7)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert list(lines_a) == list(lines_b)


def test_gzip_is_read_through_pyarrow_too(tmp_path):
    path = tmp_path / "in.csv.gz"
    path.write_bytes(gzip.compress(rows_text(5).encode()))
    frame, _, sizes = read(path)
    assert sizes == [3, 2] and frame.iloc[4]["id"] == "R4"


def test_bytes_that_are_not_utf8_deep_in_a_file_are_named_by_line(tmp_path):
    path = tmp_path / "in.csv"
    body = rows_text(3000).encode() + b"R9,caf\xe9 \xc3\xa9,x\n"
    path.write_bytes(body)
    with pytest.raises(FileError) as caught:
        read(path, chunk_rows=1000)
    assert caught.value.line == 3002
