"""Importing incidents: idempotence, updates in place, all-or-nothing, and every error class."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from gvrs.data.errors import FileError
from gvrs.data.mapping import MappingError, load_format, parse_mapping
from gvrs.incidents.importing import import_file
from gvrs.incidents.importing.places import PlaceError
from gvrs.incidents.models import Area, ImportRun, Incident, Jurisdiction, PersonInvolved
from tests.importing_helpers import HEADER, row, write_csv

pytestmark = pytest.mark.django_db
GVRS = load_format("gvrs")


def snapshot() -> tuple[int, int, int]:
    return Incident.objects.count(), PersonInvolved.objects.count(), Jurisdiction.objects.count()


def test_it_imports_one_incident_per_source_id_with_one_person_per_victim_row(tmp_path):
    path = write_csv(
        tmp_path / "in.csv",
        [
            row("A-1"),
            row("A-1", killed="0", injured="1", victim_age="22"),
            row("B-7", kind="nonfatal_shooting", killed="0", injured="1"),
        ],
    )
    report = import_file(path, GVRS)
    assert report.ok
    a1 = Incident.objects.get(source="gvrs", source_id="A-1")
    assert (a1.killed, a1.injured, a1.people.count()) == (1, 1, 2)
    assert str(a1.occurred_on) == "2022-03-04" and str(a1.occurred_time) == "21:15:00"
    assert a1.area.name == "East Bakersfield" and a1.jurisdiction.name == "Bakersfield"
    assert report.run.rows_inserted == 3 and report.run.incidents_inserted == 2
    assert report.run.file_sha256 and len(report.run.file_sha256) == 64


def test_reimporting_the_same_file_changes_nothing_and_says_so(tmp_path):
    path = write_csv(
        tmp_path / "in.csv", [row("A-1"), row("A-1", injured="1", killed="0"), row("B-2")]
    )
    import_file(path, GVRS)
    before = snapshot()
    person_ids = sorted(PersonInvolved.objects.values_list("pk", flat=True))
    report = import_file(path, GVRS)
    assert snapshot() == before
    assert sorted(PersonInvolved.objects.values_list("pk", flat=True)) == person_ids
    run = report.run
    assert (run.rows_inserted, run.rows_updated, run.rows_unchanged) == (0, 0, 3)
    assert run.incidents_unchanged == 2


def test_a_corrected_file_updates_in_place(tmp_path):
    import_file(write_csv(tmp_path / "v1.csv", [row("A-1"), row("B-2")]), GVRS)
    first = Incident.objects.get(source_id="A-1").pk
    fixed = write_csv(
        tmp_path / "v2.csv",
        [
            row("A-1", circumstance="personal_dispute", victim_age="20"),
            row("A-1", circumstance="personal_dispute", killed="0", injured="1"),  # found later
            row("B-2"),
        ],
    )
    report = import_file(fixed, GVRS)
    assert report.ok, report.errors
    incident = Incident.objects.get(source_id="A-1")
    assert incident.pk == first
    assert incident.circumstance == "personal_dispute"
    assert (incident.killed, incident.injured) == (1, 1)
    assert sorted(incident.people.values_list("age", flat=True)) == [19, 20]
    assert Incident.objects.count() == 2
    assert (report.run.incidents_updated, report.run.incidents_unchanged) == (1, 1)
    assert incident.import_run == report.run


def test_one_invalid_row_imports_nothing_and_lists_every_error(tmp_path):
    import_file(write_csv(tmp_path / "old.csv", [row("OLD-1")]), GVRS)
    before = snapshot()
    path = write_csv(
        tmp_path / "bad.csv",
        [
            row("A-1", jurisdiction="Brand New City"),
            row("A-2", occurred_at="2022-02-30"),
            row("A-3", kind="stabbing", killed="-1"),
        ],
    )
    report = import_file(path, GVRS)
    assert not report.ok
    assert snapshot() == before  # not even the new jurisdiction stayed
    assert [(e.line, e.column) for e in report.errors] == [
        (3, "occurred_at"),
        (4, "kind"),
        (4, "killed"),
    ]
    assert report.run.status == ImportRun.Status.FAILED
    assert ImportRun.objects.filter(status="failed").count() == 1


def test_accept_valid_imports_the_rest_and_writes_rejects_with_reasons(tmp_path):
    path = write_csv(
        tmp_path / "mixed.csv",
        [
            row("A-1"),
            row("B-1"),
            row("B-1", killed="0", injured="x"),  # B's second victim row is bad
            row("C-1", latitude="135.2"),
        ],
    )
    rejects = tmp_path / "rejects.csv"
    report = import_file(path, GVRS, accept_valid=True, rejects_path=rejects)
    assert report.ok and report.run.status == ImportRun.Status.PARTIAL
    assert list(Incident.objects.values_list("source_id", flat=True)) == ["A-1"]
    written = pd.read_csv(rejects, dtype=str)
    assert list(written["line"]) == ["3", "4", "5"]
    assert list(written.columns) == [*HEADER, "line", "reason"]
    reasons = dict(zip(written["line"], written["reason"], strict=True))
    assert "whole incident was set aside" in reasons["3"]
    assert "injured: count must be a whole number" in reasons["4"]
    assert "latitude: out of range" in reasons["5"]
    assert report.run.rows_rejected == 3


@pytest.mark.parametrize(
    ("overrides", "column", "reason"),
    [
        ({"occurred_at": "04/03/2022"}, "occurred_at", "unparseable date"),
        ({"occurred_at": "2099-01-01"}, "occurred_at", "date is in the future"),
        ({"latitude": "95.1"}, "latitude", "out of range (-90 to 90 degrees)"),
        ({"longitude": "-190"}, "longitude", "out of range (-180 to 180 degrees)"),
        ({"longitude": ""}, "longitude", "both be given or both be empty"),
        ({"kind": "stabbing"}, "kind", "unknown kind 'stabbing'; valid: homicide"),
        ({"killed": "-1"}, "killed", "count cannot be negative"),
        ({"injured": "1.5"}, "injured", "count must be a whole number"),
        ({"injured": "two"}, "injured", "count must be a whole number"),
        ({"source_id": ""}, "source_id", "required value is missing"),
        ({"weapon": "bat"}, "weapon", "unknown weapon 'bat'"),
        ({"victim_age": "150"}, "victim_age", "age over 120"),
        ({"source_id": "X" * 101}, "source_id", "longer than 100 characters"),
        ({"area": "A" * 201}, "area", "longer than 200 characters"),
        ({"jurisdiction": "Kern County > " + "B" * 201}, "jurisdiction", "longer than 200"),
        ({"victim_race": "R" * 61}, "victim_race", "longer than 60 characters"),
    ],
)
def test_each_invalid_value_is_reported_with_line_column_and_reason(
    tmp_path, overrides, column, reason
):
    path = write_csv(tmp_path / "one.csv", [row("OK-1"), row("BAD-1", **overrides)])
    report = import_file(path, GVRS)
    assert not report.ok
    assert len(report.errors) == 1
    error = report.errors[0]
    assert (error.line, error.column) == (3, column)
    assert reason in error.reason
    assert error.describe("one.csv").startswith("one.csv: line 3: ")
    assert Incident.objects.count() == 0


def test_a_repeated_source_id_with_conflicting_incident_fields_is_an_error(tmp_path):
    path = write_csv(
        tmp_path / "dup.csv",
        [
            row("A-1"),
            row("A-1", killed="0", injured="1", occurred_at="2022-03-05T01:00"),
        ],
    )
    report = import_file(path, GVRS)
    assert not report.ok
    [error] = report.errors
    assert (error.line, error.column) == (3, "occurred_at")
    assert "incident A-1 is repeated with a different occurred_at (line 2 has" in error.reason


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty (0 bytes)"),
        (b"\n\n", "the file is empty (no header row)"),
        (",".join(HEADER).encode() + b"\n", "the file has a header but no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary file, not a table"),
        (b'{"incidents": [\n  {"id": 1}\n]}\n', "looks like JSON, HTML or XML, not a table"),
        (
            b"source_id,kind\nA-1,homicide\n",
            "missing required columns occurred_at, jurisdiction, killed, injured",
        ),
        (",".join(HEADER).encode() + b"\n" + b"x," * 20 + b"\n", "not a well-formed table"),
    ],
)
def test_files_that_are_not_usable_tables_are_refused_by_name(tmp_path, content, message):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    with pytest.raises(FileError) as caught:
        import_file(path, GVRS)
    assert caught.value.file_name == "upload.csv"
    assert message in str(caught.value)
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED


def test_undecodable_bytes_are_reported_with_their_line(tmp_path):
    good = write_csv(tmp_path / "tmp.csv", [row("A-1", area="Peña Park"), row("A-2"), row("A-3")])
    lines = good.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"Bakersfield", b"Bakersf\xffield")
    path = tmp_path / "damaged.csv"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(FileError) as caught:
        import_file(path, GVRS)
    assert caught.value.line == 4
    assert "not valid UTF-8" in str(caught.value)


def test_an_explicit_wrong_encoding_names_the_line_that_fails(tmp_path):
    path = write_csv(tmp_path / "x.csv", [row("A-1"), row("A-2", area="Peña Park")])
    with pytest.raises(FileError) as caught:
        import_file(path, GVRS, encoding="ascii")
    assert caught.value.line == 3
    assert "cannot be decoded as ascii" in str(caught.value)


def test_legacy_encodings_and_gzip_are_detected(tmp_path):
    plain = write_csv(tmp_path / "win.csv", [row("A-1", area="Peña Park")], encoding="cp1252")
    packed = tmp_path / "win.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert import_file(packed, GVRS).ok
    assert Area.objects.filter(name="Peña Park").exists()


def test_semicolon_separated_files_are_read(tmp_path):
    path = write_csv(tmp_path / "in.csv", [row("A-1")])
    path.write_text(path.read_text().replace(",", ";"))
    assert import_file(path, GVRS).ok


def test_xlsx_and_parquet_import_the_same_incidents_as_csv(tmp_path):
    frame = pd.DataFrame([row("A-1"), row("A-1", killed="0", injured="1"), row("B-1")])
    xlsx, parquet = tmp_path / "in.xlsx", tmp_path / "in.parquet"
    typed = frame.assign(
        killed=frame["killed"].astype(int),
        injured=frame["injured"].astype(int),
        latitude=frame["latitude"].astype(float),
        longitude=frame["longitude"].astype(float),
        occurred_at=pd.to_datetime(frame["occurred_at"]),
    )
    typed.to_excel(xlsx, index=False)
    typed.to_parquet(parquet, index=False)
    for path, source in ((xlsx, "x"), (parquet, "p")):
        report = import_file(path, GVRS, source=source)
        assert report.ok, report.errors
        assert Incident.objects.filter(source=source).count() == 2
        a1 = Incident.objects.get(source=source, source_id="A-1")
        assert (a1.killed, a1.injured, str(a1.occurred_time)) == (1, 1, "21:15:00")


def test_jurisdiction_option_fills_files_without_a_jurisdiction_column(tmp_path):
    header = [c for c in HEADER if c != "jurisdiction"]
    path = write_csv(tmp_path / "in.csv", [row("A-1")], header=header)
    report = import_file(path, GVRS, jurisdiction="Kern County > Arvin")
    assert report.ok
    arvin = Jurisdiction.objects.get(name="Arvin")
    assert arvin.parent.name == "Kern County" and arvin.parent.level == "county"
    assert Incident.objects.get().jurisdiction == arvin


def test_unknown_format_lists_the_valid_ones():
    with pytest.raises(MappingError, match="unknown format 'lapd'; valid formats: ca-doj, gvrs"):
        load_format("lapd")


def test_a_users_own_mapping_file_maps_columns_and_codes(tmp_path):
    mapping_file = tmp_path / "rms.toml"
    mapping_file.write_text("""
[format]
name = "kern-rms"
source = "kern-rms"
[defaults]
jurisdiction = "Kern County"
[columns]
source_id = "Case No"
kind = { column = "Type", values = { HOM = "homicide", SHOT = "nonfatal_shooting" } }
occurred_at = { columns = ["Date", "Time"], format = "%m/%d/%Y %H%M" }
killed = "Dead"
injured = "Hurt"
victim_sex = { column = "Sex", values = { M = "male", F = "female" }, other = "unknown" }
""")
    data = tmp_path / "export.csv"
    data.write_text(
        "Case No,Type,Date,Time,Dead,Hurt,Sex\n"
        "K1,HOM,07/04/2023,2315,1,0,M\nK2,SHOT,07/05/2023,0100,0,2,X\n"
    )
    from gvrs.data.mapping import load_mapping

    report = import_file(data, load_mapping(mapping_file))
    assert report.ok, report.errors
    k2 = Incident.objects.get(source="kern-rms", source_id="K2")
    assert (k2.kind, str(k2.occurred_on), k2.injured) == ("nonfatal_shooting", "2023-07-05", 2)
    assert list(k2.people.values_list("sex", flat=True)) == ["unknown"]


def test_the_readme_example_file_imports(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "docs" / "example-incidents.csv"
    report = import_file(example, GVRS)
    assert report.ok, report.errors
    assert Incident.objects.get(source_id="BPD-22-0101").people.count() == 2
    assert Incident.objects.get(source_id="BPD-22-0144").occurred_time is None


def test_a_shooting_with_no_weapon_stated_is_recorded_as_a_firearm(tmp_path):
    path = write_csv(
        tmp_path / "in.csv",
        [
            row("S-1", kind="nonfatal_shooting", weapon="", killed="0", injured="1"),
            row("H-1", weapon=""),
        ],
    )
    assert import_file(path, GVRS).ok
    weapons = dict(Incident.objects.values_list("source_id", "weapon"))
    assert weapons == {"S-1": "firearm", "H-1": "unknown"}


def test_a_bare_name_finds_the_place_its_state_filed_under_a_county(tmp_path):
    import_file(
        write_csv(tmp_path / "b.csv", [row("B-1", jurisdiction="Kern County > Bakersfield")]), GVRS
    )
    import_file(write_csv(tmp_path / "a.csv", [row("A-1", jurisdiction="Bakersfield")]), GVRS)
    bakersfield = Jurisdiction.objects.get(name="Bakersfield")
    assert bakersfield.path == "California > Kern County > Bakersfield"
    assert bakersfield.incidents.count() == 2


def test_a_place_is_never_moved_under_a_parent_a_later_file_names(tmp_path):
    import_file(write_csv(tmp_path / "a.csv", [row("A-1", jurisdiction="Bakersfield")]), GVRS)
    later = write_csv(tmp_path / "b.csv", [row("B-1", jurisdiction="Kern County > Bakersfield")])
    with pytest.raises(PlaceError) as refused:
        import_file(later, GVRS)
    message = str(refused.value)
    assert "b.csv" in message and "line 2" in message
    assert "second 'Bakersfield' (already: California > Bakersfield)" in message
    assert "--new-places" in message
    assert Jurisdiction.objects.get(name="Bakersfield").parent.name == "California"
    assert not Jurisdiction.objects.filter(name="Kern County").exists()
    assert ImportRun.objects.latest("pk").status == "failed"


@pytest.mark.parametrize("content", [None, "[format\nname = "])
def test_a_mapping_file_that_is_missing_or_not_toml_is_named(tmp_path, content):
    from gvrs.data.mapping import load_mapping

    path = tmp_path / "mine.toml"
    if content is not None:
        path.write_text(content)
    expected = "no such mapping file" if content is None else "not valid TOML"
    with pytest.raises(MappingError, match=f"mine.toml: {expected}"):
        load_mapping(path)


def test_a_mapping_whose_source_name_is_too_long_is_refused():
    document = {"format": {"name": "x", "source": "s" * 101, "identity": True}}
    with pytest.raises(MappingError, match="source name is longer than 100 characters"):
        parse_mapping(document, "mine.toml")
