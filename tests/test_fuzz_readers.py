"""Hypothesis fuzzing of the readers and the import (issue 12): whatever the bytes, reading
ends in rows or a FileError naming the file, never another exception; an import that fails
leaves the registry as it was."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gvrs.data.errors import FileError
from gvrs.data.limits import Limits
from gvrs.data.mapping import load_format
from gvrs.data.readers import open_table
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident
from tests.importing_helpers import HEADER

SMALL = Limits(
    upload_bytes=2**20, decompressed_bytes=2**20, line_bytes=4096, cell_chars=1000, columns=50
)
MAGIC = [b"", b"\x1f\x8b\x08\x00", b"PK\x03\x04", b"PAR1", b"\xef\xbb\xbf", b"\xff\xfe"]


def read(path: Path) -> int:
    try:
        return sum(len(c.frame) for c in open_table(path, limits=SMALL).chunks())
    except FileError as exc:
        message = str(exc)
    assert message.startswith(("fuzz", str(path)))  # names the file
    return -1


@settings(max_examples=300, deadline=None)
@given(prefix=st.sampled_from(MAGIC), body=st.binary(max_size=3000))
def test_any_bytes_are_rows_or_a_file_error(prefix, body):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.bin"
        path.write_bytes(prefix + body)
        read(path)


cells = st.one_of(
    st.text(alphabet=st.sampled_from(list('ab,;"\n\r\t =+-@1.0\x00é')), max_size=30),
    st.sampled_from(["2022-03-04", "homicide", "1", "0", "35.3", "-119.0", "Bakersfield"]),
)


@settings(max_examples=200, deadline=None)
@given(
    header=st.lists(st.sampled_from([*HEADER, "x", ""]), min_size=1, max_size=18),
    rows=st.lists(st.lists(cells, max_size=18), max_size=12),
    compress=st.booleans(),
)
# Found by this test: two empty column names crashed the cell-length check.
@example(header=["", ""], rows=[], compress=False)
@example(header=["", "", "x"], rows=[["1", "2", "3"]], compress=True)
def test_any_delimited_text_is_rows_or_a_file_error(header, rows, compress):
    text = "\n".join(",".join(r) for r in [header, *rows]).encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(gzip.compress(text) if compress else text)
        read(path)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(cells, min_size=len(HEADER), max_size=len(HEADER)), max_size=6))
def test_a_fuzzed_import_stores_all_or_nothing(tmp_path, rows):
    before = Incident.objects.count()
    path = tmp_path / "fuzz.csv"
    path.write_bytes(
        "\n".join(
            ",".join(f'"{c.replace(chr(34), "")}"' for c in r) for r in [HEADER, *rows]
        ).encode()
    )
    try:
        report = import_file(path, load_format("gvrs"))
    except FileError:
        assert Incident.objects.count() == before
        return
    if not report.ok:
        assert Incident.objects.count() == before
