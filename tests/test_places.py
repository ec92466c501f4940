"""Places with identity: a state, a level, a path inside the state; never merged across states,
never moved, no silent look-alike; zones from the mapping or the state."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pandas as pd
import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gvrs.data.mapping import load_format, parse_mapping
from gvrs.incidents.importing import import_file
from gvrs.incidents.importing.places import PlaceError, PlaceResolver, find_or_create_jurisdiction
from gvrs.incidents.models import Area, ImportRun, Incident, Jurisdiction
from tests.conftest import CA_DOJ, PHILLY, require
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db(transaction=False)

GVRS = load_format("gvrs")

# A national incident file as public archives publish it: a state column and a
# "city or county" column, so the place's path is built from two columns.
NATIONAL = parse_mapping(
    {
        "format": {"name": "national", "source": "national"},
        "defaults": {"weapon": "firearm"},
        "columns": {
            "source_id": "incident_id",
            "occurred_at": "date",
            "jurisdiction": ["{state}", "{city_or_county}"],
            "killed": "n_killed",
            "injured": "n_injured",
        },
        "derive": {"kind": "outcome"},
    },
    "national.toml",
)
NATIONAL_ROWS = [
    ("N-1", "2016-05-01", "New Jersey", "Newark", "1", "0"),
    ("N-2", "2016-05-02", "California", "Newark", "1", "0"),
    ("N-3", "2016-05-03", "Texas", "Fresno", "0", "1"),
    ("N-4", "2016-05-04", "California", "Fresno", "1", "0"),
    ("N-5", "2016-05-05", "Nebraska", "Lincoln", "1", "0"),
    ("N-6", "2016-05-06", "California", "Lincoln", "0", "1"),
]


def write_national(path, rows=NATIONAL_ROWS):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["incident_id", "date", "state", "city_or_county", "n_killed", "n_injured"])
        writer.writerows(rows)
    return path


@pytest.fixture
def california(tmp_path):
    """The CA DOJ agencies of the counties holding Newark, Fresno, Lincoln and Bakersfield."""
    doj = pd.read_csv(require(CA_DOJ), dtype=str, keep_default_na=False)
    counties = ["Alameda County", "Fresno County", "Placer County", "Kern County"]
    doj[doj["County"].isin(counties) & (doj["Year"] >= "2020")].to_csv(
        tmp_path / "doj.csv", index=False
    )
    report = import_file(tmp_path / "doj.csv", load_format("ca-doj"))
    assert report.ok, report.errors
    return report


def test_newark_fresno_and_lincoln_stay_apart_across_states(tmp_path, california):
    report = import_file(write_national(tmp_path / "national.csv"), NATIONAL)
    assert report.ok, report.errors

    def place_of(source_id):
        return Incident.objects.select_related("jurisdiction").get(source_id=source_id).jurisdiction

    assert place_of("N-1").path == "New Jersey > Newark"
    assert place_of("N-2").path == "California > Alameda County > Newark"
    assert place_of("N-3").path == "Texas > Fresno"
    assert place_of("N-4").path == "California > Fresno County > Fresno"
    assert place_of("N-5").path == "Nebraska > Lincoln"
    assert place_of("N-6").path == "California > Placer County > Lincoln"
    assert place_of("N-1").state == "NJ" and place_of("N-3").state == "TX"
    # California's own places were found, not created; the other states' were.
    assert sorted(report.created_jurisdictions) == [
        "Nebraska",
        "Nebraska > Lincoln",
        "New Jersey",
        "New Jersey > Newark",
        "Texas",
        "Texas > Fresno",
    ]
    # Each new place takes its state's zone.
    assert place_of("N-1").time_zone == "America/New_York"
    assert place_of("N-3").time_zone == "America/Chicago"
    assert Jurisdiction.objects.named("CA > Fresno").incidents.count() == 1
    assert Jurisdiction.objects.named("TX > Fresno").incidents.count() == 1
    with pytest.raises(Jurisdiction.MultipleObjectsReturned):
        Jurisdiction.objects.named("Fresno")


def test_a_look_alike_is_refused_with_the_candidates_unless_new_places(tmp_path, california):
    path = write_csv(tmp_path / "a.csv", [row("A-1", jurisdiction="Fresno > Bakersfield")])
    with pytest.raises(PlaceError) as refused:
        import_file(path, GVRS)
    message = str(refused.value)
    assert "a.csv" in message and "line 2" in message
    assert "second 'Bakersfield' (already: California > Kern County > Bakersfield)" in message
    assert Jurisdiction.objects.filter(name="Bakersfield").count() == 1
    assert ImportRun.objects.latest("pk").status == "failed"
    assert "California > Kern County > Bakersfield" in ImportRun.objects.latest("pk").message

    report = import_file(path, GVRS, new_places=True)
    assert report.ok
    assert report.created_jurisdictions == ["California > Fresno County > Fresno > Bakersfield"]
    assert "1 new places: California > Fresno County > Fresno > Bakersfield" in report.run.message
    assert Jurisdiction.objects.filter(name="Bakersfield").count() == 2
    # Now a bare "Bakersfield" is ambiguous: a clear error listing both, never a crash.
    bare = write_csv(tmp_path / "b.csv", [row("B-1", jurisdiction="Bakersfield")])
    with pytest.raises(PlaceError, match="'Bakersfield' is ambiguous in CA") as ambiguous:
        import_file(bare, GVRS)
    assert "California > Kern County > Bakersfield" in str(ambiguous.value)
    assert "California > Fresno County > Fresno > Bakersfield" in str(ambiguous.value)
    full = write_csv(tmp_path / "c.csv", [row("C-1", jurisdiction="Kern County > Bakersfield")])
    assert import_file(full, GVRS).ok


def test_an_existing_place_is_never_moved_under_a_new_county(tmp_path):
    philly = write_csv(
        tmp_path / "p.csv", [row("P-1", jurisdiction="PA > Philadelphia", area="Kensington")]
    )
    import_file(philly, GVRS)
    moved = write_csv(
        tmp_path / "m.csv",
        [row("M-1", jurisdiction="Pennsylvania > Nowhere County > Philadelphia")],
    )
    with pytest.raises(PlaceError, match=r"already: Pennsylvania > Philadelphia\)"):
        import_file(moved, GVRS)
    assert Jurisdiction.objects.get(name="Philadelphia").parent.name == "Pennsylvania"
    assert not Jurisdiction.objects.filter(name="Nowhere County").exists()
    # With --new-places the file gets a place of its own; the existing one stays where it is.
    report = import_file(moved, GVRS, new_places=True)
    assert report.created_jurisdictions == [
        "Pennsylvania > Nowhere County",
        "Pennsylvania > Nowhere County > Philadelphia",
    ]
    assert Jurisdiction.objects.named("PA > Philadelphia").incidents.count() == 1


def test_a_file_naming_no_state_with_no_default_is_refused(tmp_path, settings):
    settings.GVRS_DEFAULT_STATE = ""
    path = write_csv(tmp_path / "a.csv", [row("A-1", jurisdiction="Bakersfield")])
    with pytest.raises(PlaceError, match="'Bakersfield' names no state, and the import has none"):
        import_file(path, GVRS)
    assert not Jurisdiction.objects.exists()
    with pytest.raises(CommandError, match="set GVRS_DEFAULT_STATE") as refused:
        call_command("import", str(path), format_name="gvrs")
    assert refused.value.returncode == 1
    # Naming the state is enough, in the file or on the command line.
    report = import_file(path, GVRS, state="California")
    assert report.created_jurisdictions == ["California", "California > Bakersfield"]


def test_the_import_command_lists_the_places_it_creates(tmp_path, capsys):
    path = write_csv(tmp_path / "a.csv", [row("A-1", jurisdiction="Kern County > Arvin")])
    call_command("import", str(path), format_name="gvrs", state="CA")
    out = capsys.readouterr().out
    assert "New places (3):\n  California\n  California > Kern County\n" in out
    assert "  California > Kern County > Arvin\n" in out
    arvin = Jurisdiction.objects.get(name="Arvin")
    assert (arvin.level, arvin.parent.level, arvin.parent.parent.level) == (
        "city",
        "county",
        "state",
    )
    call_command("jurisdictions", import_run=arvin.import_run_id, format="json")
    listed = json.loads(capsys.readouterr().out)
    assert {p["name"] for p in listed} == {"California", "Kern County", "Arvin"}


def test_official_codes_are_imported_where_the_source_carries_them(tmp_path):
    mapping = parse_mapping(
        {
            "format": {"name": "coded", "identity": True},
            "place": {"ori": "agency_ori", "geoid": "place_geoid"},
        },
        "coded.toml",
    )
    rows = [
        {**row("A-1", jurisdiction="Kern County > Bakersfield"), "agency_ori": "CA0150200"},
        {**row("A-2", jurisdiction="Kern County > Bakersfield"), "agency_ori": "CA0150200"},
    ]
    for r in rows:
        r["place_geoid"] = "0603526"
    path = write_csv(tmp_path / "a.csv", rows, header=list(rows[0]))
    assert import_file(path, mapping).ok
    bakersfield = Jurisdiction.objects.get(name="Bakersfield")
    assert (bakersfield.ori, bakersfield.geoid) == ("CA0150200", "0603526")
    rows[0]["agency_ori"] = rows[1]["agency_ori"] = "CA0159999"
    rows[0]["source_id"] = rows[1]["source_id"] = "A-3"
    with pytest.raises(PlaceError, match=r"has ORI 'CA0159999', but .* has 'CA0150200'"):
        import_file(write_csv(tmp_path / "b.csv", rows, header=list(rows[0])), mapping)


def test_a_states_figures_come_from_its_counties(capsys):
    report = import_file(require(CA_DOJ), load_format("ca-doj"))
    assert report.ok
    call_command("stats", metric="homicides", jurisdiction="California", by="year", format="json")
    by_year = {r["period"]: r["count"] for r in json.loads(capsys.readouterr().out)}
    doj = pd.read_csv(CA_DOJ, usecols=["Year", "Homicide_sum"])
    assert by_year == {str(y): int(n) for y, n in doj.groupby("Year")["Homicide_sum"].sum().items()}
    assert by_year["1993"] == 4095 and by_year["2022"] == 2206
    assert max(by_year, key=by_year.get) == "1993"
    california = Jurisdiction.objects.get(name="California")
    assert california.level == "state" and california.parent is None
    assert set(california.children.values_list("level", flat=True)) == {"county"}
    assert california.children.count() == 58


def test_philadelphia_incidents_are_counted_by_philadelphias_dates_and_hours(tmp_path, capsys):
    """The shootings of New Year's Eve and Day 2020-21, as the City of Philadelphia
    published them."""
    frame = pd.read_csv(require(PHILLY), dtype=str, keep_default_na=False)
    new_year = frame[frame["date"].between("2020/12/31 00:00:00", "2021/01/01 23:59:59")]
    assert len(new_year) > 3
    new_year.to_csv(tmp_path / "new_year.csv", index=False)
    report = import_file(tmp_path / "new_year.csv", load_format("philly-shootings"))
    assert report.ok, report.errors
    philadelphia = Jurisdiction.objects.get(name="Philadelphia")
    assert philadelphia.path == "Pennsylvania > Philadelphia"
    assert philadelphia.time_zone == "America/New_York"
    late = Incident.objects.filter(occurred_on=dt.date(2020, 12, 31)).order_by("-occurred_time")[0]
    assert late.occurred_time.hour >= 19  # after 19:00 in Philadelphia is 2020 in UTC
    assert late.occurred_at.utcoffset() == dt.timedelta(hours=-5)
    assert late.occurred_at.astimezone(dt.UTC).date() == dt.date(2021, 1, 1)
    # Counted by Philadelphia's dates: the file's own date decides the year.
    call_command("stats", metric="shootings", jurisdiction="Philadelphia", by="year", format="json")
    counts = {r["period"]: r["count"] for r in json.loads(capsys.readouterr().out)}
    in_2020 = new_year["date"].str.startswith("2020").sum()
    assert counts["2020"] == in_2020 and counts["2021"] == len(new_year) - in_2020
    assert philadelphia.today() == dt.datetime.now(dt.UTC).astimezone(philadelphia.zone).date()


def test_existing_places_are_filed_under_their_states_on_migration():
    """The data migration, run on places made before states (no state, the old zone)."""
    from importlib import import_module

    migration = import_module("gvrs.incidents.migrations.0004_places_states_codes")
    old = {"state": "", "time_zone": "America/Los_Angeles"}
    philadelphia = Jurisdiction.objects.create(name="Philadelphia", slug="philadelphia", **old)
    kern = Jurisdiction.objects.create(name="Kern County", slug="kern-county", **old)
    arvin = Jurisdiction.objects.create(name="Arvin", slug="arvin", parent=kern, **old)
    migration.file_under_states(apps, None)
    for place in (philadelphia, kern, arvin):
        place.refresh_from_db()
    assert philadelphia.path == "Pennsylvania > Philadelphia"
    assert (philadelphia.state, philadelphia.time_zone) == ("PA", "America/New_York")
    assert arvin.path == "California > Kern County > Arvin" and arvin.state == "CA"
    assert Jurisdiction.objects.get(name="California").level == "state"


def test_places_and_areas_are_created_once_across_chunks_and_found_again(tmp_path):
    existing = write_csv(tmp_path / "a.csv", [row("A-1", jurisdiction="Kern County > Arvin")])
    import_file(existing, GVRS)
    rows = [
        row(f"B-{i}", jurisdiction=place, area=area)
        for i, (place, area) in enumerate(
            [
                ("Kern County > Arvin", "east bakersfield"),  # the existing area, other case
                ("Kern County > Delano", "North"),
                ("TX > Harris County > Houston", "Third Ward"),
                ("Kern County > Delano", "North"),
                ("TX > Harris County > Houston", "Fifth Ward"),
                ("Kern County > Delano", "South"),
            ]
        )
    ]
    report = import_file(write_csv(tmp_path / "b.csv", rows), GVRS, chunk_rows=2)
    assert report.ok, report.errors
    assert report.created_jurisdictions == [
        "California > Kern County > Delano",
        "Texas",
        "Texas > Harris County",
        "Texas > Harris County > Houston",
    ]
    areas = {(a.jurisdiction.name, a.name) for a in Area.objects.select_related("jurisdiction")}
    assert areas == {
        ("Arvin", "East Bakersfield"),
        ("Delano", "North"),
        ("Delano", "South"),
        ("Houston", "Third Ward"),
        ("Houston", "Fifth Ward"),
    }
    assert Incident.objects.get(source_id="B-0").area.name == "East Bakersfield"
    houston = Jurisdiction.objects.get(name="Houston")
    assert (houston.state, houston.time_zone, houston.import_run_id) == (
        "TX",
        "America/Chicago",
        report.run.pk,
    )


def test_an_area_named_through_two_paths_of_one_place_is_one_area(tmp_path):
    import_file(
        write_csv(tmp_path / "a.csv", [row("A-1", jurisdiction="Kern County > Arvin")]), GVRS
    )
    rows = [
        row("B-1", jurisdiction="Kern County > Arvin", area="Sunset"),
        row("B-2", jurisdiction="Arvin", area="SUNSET"),  # the same place and area, said otherwise
        row("B-3", jurisdiction="Arvin", area=""),
        row("B-4", jurisdiction="Kern County > Arvin", area="East Bakersfield"),
    ]
    report = import_file(write_csv(tmp_path / "b.csv", rows), GVRS)
    assert report.ok, report.errors
    assert sorted(Area.objects.values_list("name", flat=True)) == ["East Bakersfield", "Sunset"]
    area_of = dict(Incident.objects.values_list("source_id", "area__name"))
    assert area_of == {
        "A-1": "East Bakersfield",
        "B-1": "Sunset",
        "B-2": "Sunset",
        "B-3": None,
        "B-4": "East Bakersfield",
    }


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="an SQLite trigger plays the other writer"
)
def test_new_areas_are_matched_by_name_when_other_rows_land_among_them():
    """New areas' ids are read back in the order the areas went in; should another writer's
    row lie among them, each new area is found by its name instead."""
    arvin, _ = find_or_create_jurisdiction("Kern County > Arvin")
    delano, _ = find_or_create_jurisdiction("Kern County > Delano")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TRIGGER another_writer AFTER INSERT ON incidents_area "
            "WHEN NEW.name = 'North' BEGIN INSERT INTO incidents_area "
            "(jurisdiction_id, name, kind) VALUES (NEW.jurisdiction_id, 'Elsewhere', 'beat'); END"
        )
        try:
            ids = PlaceResolver(state="CA").area_ids(
                [arvin.pk, arvin.pk, delano.pk], ["North", "South", "north"]
            )
        finally:
            cursor.execute("DROP TRIGGER another_writer")
    found = [(a.jurisdiction_id, a.name) for a in (Area.objects.get(pk=pk) for pk in ids)]
    assert found == [(arvin.pk, "North"), (arvin.pk, "South"), (delano.pk, "north")]
    assert Area.objects.filter(name="Elsewhere").count() == 1


def test_one_file_naming_a_place_bare_and_by_its_path_makes_one_place(tmp_path):
    """A bare "Lost Hills" and "Kern County > Lost Hills" in one file are one place: the
    longer path is made first and the bare name finds it."""
    rows = [
        row("D-1", jurisdiction="Lost Hills"),
        row("D-2", jurisdiction="Kern County > Lost Hills"),
    ]
    report = import_file(write_csv(tmp_path / "d.csv", rows), GVRS)
    assert report.ok, report.errors
    assert [j.path for j in Jurisdiction.objects.filter(name="Lost Hills")] == [
        "California > Kern County > Lost Hills"
    ]
    assert {i.jurisdiction.name for i in Incident.objects.all()} == {"Lost Hills"}


def test_a_look_alike_made_earlier_in_the_same_import_is_refused_too(tmp_path):
    """In chunks: the bare "Lost Hills" of the first chunk is made at the state's top level;
    the "Kern County > Lost Hills" of a later chunk would be a second one, silently, so it is
    refused with the first one named (unless --new-places), and nothing is stored. Two full
    paths naming different counties stay two places (the California DOJ file has such)."""
    rows = [
        row("D-1", jurisdiction="Lost Hills"),
        row("D-2", jurisdiction="Lost Hills"),
        row("D-3", jurisdiction="Kern County > Lost Hills"),
    ]
    with pytest.raises(PlaceError) as refused:
        import_file(write_csv(tmp_path / "d.csv", rows), GVRS, chunk_rows=2)
    message = str(refused.value)
    assert "line 4" in message
    assert "second 'Lost Hills' (already: California > Lost Hills)" in message
    assert not Jurisdiction.objects.filter(name="Lost Hills").exists()
    again = import_file(write_csv(tmp_path / "d.csv", rows), GVRS, chunk_rows=2, new_places=True)
    assert again.ok, again.errors
    assert Jurisdiction.objects.filter(name="Lost Hills").count() == 2
    parks = [
        row("P-1", jurisdiction="Riverside County > Chino Hills DPR"),
        row("P-2", jurisdiction="Riverside County > Chino Hills DPR"),
        row("P-3", jurisdiction="San Bernardino County > Chino Hills DPR"),
    ]
    assert import_file(write_csv(tmp_path / "p.csv", parks), GVRS, chunk_rows=2).ok
    assert Jurisdiction.objects.filter(name="Chino Hills DPR").count() == 2
