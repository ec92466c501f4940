"""Hostile files (findings 2, 3 and 8 of issue 12): each refused with a message naming the
limit and its setting, or read within bounds, and nothing stored by a refused import."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.data.errors import FileError
from gvrs.data.limits import LimitError, Limits
from gvrs.data.mapping import MappingError, load_format, load_mapping
from gvrs.data.readers import open_table
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import ImportRun, Incident
from tests import hostile
from tests.importing_helpers import row, write_csv

ROOT = Path(__file__).resolve().parents[1]
GVRS = load_format("gvrs")


def read_all(path: Path, **kwargs) -> list:
    return list(open_table(path, **kwargs).chunks())


def test_the_default_limits_are_the_documented_ones():
    limits = Limits()
    assert limits.part_bytes == 256 * 2**20
    assert limits.upload_bytes == 512 * 2**20
    assert limits.columns == 1_000
    assert limits.line_bytes == 2**20
    assert limits.cell_chars == 32_767
    assert limits.decompressed_bytes == 4 * 2**30
    assert limits.incident_rows == 10_000


def test_a_gzip_holding_one_endless_line_is_refused_at_the_line_limit(tmp_path):
    path = hostile.gzip_one_long_line(tmp_path / "long.csv.gz", 8 * 2**20)
    assert path.stat().st_size < 100_000
    with pytest.raises(LimitError, match="GVRS_MAX_LINE_BYTES") as caught:
        read_all(path)
    assert "1,048,576 bytes" in str(caught.value)
    assert caught.value.line == 2


def test_a_line_limit_set_lower_is_the_one_applied(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "in.csv", [row("A-1"), row("A-2", area="q" * 3000)])
    read_all(path)
    monkeypatch.setenv("GVRS_MAX_LINE_BYTES", "2000")
    with pytest.raises(LimitError, match=r"line 3: .*2,000 bytes.*GVRS_MAX_LINE_BYTES"):
        read_all(path)


def test_a_decompression_bomb_stops_at_the_decompressed_limit(tmp_path, monkeypatch):
    path = hostile.gzip_bomb(tmp_path / "bomb.csv.gz", 3 * 2**20)
    monkeypatch.setenv("GVRS_MAX_DECOMPRESSED_BYTES", str(2**20))
    with pytest.raises(LimitError, match=r"decompressed content.*GVRS_MAX_DECOMPRESSED_BYTES"):
        read_all(path)


def test_a_plain_file_over_the_decompressed_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "in.csv", [row(f"A-{i}") for i in range(200)])
    monkeypatch.setenv("GVRS_MAX_DECOMPRESSED_BYTES", "1000")
    with pytest.raises(LimitError, match="GVRS_MAX_DECOMPRESSED_BYTES"):
        open_table(path)


def test_parquet_of_huge_dictionary_cells_is_refused_without_expanding_them(tmp_path):
    path = hostile.parquet_huge_cells(tmp_path / "cells.parquet")
    assert path.stat().st_size < 200_000
    with pytest.raises(LimitError, match=r"column 'area'.*32,767 characters.*MAX_CELL_CHARS"):
        read_all(path)


def test_parquet_of_huge_plain_cells_is_refused_from_its_metadata(tmp_path):
    path = hostile.parquet_plain_huge_cells(tmp_path / "plain.parquet")
    with pytest.raises(LimitError, match="GVRS_MAX_CELL_CHARS"):
        open_table(path)


def test_a_long_csv_cell_is_refused_with_its_line_and_column(tmp_path):
    path = hostile.csv_long_cell(tmp_path / "cell.csv")
    with pytest.raises(LimitError) as caught:
        read_all(path)
    message = str(caught.value)
    assert "line 3" in message and "column 'area'" in message
    assert "40,000 characters" in message and "GVRS_MAX_CELL_CHARS" in message


def test_a_long_record_of_short_quoted_lines_is_refused(tmp_path):
    path = hostile.csv_quoted_long_record(tmp_path / "record.csv")
    with pytest.raises(LimitError, match="GVRS_MAX_LINE_BYTES"):
        read_all(path)


def test_more_columns_than_the_limit_are_refused(tmp_path):
    with pytest.raises(LimitError, match=r"1,001 columns.*GVRS_MAX_COLUMNS"):
        open_table(hostile.csv_many_columns(tmp_path / "wide.csv"))
    read_all(hostile.csv_many_columns(tmp_path / "ok.csv", 1_000))


def test_xlsx_rows_and_columns_come_from_real_cells_not_the_declared_dimension(tmp_path):
    """The review's 1.8 KB workbook claiming A1:XFD1048576 kept a worker busy 7 minutes:
    openpyxl padded a million rows to 16,384 cells. Now its one data row is read as it is."""
    table = open_table(hostile.xlsx_false_dimension(tmp_path / "dim.xlsx"))
    assert len(table.columns) == len(hostile.HEADER)
    chunks = list(table.chunks())
    assert sum(len(c.frame) for c in chunks) == 1
    assert chunks[0].frame.shape == (1, len(hostile.HEADER))
    assert chunks[0].lines.tolist() == [1_048_576]


def test_an_xlsx_header_reaching_column_xfd_is_refused(tmp_path):
    with pytest.raises(LimitError, match=r"column 16,384.*GVRS_MAX_COLUMNS"):
        open_table(hostile.xlsx_wide_header(tmp_path / "wide.xlsx"))


def test_a_parquet_binary_column_is_refused_by_name(tmp_path):
    with pytest.raises(FileError, match="column 'area' holds binary data"):
        open_table(hostile.parquet_binary_column(tmp_path / "bin.parquet"))


def test_duplicate_column_names_are_refused(tmp_path):
    with pytest.raises(FileError, match=r"'area' appears twice.*columns 5 and 16"):
        open_table(hostile.csv_duplicate_columns(tmp_path / "dup.csv"))


def test_a_folder_or_a_device_is_not_a_table(tmp_path):
    with pytest.raises(FileError, match="is a folder"):
        open_table(tmp_path)
    with pytest.raises(FileError, match="not a regular file"):
        open_table("/dev/zero")


@pytest.mark.django_db
def test_a_float_of_1e308_is_a_row_error_not_a_crash(tmp_path):
    report = import_file(hostile.parquet_huge_float(tmp_path / "f.parquet"), load_format("gvrs"))
    assert not report.ok
    reasons = {(e.column, e.reason) for e in report.errors}
    assert ("killed", "count over 1,000 people in one row") in reasons
    assert ("latitude", "out of range (-90 to 90 degrees)") in reasons
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_a_nul_byte_in_a_text_cell_is_a_row_error_on_both_engines(tmp_path):
    path = hostile.csv_nul_byte(tmp_path / "nul.csv")
    report = import_file(path, load_format("gvrs"))
    assert not report.ok
    (error,) = report.errors
    assert (error.line, error.column) == (12_002, "area")
    assert "NUL" in error.reason
    assert Incident.objects.count() == 0
    report = import_file(path, load_format("gvrs"), accept_valid=True)
    assert report.ok and Incident.objects.count() == 12_000


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make",
    [
        lambda d: hostile.gzip_one_long_line(d / "long.csv.gz", 4 * 2**20),
        lambda d: hostile.parquet_huge_cells(d / "cells.parquet"),
        lambda d: hostile.csv_long_cell(d / "cell.csv"),
        lambda d: hostile.csv_many_columns(d / "wide.csv"),
        lambda d: hostile.csv_duplicate_columns(d / "dup.csv"),
        lambda d: hostile.parquet_binary_column(d / "bin.parquet"),
        lambda d: hostile.xlsx_wide_header(d / "wide.xlsx"),
        lambda d: hostile.gzip_one_incident(d / "incident.csv.gz", 12_000),
    ],
    ids=[
        "long-line",
        "parquet-cells",
        "long-cell",
        "columns",
        "duplicates",
        "binary",
        "xlsx",
        "one-incident",
    ],
)
def test_the_import_command_refuses_each_hostile_file_and_records_why(tmp_path, make):
    assert import_file(write_csv(tmp_path / "ok.csv", [row("K-1")]), load_format("gvrs")).ok
    path = make(tmp_path)
    with pytest.raises(CommandError) as caught:
        call_command("import", str(path), format="gvrs")
    assert caught.value.returncode == 1
    assert path.name in str(caught.value)
    run = ImportRun.objects.latest("pk")
    assert run.status == ImportRun.Status.FAILED
    assert run.message == str(caught.value) and run.finished_at is not None
    assert list(Incident.objects.values_list("source_id", flat=True)) == ["K-1"]


def giant_incident_rows(giant: int) -> list[dict[str, str]]:
    """Five small incidents (lines 2-6), G-1 with ``giant`` victims' rows (from line 7), then
    five more small ones."""
    rows = [row(f"A-{i}") for i in range(5)]
    rows += [row("G-1", killed="0", injured="1", victim_age=str(20 + i)) for i in range(giant)]
    return rows + [row(f"B-{i}") for i in range(5)]


@pytest.mark.django_db
@pytest.mark.parametrize("way", ["direct", "staged"])
def test_an_incident_over_the_row_limit_is_refused_at_its_first_row_past_it(
    tmp_path, monkeypatch, way
):
    """An incident's rows are held in memory until it closes: one endless incident (the
    review's gzip of one giant incident peaked at 4.1 GB) stops at the limit, whichever way
    the import writes (a source already in the registry is staged)."""
    if way == "staged":
        assert import_file(write_csv(tmp_path / "k.csv", [row("K-1")]), GVRS, source=way).ok
    monkeypatch.setenv("GVRS_MAX_INCIDENT_ROWS", "10")
    path = write_csv(tmp_path / "giant.csv", giant_incident_rows(12))
    with pytest.raises(LimitError) as caught:
        import_file(path, GVRS, source=way, chunk_rows=4)
    assert str(caught.value) == (
        "giant.csv: line 17: one incident is over the limit of 10 rows (incident 'G-1'); "
        "the limit is set by GVRS_MAX_INCIDENT_ROWS"
    )
    run = ImportRun.objects.latest("pk")
    assert run.status == ImportRun.Status.FAILED and run.message == str(caught.value)
    expected = ["K-1"] if way == "staged" else []
    assert list(Incident.objects.filter(source=way).values_list("source_id", flat=True)) == (
        expected
    )


@pytest.mark.django_db
@pytest.mark.parametrize("way", ["direct", "staged"])
def test_an_incident_of_exactly_the_row_limit_is_imported(tmp_path, monkeypatch, way):
    if way == "staged":
        assert import_file(write_csv(tmp_path / "k.csv", [row("K-1")]), GVRS, source=way).ok
    monkeypatch.setenv("GVRS_MAX_INCIDENT_ROWS", "10")
    path = write_csv(tmp_path / "giant.csv", giant_incident_rows(10))
    assert import_file(path, GVRS, source=way, chunk_rows=4).ok
    giant = Incident.objects.get(source=way, source_id="G-1")
    assert (giant.injured, giant.people.count()) == (10, 10)


@pytest.mark.django_db
def test_an_incident_limit_set_higher_lets_a_larger_incident_in(tmp_path, monkeypatch):
    path = hostile.gzip_one_incident(tmp_path / "one.csv.gz", 10_001)
    with pytest.raises(LimitError, match=r"line 10002: .*incident .G-1."):
        import_file(path, GVRS)
    monkeypatch.setenv("GVRS_MAX_INCIDENT_ROWS", "10001")
    assert import_file(path, GVRS).ok
    assert Incident.objects.get(source_id="G-1").people.count() == 10_001


# A process's own peak resident memory: VmHWM of its own address space. The kernel's
# ru_maxrss would also count the pytest process it was forked from (Linux carries it over
# exec), whose size depends on what ran before it in the suite: a gigabyte late in a suite.
_HIGH_WATER_KB = (
    "def high_water_kb():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            return int(line.split()[1])\n"
)
# The command's own peak, read by itself as it exits.
_PEAK_AT_EXIT = (
    "import atexit, sys\n"
    + _HIGH_WATER_KB
    + "atexit.register(lambda: print('peak-kb', high_water_kb(), file=sys.stderr))\n"
    "from gvrs.cli import main\n"
    "main(sys.argv[1:])\n"
)


def test_importing_one_giant_incident_stays_far_under_a_gigabyte(tmp_path):
    """A million rows of one incident, imported by ``gvrs import`` in a process of its own:
    refused at the limit, having held at most the limit and one chunk of rows."""
    path = hostile.gzip_one_incident(tmp_path / "one.csv.gz", 1_000_000)
    env = {**os.environ, "GVRS_HOME": str(tmp_path / "home"), "GVRS_DEFAULT_STATE": "CA"}
    env.pop("GVRS_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_AT_EXIT, "import", str(path), "--format", "gvrs"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "one.csv.gz: line 10002: one incident is over the limit of 10,000 rows" in output
    assert "GVRS_MAX_INCIDENT_ROWS" in output, output
    peak_kb = int(output.split("peak-kb ")[1].split()[0])
    assert peak_kb < 600 * 1024, peak_kb  # under 600 MB


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'[format]\nname="x"\n[columns]\nsource_id="id"\nkind="k"\n'
            b'occurred_at={column="d", format="%Q"}\n',
            "columns.occurred_at.format: 'Q' is a bad directive",
        ),
        (b'[format]\nname="caf\xe9"\n', "line 2: bytes b'\\xe9' are not UTF-8"),
    ],
)
def test_a_broken_mapping_is_refused_by_name(tmp_path, content, message):
    path = tmp_path / "m.toml"
    path.write_bytes(content)
    with pytest.raises(MappingError, match=re.escape(message)):
        load_mapping(path)


@pytest.mark.parametrize(
    ("where", "message"), [("folder", "is a folder"), ("/dev/zero", "not a regular file")]
)
def test_a_folder_or_a_device_as_mapping_is_a_usage_error(tmp_path, db, where, message):
    data = write_csv(tmp_path / "in.csv", [row("A-1")])
    mapping = tmp_path if where == "folder" else Path(where)
    with pytest.raises(CommandError, match=message) as caught:
        call_command("import", str(data), mapping=str(mapping))
    assert caught.value.returncode == 2


WORST = {
    "gzip-one-long-line": ("gzip_one_long_line", "f.csv.gz", 64 * 2**20),
    "parquet-huge-cells": ("parquet_huge_cells", "f.parquet"),
    "xlsx-false-dimension": ("xlsx_false_dimension", "f.xlsx"),
}


@pytest.mark.parametrize("name", list(WORST))
def test_reading_the_worst_files_stays_far_under_a_gigabyte(tmp_path, name):
    """In a fresh process, so its peak resident memory is this file's alone: the file is
    made in another process first (making a file of 20 million strings or a 300 MB cell took
    a gigabyte of its own, which counted as the reader's when both ran in one process)."""
    maker, file_name, *arguments = WORST[name]
    path = _make_in_a_process_of_its_own(maker, tmp_path / file_name, *arguments)
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
{_HIGH_WATER_KB}
from pathlib import Path
from gvrs.data.readers import open_table
from gvrs.data.errors import FileError
before = high_water_kb()
try:
    rows = sum(len(c.frame) for c in open_table(Path({str(path)!r})).chunks())
    outcome = f"read {{rows}} rows"
except FileError as exc:
    outcome = str(exc)
after = high_water_kb()
print(json.dumps({{"before_kb": before, "peak_kb": after, "outcome": outcome}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["peak_kb"] < 1024 * 1024, result  # under 1 GB
    # Reading adds little to what importing gvrs's readers took.
    assert result["peak_kb"] - result["before_kb"] < 300 * 1024, result


def _make_in_a_process_of_its_own(maker: str, path: Path, *arguments) -> Path:
    """Build a hostile file in another process: making a 300 MB cell takes memory that must
    not count towards the reader's peak, nor swell the test run."""
    extra = "".join(f", {a!r}" for a in arguments)
    script = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\nfrom tests import hostile\n"
        f"hostile.{maker}(Path({str(path)!r}){extra})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=600)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("maker", "name", "on_disk", "message"),
    [
        (
            "xlsx_many_shared_strings",
            "strings.xlsx",
            1_000_000,
            r"strings\.xlsx: .*shared strings.* over the limit of 268,435,456 bytes"
            r" \(4,7\d\d,\d\d\d shared strings or more\); the limit is set by GVRS_MAX_PART_BYTES",
        ),
        (
            "parquet_one_huge_cell",
            "cell.parquet",
            1_000_000,
            r"cell\.parquet: column 'area': .*over the limit of"
            r" (32,767 characters|268,435,456 bytes).*GVRS_MAX_(CELL_CHARS|PART_BYTES)",
        ),
        (
            "xlsx_huge_inline_cell",
            "inline.xlsx",
            1_000_000,
            r"inline\.xlsx: a cell is over the limit of 32,767 characters.*GVRS_MAX_CELL_CHARS",
        ),
    ],
)
def test_a_small_file_that_unfolds_into_a_huge_part_is_refused_under_a_gigabyte(
    tmp_path, maker, name, on_disk, message
):
    """Issue 24: an 875 KB XLSX of 20 million shared strings peaked at 3.3 GB and imported; a
    946 KB Parquet file with one 300 MB cell held 1.24 GB before its refusal. ``gvrs import``,
    in a process of its own, now refuses each, naming the file and the limit, with its peak
    resident memory (the process's own high-water mark, VmHWM) under 1 GB."""
    path = _make_in_a_process_of_its_own(maker, tmp_path / name)
    assert path.stat().st_size < on_disk
    env = {**os.environ, "GVRS_HOME": str(tmp_path / "home"), "GVRS_DEFAULT_STATE": "CA"}
    env.pop("GVRS_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_AT_EXIT, "import", str(path), "--format", "gvrs"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert re.search(message, output), output
    peak_kb = int(output.split("peak-kb ")[1].split()[0])
    assert peak_kb < 1024 * 1024, peak_kb


def test_shared_strings_within_the_limit_are_read_as_openpyxl_reads_them(tmp_path, monkeypatch):
    """The bounded reader gives the cells openpyxl's own gives: escapes, rich-text runs,
    phonetic runs left out, spaces kept."""
    import openpyxl

    strings = [
        b"<si><t>source_id</t></si>",
        b"<si><t>area</t></si>",
        b"<si><t>note</t></si>",
        b"<si><t>A-1</t></si>",
        b"<si><t>East &amp; West &lt;side&gt;</t></si>",
        b'<si><r><rPr><b/></rPr><t>Bold</t></r><r><t xml:space="preserve"> and plain</t></r></si>',
        '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></si>'.encode(),
        b'<si><t xml:space="preserve">line one\nline two</t></si>',
    ]
    rows = hostile._shared_row(1, [0, 1, 2]) + hostile._shared_row(2, [3, 4, 5])
    rows += hostile._shared_row(3, [3, 6, 7])
    path = hostile._xlsx(tmp_path / "book.xlsx", rows, "A1:C3", strings, len(strings))
    reference = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
    expected = [
        [str(v).strip() for v in r] for r in reference.iter_rows(min_row=2, values_only=True)
    ]
    assert expected[1][1] == "漢字"
    assert read_all(path)[0].frame.values.tolist() == expected
    # The count of strings alone is enough to refuse a workbook over a lower limit.
    monkeypatch.setenv("GVRS_MAX_PART_BYTES", "300")
    with pytest.raises(LimitError, match=r"book\.xlsx: .*over the limit of 300 bytes"):
        read_all(path)
