"""NIBRS imports on the real files: the District of Columbia's CDE years (both layouts) and a
Vermont state-programme submission, their counts checked against counts made independently
from the raw tables (tests/nibrs_helpers.py); deletions, corrections, coverage per agency and
files refused whole."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import ImportRun, Incident, Jurisdiction, PersonInvolved, ReportedMonth
from tests.conftest import SHARED_DATA, require
from tests.nibrs_helpers import (
    cde_counts,
    delete,
    flat_counts,
    incident,
    load_cde,
    registry_counts,
    segment,
    write_flat,
    zero_report,
)

pytestmark = pytest.mark.django_db
NIBRS = SHARED_DATA / "nibrs"
DC = NIBRS / "cde-dc"
VERMONT = NIBRS / "flat-file" / "VTUCR0001_20200420_NIBRS_010.txt.gz"


def nibrs_import(path: Path, form: str, **options):
    report = import_file(path, load_format(form), **options)
    assert report.ok, [e.describe(path.name) for e in report.errors[:5]]
    return report


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def stats(*args: str) -> list[dict]:
    code, out, err = cli("stats", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def total(counts: list[dict]) -> dict:
    out: dict = {}
    for counter in counts:
        for name, values in counter.items():
            merged = out.setdefault(name, {})
            for key, n in values.items():
                merged[key] = merged.get(key, 0) + n
    return {name: {k: v for k, v in values.items() if v} for name, values in out.items()}


def plain(counts: dict) -> dict:
    return {name: {k: v for k, v in values.items() if v} for name, values in counts.items()}


# -- the real files ------------------------------------------------------------------------


def test_dc_cde_years_in_the_older_layout_store_what_the_raw_tables_count():
    expected = total([cde_counts(load_cde(require(DC / f"DC-{y}"))) for y in (2018, 2019, 2020)])
    for year in (2018, 2019, 2020):
        nibrs_import(DC / f"DC-{year}", "nibrs-cde")
    assert plain(registry_counts("nibrs-cde")) == expected
    # Metro Transit Police: 3 homicides in 2020, 12, 19 and 10 firearm assaults.
    assert expected["murder_incidents"] == {("DCMTP0000", 2020): 3}
    assert expected["firearm_assaults"] == {
        ("DCMTP0000", 2018): 12,
        ("DCMTP0000", 2019): 19,
        ("DCMTP0000", 2020): 10,
    }
    agency = Jurisdiction.objects.get(ori="DCMTP0000")
    assert (agency.path, agency.level, agency.state) == (
        "District of Columbia > Metro Transit Police",
        "agency",
        "DC",
    )
    covered = ReportedMonth.objects.filter(source="nibrs-cde", jurisdiction=agency)
    assert covered.count() == 36 and {m.status for m in covered} == {"incidents"}


def _newer_layout_year(folder: Path) -> Path:
    """The 2022 tables as published, with the incident and month tables they lack (too large
    to copy) made here in the newer layout: every incident the other tables name, dated and
    given to an agency by its id, both agencies reporting every month."""
    source = require(DC / "DC-2022")
    shutil.copytree(source, folder)
    ids = set()
    for table, column in (("NIBRS_OFFENSE", 2), ("NIBRS_VICTIM", 2), ("NIBRS_OFFENDER", 2)):
        with gzip.open(source / f"{table}.csv.gz", "rt") as fh:
            reader = csv.reader(fh)
            next(reader)
            ids.update(r[column] for r in reader)
    with gzip.open(folder / "NIBRS_incident.csv.gz", "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["data_year", "agency_id", "incident_id", "nibrs_month_id", "cargo_theft_flag",
             "submission_date", "incident_date", "report_date_flag", "incident_hour",
             "cleared_except_id", "cleared_except_date", "incident_status", "data_home",
             "orig_format", "did"]
        )  # fmt: skip
        for incident_id in sorted(ids, key=int):
            n = int(incident_id)
            day = dt.date(2022, 1, 1) + dt.timedelta(days=n % 365)
            agency = "2244" if n % 10 == 0 else "2243"
            writer.writerow(
                [2022, agency, incident_id, "", "N", "2023-03-05", day.isoformat(), "",
                 n % 24, 6, "", 0, "C", "F", ""]
            )  # fmt: skip
    with gzip.open(folder / "NIBRS_month.csv.gz", "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["data_year", "nibrs_month_id", "agency_id", "month_num", "data_year",
             "reported_status", "report_date", "update_flag", "orig_format", "data_home",
             "ddocname", "did", "month_pub_status"]
        )  # fmt: skip
        for agency in ("2243", "2244"):
            for month in range(1, 13):
                writer.writerow([2022, f"{agency}{month}", agency, month, 2022, "I"] + [""] * 7)
    return folder


@pytest.mark.slow
def test_dc_2022_in_the_newer_layout_read_from_its_zip(tmp_path):
    folder = _newer_layout_year(tmp_path / "DC-2022")
    expected = plain(cde_counts(load_cde(folder)))
    archive = tmp_path / "DC-2022.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.rglob("*"):
            zf.write(path, Path("DC-2022") / path.relative_to(folder))
    report = nibrs_import(archive, "nibrs-cde")
    assert plain(registry_counts("nibrs-cde")) == expected
    assert expected["murder_incidents"][("DCMPD0000", 2022)] > 100  # the city's own force
    washington = Jurisdiction.objects.get(ori="DCMPD0000")
    assert (washington.path, washington.level) == ("District of Columbia > Washington", "city")
    assert report.run.covers_from == dt.date(2022, 1, 1)
    # A 2022 weapon id means another code than the same id in 2019: read with 2022's table.
    firearms = PersonInvolved.objects.filter(incident__weapon="firearm", killed=True).count()
    assert 0 < firearms <= sum(expected["murder_victims"].values())


def test_the_vermont_submission_stores_what_its_segments_count():
    expected = plain(flat_counts(require(VERMONT)))
    report = nibrs_import(VERMONT, "nibrs-flat")
    assert plain(registry_counts("nibrs")) == expected
    assert sum(expected["murder_incidents"].values()) == 3
    # Vermont's own offices are places by their ORI (a submission names agencies no other
    # way), each under Vermont.
    assert Jurisdiction.objects.get(ori="VT0040100").path == "Vermont > VT0040100"
    # 18 agencies sent a zero report for April 2020: a covered month with nothing in it.
    zero = ReportedMonth.objects.filter(source="nibrs", status="zero")
    assert zero.count() == 18 and {m.month for m in zero} == {dt.date(2020, 4, 1)}
    assert report.run.covers_through == dt.date(2020, 4, 30)


def test_importing_the_same_files_again_changes_nothing():
    for path, form in ((DC / "DC-2019", "nibrs-cde"), (VERMONT, "nibrs-flat")):
        first = nibrs_import(require(path), form)
        again = nibrs_import(path, form)
        assert first.run.incidents_inserted > 0
        assert (again.run.incidents_inserted, again.run.incidents_updated) == (0, 0)
        assert again.run.incidents_unchanged == first.run.incidents_inserted
        assert again.run.incidents_deleted == 0


# -- deletions and corrections -------------------------------------------------------------


def test_a_delete_segment_removes_the_incident_it_names_and_nothing_else(tmp_path):
    nibrs_import(require(VERMONT), "nibrs-flat")
    before = set(Incident.objects.filter(source="nibrs").values_list("source_id", flat=True))
    assert "VT0040100:19BU007507" in before
    path = write_flat(tmp_path / "delete.txt", [delete("VT0040100", "19BU007507", "20190416")])
    report = nibrs_import(path, "nibrs-flat")
    after = set(Incident.objects.filter(source="nibrs").values_list("source_id", flat=True))
    assert before - after == {"VT0040100:19BU007507"}
    assert report.run.incidents_deleted == 1
    assert "1 incidents removed" in report.run.message


def test_a_restated_incident_loses_the_parts_it_no_longer_has(tmp_path):
    """A homicide with a justifiable homicide (two gvrs incidents) restated as a homicide
    alone: its 09C part goes, its main part stays."""
    victims = [{"offenses": ["09A"]}, {"offenses": ["09C"], "circumstance": "21"}]
    first = incident("VT0040100", "X1", "20200305", [("09A", "12"), ("09C", "12")], victims)
    nibrs_import(write_flat(tmp_path / "a.txt", first), "nibrs-flat")
    assert set(Incident.objects.values_list("source_id", "kind")) == {
        ("VT0040100:X1", "homicide"),
        ("VT0040100:X1/09C", "justifiable_homicide"),
    }
    second = [
        delete("VT0040100", "X1", "20200305"),
        *incident("VT0040100", "X1", "20200305", [("09A", "12")], victims[:1]),
    ]
    report = nibrs_import(write_flat(tmp_path / "b.txt", second), "nibrs-flat")
    assert set(Incident.objects.values_list("source_id", flat=True)) == {"VT0040100:X1"}
    assert report.run.incidents_deleted == 1


def test_a_restated_incident_is_updated_in_place(tmp_path):
    """A firearm assault nobody was hurt in, restated with the victim's major injury: the
    same incident, now a nonfatal shooting, its victim replaced."""
    first = incident("VT0040100", "Y1", "20200305", [("13A", "12")], [{"offenses": ["13A"]}])
    nibrs_import(write_flat(tmp_path / "a.txt", first), "nibrs-flat")
    (before,) = Incident.objects.values_list("pk", "kind", "injured")
    again = incident(
        "VT0040100", "Y1", "20200305", [("13A", "12")], [{"offenses": ["13A"], "injury": "OI"}]
    )
    path = write_flat(tmp_path / "b.txt", [delete("VT0040100", "Y1", "20200305"), *again])
    report = nibrs_import(path, "nibrs-flat")
    assert (report.run.incidents_updated, report.run.incidents_deleted) == (1, 0)
    assert before[1:] == ("firearm_assault", 0)
    assert Incident.objects.get().kind == "nonfatal_shooting"
    person = PersonInvolved.objects.get()
    assert (person.incident_id, person.injured) == (before[0], True)
    assert person.extra["injury"] == "Possible Internal Injury; Other Major Injury"


def test_a_corrected_cde_year_removes_the_incidents_it_no_longer_holds(tmp_path):
    folder = tmp_path / "DC-2019"
    shutil.copytree(require(DC / "DC-2019"), folder)
    nibrs_import(folder, "nibrs-cde")
    held = Incident.objects.filter(source="nibrs-cde").count()
    # The correction: one firearm aggravated assault's weapon was a knife (2019's id 9).
    victim = PersonInvolved.objects.filter(extra__offense="13A").select_related("incident").first()
    incident_id = victim.incident.source_id.split(":")[2]
    offense = _rows(folder / "NIBRS_OFFENSE.csv.gz")
    offense_id = next(r["OFFENSE_ID"] for r in offense if r["INCIDENT_ID"] == incident_id)
    weapons = _rows(folder / "NIBRS_WEAPON.csv.gz")
    for row in weapons:
        if row["OFFENSE_ID"] == offense_id:
            row["WEAPON_ID"] = "9"
    _write_rows(folder / "NIBRS_WEAPON.csv.gz", weapons)
    report = nibrs_import(folder, "nibrs-cde")
    assert report.run.incidents_deleted == 1
    assert report.run.incidents_unchanged == held - 1
    assert not Incident.objects.filter(pk=victim.incident_id).exists()


def _rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", newline="") as fh:
        return list(csv.DictReader(fh))


def _write_rows(path: Path, rows: list[dict]) -> None:
    with gzip.open(path, "wt", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), quoting=csv.QUOTE_NONNUMERIC)
        writer.writeheader()
        writer.writerows(rows)


def _month_status(folder: Path, statuses: dict[int, str]) -> None:
    path = folder / "NIBRS_month.csv.gz"
    with gzip.open(path, "rt", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    month, status = header.index("MONTH_NUM"), header.index("REPORTED_STATUS")
    for row in rows[1:]:
        row[status] = statuses.get(int(row[month]), row[status])
    with gzip.open(path, "wt", newline="") as fh:
        csv.writer(fh).writerows(rows)


# -- coverage per agency -------------------------------------------------------------------


def test_a_month_an_agency_did_not_report_is_a_coverage_gap(tmp_path):
    folder = tmp_path / "DC-2019"
    shutil.copytree(require(DC / "DC-2019"), folder)
    _month_status(folder, {3: "U"})
    report = nibrs_import(folder, "nibrs-cde")
    assert "DCMTP0000: 2019-03" in report.run.message
    months = stats(
        "--metric", "firearm_assaults", "--jurisdiction", "Metro Transit Police", "--by", "month"
    )
    periods = [r["period"] for r in months]
    assert "2019-03" not in periods and {"2019-02", "2019-04"} <= set(periods)
    assert "no data for 2019-03" in months[0]["coverage"]
    year = stats("--metric", "firearm_assaults", "--jurisdiction", "Metro Transit Police")
    assert [(r["period"], r["complete"]) for r in year] == [("2019", False)]
    code, out, _ = cli("coverage", "--jurisdiction", "Metro Transit Police", "--format", "json")
    assert code == 0
    assert [r["not_reported"] for r in json.loads(out)] == [["2019-03"]]


def test_an_agency_that_began_in_august_covers_part_of_its_first_year(tmp_path):
    folder = tmp_path / "DC-2019"
    shutil.copytree(require(DC / "DC-2019"), folder)
    _month_status(folder, dict.fromkeys(range(1, 8), "U"))
    report = nibrs_import(folder, "nibrs-cde")
    assert "DCMTP0000 from 2019-08" in report.run.message
    records = stats("--metric", "firearm_assaults", "--jurisdiction", "Metro Transit Police")
    assert [(r["period"], r["data_from"], r["complete"]) for r in records] == [
        ("2019", "2019-08-01", False)
    ]


def test_a_zero_report_is_a_covered_month_with_nothing_in_it(tmp_path):
    """An agency's March incidents (a burglary) and its zero report for April: both months
    are covered, with no shooting in them; an agency whose only incident in the submission
    is a correction of 2018 claims no month."""
    lines = incident("VT0990100", "B1", "20200310", [("220", "  ")], [{"offenses": ["220"]}])
    lines += incident("VT0990200", "OLD1", "20180110", [("13A", "12")], [{"offenses": ["13A"]}])
    lines.append(zero_report("VT0990100", "04", "2020"))
    nibrs_import(write_flat(tmp_path / "april.txt", lines, ending="\n"), "nibrs-flat")
    months = stats("--metric", "shootings", "--jurisdiction", "VT0990100", "--by", "month")
    assert [(r["period"], r["count"]) for r in months] == [("2020-03", 0), ("2020-04", 0)]
    assert cli("stats", "--metric", "shootings", "--jurisdiction", "VT0990200")[0] == 1


def test_a_month_no_submission_reports_is_a_gap_between_two_that_do(tmp_path):
    january = incident(
        "VT0990100", "J1", "20200115", [("13A", "12")], [{"offenses": ["13A"]}], made="012020"
    )
    march = incident(
        "VT0990100", "M1", "20200312", [("13A", "12")], [{"offenses": ["13A"]}], made="032020"
    )
    nibrs_import(write_flat(tmp_path / "jan.txt", january), "nibrs-flat")
    nibrs_import(write_flat(tmp_path / "mar.txt", march), "nibrs-flat")
    months = stats("--metric", "firearm_assaults", "--jurisdiction", "VT0990100", "--by", "month")
    assert [(r["period"], r["count"]) for r in months] == [("2020-01", 1), ("2020-03", 1)]
    assert "no data for 2020-02" in months[0]["coverage"]


# -- the mapping: kinds kept apart ----------------------------------------------------------


def test_justifiable_and_negligent_homicides_are_never_counted_as_homicides(tmp_path):
    lines = incident(
        "VT0990100",
        "K1",
        "20200305",
        [("09A", "20"), ("13A", "12"), ("09C", "11")],
        [
            {"offenses": ["09A"], "sex": "F"},
            {"offenses": ["13A"], "injury": "O"},
            {"offenses": ["09C"], "circumstance": "21"},
        ],
    )
    lines += incident("VT0990100", "K2", "20200306", [("09B", "11")], [{"offenses": ["09B"]}])
    lines.append(zero_report("VT0990100", "04", "2020"))
    nibrs_import(write_flat(tmp_path / "kinds.txt", lines), "nibrs-flat")
    kinds = dict(Incident.objects.values_list("source_id", "kind"))
    assert kinds == {
        "VT0990100:K1": "homicide",  # a knife homicide ...
        "VT0990100:K1/13A": "nonfatal_shooting",  # ... and a shooting, kept apart
        "VT0990100:K1/09C": "justifiable_homicide",
        "VT0990100:K2/09B": "negligent_manslaughter",
    }
    by_metric = {
        metric: sum(r["count"] for r in stats("--metric", metric, "--jurisdiction", "VT0990100"))
        for metric in ("homicides", "firearm_homicides", "shootings", "nonfatal_shootings")
    }
    assert by_metric == {
        "homicides": 1,
        "firearm_homicides": 0,
        "shootings": 1,
        "nonfatal_shootings": 1,
    }
    killed = PersonInvolved.objects.get(incident__source_id="VT0990100:K1")
    assert (killed.sex, killed.extra["offense"], killed.extra["circumstance"]) == (
        "female",
        "09A",
        "Argument",
    )


# -- files refused whole -------------------------------------------------------------------


def _flat_with(tmp_path, replace_line: int, text: str) -> Path:
    lines = incident("VT0990100", "Z1", "20200305", [("13A", "12")], [{"offenses": ["13A"]}])
    lines[replace_line] = text
    return write_flat(tmp_path / "bad.txt", lines)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda tmp: _flat_with(tmp, 1, "0065" + _offense()[4:] + "  "),
            "bad.txt: line 2: Segment Length (positions 1-4) of an offense segment='0065': not a "
            "length of a level-2 segment (Table 3-1: 0063 or 0071)",
        ),
        (
            lambda tmp: _flat_with(tmp, 1, _offense() + "XX"),
            "bad.txt: line 2: Segment Length (positions 1-4)='0063': the segment is 65 "
            "characters, longer than its stated length",
        ),
        (
            lambda tmp: _flat_with(tmp, 1, _offense(code="99Z")),
            "bad.txt: line 2: UCR Offense Code (DE 6, positions 38-40) of an offense "
            "segment='99Z': unknown code",
        ),
        (
            lambda tmp: _flat_with(tmp, 2, _victim(linked="09A")),
            "bad.txt: line 3: Victim Connected to UCR Offense Code #1 (DE 24, positions "
            "41-43)='09A': the incident has no 09A offense segment for the victim to be linked "
            "to (error 466)",
        ),
    ],
    ids=["length not of its level", "longer than its length", "unknown code", "no such offense"],
)
def test_a_bad_submission_is_refused_naming_line_field_and_reason(tmp_path, make, expected):
    nibrs_import(require(VERMONT), "nibrs-flat")
    before = (Incident.objects.count(), ReportedMonth.objects.count())
    code, _, err = cli("import", str(make(tmp_path)), "--format", "nibrs-flat")
    assert code == 1
    assert expected in err
    assert (Incident.objects.count(), ReportedMonth.objects.count()) == before
    assert ImportRun.objects.latest("pk").status == "failed"


def _offense(code: str = "13A") -> str:
    return segment("2", "I", "VT0990100", "Z1", [(38, code), (41, "C"), (45, "13"), (53, "12")])


def _victim(linked: str) -> str:
    return segment("4", "I", "VT0990100", "Z1", [(38, "001"), (41, linked), (71, "I"), (72, "25")])


def _edit(folder: Path, table: str, change) -> None:
    rows = _rows(folder / f"{table}.csv.gz")
    change(rows)
    _write_rows(folder / f"{table}.csv.gz", rows)


@pytest.mark.parametrize(
    ("table", "change", "expected"),
    [
        (
            "NIBRS_VICTIM",
            lambda rows: rows[4].update(RACE_ID="77"),
            "DC-2019: NIBRS_VICTIM.csv: line 6: RACE_ID='77': no such id in REF_RACE.csv",
        ),
        (
            "NIBRS_VICTIM_OFFENSE",
            lambda rows: rows[2].update(OFFENSE_ID="999"),
            "DC-2019: NIBRS_VICTIM_OFFENSE.csv: line 4: OFFENSE_ID='999': no such offense in "
            "NIBRS_OFFENSE.csv",
        ),
        (
            "NIBRS_OFFENSE",
            lambda rows: rows[0].update(OFFENSE_TYPE_ID="777"),
            "DC-2019: NIBRS_OFFENSE.csv: line 2: OFFENSE_TYPE_ID='777': no such id in "
            "NIBRS_OFFENSE_TYPE.csv",
        ),
    ],
    ids=["unknown code", "victim linked to an offense that is not there", "unknown offense"],
)
def test_a_bad_cde_year_is_refused_naming_table_line_field_and_reason(
    tmp_path, table, change, expected
):
    nibrs_import(require(DC / "DC-2018"), "nibrs-cde")
    before = (Incident.objects.count(), ReportedMonth.objects.count())
    folder = tmp_path / "DC-2019"
    shutil.copytree(DC / "DC-2019", folder)
    _edit(folder, table, change)
    code, _, err = cli("import", str(folder), "--format", "nibrs-cde")
    assert code == 1
    assert expected in err
    assert (Incident.objects.count(), ReportedMonth.objects.count()) == before


def test_a_folder_missing_a_table_is_refused_naming_it(tmp_path):
    folder = tmp_path / "DC-2019"
    shutil.copytree(require(DC / "DC-2019"), folder)
    (folder / "NIBRS_VICTIM_OFFENSE.csv.gz").unlink()
    code, _, err = cli("import", str(folder), "--format", "nibrs-cde")
    assert code == 1
    assert "not a complete CDE state-year: missing NIBRS_VICTIM_OFFENSE.csv" in err


def test_accept_valid_sets_aside_the_bad_incident_and_imports_the_rest(tmp_path):
    good = incident("VT0990100", "G1", "20200305", [("13A", "12")], [{"offenses": ["13A"]}])
    bad = incident("VT0990100", "B1", "20200306", [("13A", "12")], [{"offenses": ["13A"]}])
    bad[2] = segment("4", "I", "VT0990100", "B1", [(38, "001"), (41, "13A"), (71, "I"), (72, "XY")])
    path = write_flat(tmp_path / "mixed.txt", good + bad)
    report = import_file(path, load_format("nibrs-flat"), accept_valid=True)
    assert report.run.status == "partial"
    assert set(Incident.objects.values_list("source_id", flat=True)) == {"VT0990100:G1"}
    assert "Age of Victim" in report.errors[0].column


# -- the IEPD XML ----------------------------------------------------------------------------


def test_the_iepd_xml_sample_is_refused_for_its_age_and_read_once_corrected(tmp_path):
    """The FBI's Group A sample gives a victim's age as BABY, which is no code of Data Element
    26 (BB is): refused, naming the element's line; with BB, its firearm assault (13A with an
    automatic firearm, 11A) and its two unhurt victims are stored."""
    sample = require(NIBRS / "flat-file" / "xml" / "nibrs_GroupAIncident_Sample.xml.gz")
    text = gzip.decompress(sample.read_bytes()).decode("utf-8")
    refused = tmp_path / "sample.xml"
    refused.write_text(text, encoding="utf-8")
    code, _, err = cli("import", str(refused), "--format", "nibrs-xml")
    assert code == 1
    assert "sample.xml: line 294: nc:PersonAgeMeasure (DE 26, Age of Victim)='BABY'" in err
    fixed = tmp_path / "fixed.xml"
    fixed.write_text(text.replace(">BABY<", ">BB<"), encoding="utf-8")
    nibrs_import(fixed, "nibrs-xml")
    stored = Incident.objects.get()
    assert (stored.source, stored.source_id, stored.kind, stored.weapon) == (
        "nibrs",
        "WVNDX0100:000054236732",
        "firearm_assault",
        "firearm",
    )
    assert stored.jurisdiction.path == "West Virginia > WVNDX0100"
    ages = sorted(
        (p.age, p.age_group, p.extra["injury"], p.extra["relationship"])
        for p in stored.people.all()
    )
    assert ages == [
        (0, "7-364 days", "None", "Victim Was Stranger"),
        (32, "", "None", "Victim Was Acquaintance"),
    ]
    assert stored.location_type == "Cyberspace"
    assert stored.case_status == "cleared exceptionally: death of offender"


def test_an_xml_delete_removes_what_a_flat_file_stored(tmp_path):
    flat = incident(
        "WVNDX0100", "000054236732", "20160219", [("13A", "12")], [{"offenses": ["13A"]}]
    )
    nibrs_import(write_flat(tmp_path / "flat.txt", flat), "nibrs-flat")
    sample = require(NIBRS / "flat-file" / "xml" / "nibrs_GroupAIncident_Sample.xml.gz")
    text = gzip.decompress(sample.read_bytes()).decode("utf-8")
    # The sample's report with its action D, its incident and nothing else.
    action = "<nibrs:ReportActionCategoryCode>"
    start = text.index(action)
    after = text.index("</nibrs:ReportActionCategoryCode>", start)
    deleting = text[:start] + action + "D" + text[after : text.index("</nc:Incident>")]
    deleting += "</nc:Incident>" + text[text.index("</nibrs:Report>") :]
    path = tmp_path / "delete.xml"
    path.write_text(deleting, encoding="utf-8")
    report = nibrs_import(path, "nibrs-xml")
    assert report.run.incidents_deleted == 1
    assert not Incident.objects.exists()


# -- the web import --------------------------------------------------------------------------


def test_a_submission_uploaded_on_the_imports_page_is_previewed_then_imported(people, tmp_path):
    """The Vermont submission through the web: the preview stores nothing and shows the
    file's coverage; one confirm imports what the command line would."""
    from django.test import Client
    from django.urls import reverse

    from gvrs.incidents.models import ImportJob
    from tests.jobs_helpers import run_queued_tasks

    client = Client()
    client.force_login(people["analyst"])
    with open(require(VERMONT), "rb") as fh:
        response = client.post(
            reverse("incidents-import-upload"), {"file": fh, "format": "nibrs-flat"}
        )
    assert response.status_code in (200, 302)
    run_queued_tasks()
    job = ImportJob.objects.get()
    assert (job.phase, job.state) == ("preview", "done"), job.message
    assert not Incident.objects.exists()
    page = client.get(reverse("incidents-import-job", args=[job.pk])).content.decode()
    assert "2019-06-01 to 2020-04-30" in page
    client.post(reverse("incidents-import-confirm"), {"job": job.pk})
    run_queued_tasks()
    assert plain(registry_counts("nibrs")) == plain(flat_counts(VERMONT))
