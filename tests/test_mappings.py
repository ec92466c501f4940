"""The mapping language: paths from several columns, [filter], [derive] rules, [unpivot] and
part-of-year windows, strict columns, and ``gvrs mapping check``; the FiveThirtyEight files
imported through the documented mappings in docs/mappings."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.data.errors import FileError
from gvrs.data.mapping import MappingError, load_format, load_mapping, parse_mapping
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident, Jurisdiction, PublishedCount
from tests.conftest import CA_DOJ, SHARED_DATA, require

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[1] / "docs" / "mappings"
FIVETHIRTYEIGHT = SHARED_DATA / "fivethirtyeight-murder-2016"

# A national archive's rows: a state, a city, and tags in one list-valued text column.
ARCHIVE_HEADER = ["id", "date", "state", "city", "killed", "injured", "characteristics", "gun"]
ARCHIVE_ROWS = [
    ["1", "2016-03-01", "California", "Fresno", "1", "0", "Shot - Dead||Gang involvement", "yes"],
    ["2", "2016-03-02", "California", "Fresno", "0", "1", "Shot - Wounded||Drive-by", "yes"],
    ["3", "2016-03-03", "California", "Stockton", "0", "1", "Officer Involved Shooting", "yes"],
    ["4", "2016-03-04", "Texas", "Fresno", "0", "1", "Shot - Wounded", "yes"],
    ["5", "2016-03-05", "California", "Fresno", "0", "0", "Shots fired||Gang involvement?", "no"],
]


def archive_mapping(**extra) -> dict:
    document = {
        "format": {"name": "archive", "source": "archive"},
        "columns": {
            "source_id": "id",
            "occurred_at": "date",
            "jurisdiction": ["{state}", "{city}"],
            "killed": "killed",
            "injured": "injured",
            "weapon": {"column": "gun", "values": {"yes": "firearm", "no": "unknown"}},
        },
        "derive": {
            "kind": "outcome",
            "rules": [
                {
                    "field": "kind",
                    "column": "characteristics",
                    "contains": "Officer Involved Shooting",
                    "separator": "||",
                    "value": "officer_involved_shooting",
                },
                {
                    "field": "group_involvement",
                    "column": "characteristics",
                    "contains": "Gang involvement",
                    "separator": "||",
                    "value": "yes",
                },
                {
                    "field": "circumstance",
                    "column": "characteristics",
                    "regex": "(?i)drive-?by",
                    "value": "group_conflict",
                },
            ],
        },
    }
    for key, value in extra.items():
        document[key] = value
    return document


def write_archive(path: Path, rows=ARCHIVE_ROWS, header=ARCHIVE_HEADER) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_tags_in_a_list_valued_column_set_kind_group_involvement_and_circumstance(tmp_path):
    mapping = parse_mapping(archive_mapping(), "archive.toml")
    report = import_file(write_archive(tmp_path / "a.csv"), mapping)
    assert report.ok, report.errors
    got = {
        i.source_id: (i.kind, i.group_involvement, i.circumstance, i.weapon)
        for i in Incident.objects.all()
    }
    assert got == {
        "1": ("homicide", "yes", "unknown", "firearm"),
        "2": ("nonfatal_shooting", "unknown", "group_conflict", "firearm"),
        "3": ("officer_involved_shooting", "unknown", "unknown", "firearm"),
        "4": ("nonfatal_shooting", "unknown", "unknown", "firearm"),
        # "Gang involvement?" is not the item "Gang involvement": whole items only.
        "5": ("shots_fired", "unknown", "unknown", "unknown"),
    }
    # A re-import of the same file changes nothing (rule-set kinds are fingerprinted).
    again = import_file(write_archive(tmp_path / "a.csv"), mapping)
    assert again.run.incidents_unchanged == 5 and again.run.incidents_updated == 0


def test_a_filter_keeps_rows_by_equality_membership_or_regex(tmp_path):
    path = write_archive(tmp_path / "a.csv")
    cases = [
        ({"state": "california"}, {"1", "2", "3", "5"}),
        ({"city": ["Stockton", "Nowhere"]}, {"3"}),
        ({"characteristics": {"regex": "^Shot - "}}, {"1", "2", "4"}),
        ({"state": {"not": "California"}}, {"4"}),
        ({"state": "California", "gun": "yes"}, {"1", "2", "3"}),
    ]
    for number, (row_filter, kept) in enumerate(cases):
        document = archive_mapping(filter=row_filter)
        document["format"]["source"] = f"archive-{number}"
        report = import_file(path, parse_mapping(document, "archive.toml"))
        assert report.ok, report.errors
        stored = set(
            Incident.objects.filter(source=f"archive-{number}").values_list("source_id", flat=True)
        )
        assert stored == kept, row_filter
        assert report.rows_filtered == 5 - len(kept)
        assert f"{5 - len(kept):,} rows left out by the mapping's filter" in report.run.message


def test_kind_derived_from_outcomes_without_weapon_is_refused():
    document = archive_mapping()
    del document["columns"]["weapon"]
    with pytest.raises(MappingError) as refused:
        parse_mapping(document, "archive.toml")
    message = str(refused.value)
    assert "archive.toml: derive.kind = 'outcome'" in message
    assert "weapon must be mapped or defaulted" in message
    assert "shootings, shooting_incidents and firearm_homicides count 0" in message
    # A default, or a rule that derives it, is enough.
    parse_mapping({**document, "defaults": {"weapon": "firearm"}}, "archive.toml")


def test_a_mapped_column_missing_from_the_file_is_refused_even_when_optional(tmp_path):
    document = archive_mapping()
    document["columns"]["victim_race"] = "race"  # optional field, column not in the file
    mapping = parse_mapping(document, "archive.toml")
    with pytest.raises(FileError) as refused:
        import_file(write_archive(tmp_path / "a.csv"), mapping)
    message = str(refused.value)
    assert message.startswith("a.csv: line 1: missing column race for format 'archive'")
    assert not Incident.objects.exists()
    # The same for a column only a [derive] rule or a [filter] reads.
    document = archive_mapping(filter={"county": "Fresno County"})
    with pytest.raises(FileError, match="missing column county"):
        import_file(write_archive(tmp_path / "a.csv"), parse_mapping(document, "archive.toml"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"columns": {"jurisdiction": ["state", "city"]}},
            "'state' names no column; write columns in braces",
        ),
        ({"columns": {"area": ["{a}", "{b}"]}}, "a list is a place path of templates"),
        ({"filter": {"state": {"regex": "("}}}, "is not a regular expression"),
        ({"filter": {"state": {"like": "x"}}}, "takes one of regex or not"),
        (
            {"derive": {"kind": "outcome", "rules": [{"field": "kind", "column": "c"}]}},
            "derive.rules #1 needs value",
        ),
        (
            {
                "derive": {
                    "kind": "outcome",
                    "rules": [{"field": "weapon", "column": "c", "contains": "x", "value": "gun"}],
                }
            },
            "value for weapon must be one of firearm, knife, other, unknown",
        ),
        (
            {
                "derive": {
                    "kind": "outcome",
                    "rules": [{"field": "victim_age", "column": "c", "regex": "x", "value": "1"}],
                }
            },
            "field must be one of kind, weapon, group_involvement, circumstance",
        ),
        ({"place": {"state": "Cascadia"}}, "'Cascadia' is not a US state"),
        ({"place": {"time_zone": "Mars/Olympus"}}, "is not an IANA zone"),
        ({"place": {"county": "x"}}, "place has unknown keys ['county']"),
    ],
)
def test_mapping_errors_name_the_file_the_key_and_the_reason(change, message):
    document = archive_mapping()
    for key, value in change.items():
        if key == "columns":
            document["columns"] = {**document["columns"], **value}
        else:
            document[key] = value
    with pytest.raises(MappingError, match=r"archive\.toml") as refused:
        parse_mapping(document, "archive.toml")
    assert message in str(refused.value)


def test_a_path_template_adds_literal_text_to_a_column(tmp_path):
    document = archive_mapping()
    document["columns"]["jurisdiction"] = ["{state}", "{county} County", "{city}"]
    rows = [[*r[:3], "Fresno", *r[3:]] for r in ARCHIVE_ROWS[:2]]
    header = [*ARCHIVE_HEADER[:3], "county", *ARCHIVE_HEADER[3:]]
    report = import_file(
        write_archive(tmp_path / "a.csv", rows, header), parse_mapping(document, "archive.toml")
    )
    assert report.ok, report.errors
    assert Incident.objects.first().jurisdiction.path == "California > Fresno County > Fresno"


@pytest.fixture
def fivethirtyeight():
    """Both FiveThirtyEight tables, through the documented mappings, beside CA DOJ's file."""
    assert import_file(require(CA_DOJ), load_format("ca-doj")).ok
    reports = {}
    for year, name in ((2015, "murder_2015_final.csv"), (2016, "murder_2016_prelim.csv")):
        mapping = load_mapping(DOCS / f"fivethirtyeight-murder-{year}.toml")
        reports[year] = import_file(require(FIVETHIRTYEIGHT / name), mapping)
        assert reports[year].ok, reports[year].errors
    return reports


def test_fivethirtyeight_year_to_date_counts_compare_window_for_window(fivethirtyeight, capsys):
    prelim = pd.read_csv(FIVETHIRTYEIGHT / "murder_2016_prelim.csv")
    assert fivethirtyeight[2016].run.rows_inserted == 2 * len(prelim)
    stored = PublishedCount.objects.filter(source="fivethirtyeight-murder-2016")
    for city in prelim.itertuples():
        as_of = pd.Timestamp(city.as_of)
        place = Jurisdiction.objects.named(f"{city.state} > {city.city}")
        figures = {
            p.period_start.year: p
            for p in stored.filter(jurisdiction=place).order_by("period_start")
        }
        # The same window in each year: 1 January to as_of's month and day.
        assert figures[2016].period_end == as_of.date()
        assert figures[2015].period_end == as_of.date().replace(year=2015)
        assert (figures[2015].count, figures[2016].count) == (
            city._3,  # 2015_murders
            city._4,  # 2016_murders
        )
    call_command(
        "compare",
        metric="homicides",
        jurisdiction="CA > Fresno",
        period="2016-YTD",
        vs="2015-YTD",
        as_of=pd.Timestamp("2016-07-31").date(),
        source="fivethirtyeight-murder-2016",
        format="json",
    )
    (record,) = json.loads(capsys.readouterr().out)
    fresno = prelim[prelim["city"] == "Fresno"].iloc[0]
    assert (record["vs_count"], record["count"], record["change"]) == (30, 19, fresno["change"])
    assert record["period_end"] == "2016-07-31" and record["vs_period"] == "2015-YTD"
    assert "from 30 in 2015-YTD to 19 in 2016-YTD" in record["sentence"]
    # A part-of-year figure is never summed into a year.
    call_command("stats", metric="homicides", jurisdiction="CA > Fresno", format="json")
    sources = {r["source"] for r in json.loads(capsys.readouterr().out)}
    assert "fivethirtyeight-murder-2016" not in sources


def test_fivethirtyeight_annual_figures_agree_with_california_doj(fivethirtyeight, capsys):
    final = pd.read_csv(FIVETHIRTYEIGHT / "murder_2015_final.csv")
    for city in ("Fresno", "Stockton", "Bakersfield"):
        call_command(
            "stats",
            metric="homicides",
            jurisdiction=f"California > {city}",
            start=pd.Timestamp("2014-01-01").date(),
            end=pd.Timestamp("2015-12-31").date(),
            format="json",
        )
        records = json.loads(capsys.readouterr().out)
        by_source = {(r["source"], r["period"]): r["count"] for r in records}
        row = final[(final["city"] == city) & (final["state"] == "California")].iloc[0]
        for year in (2014, 2015):
            published = by_source[("fivethirtyeight-murder-2015", str(year))]
            assert published == row[f"{year}_murders"]
            assert published == by_source[("ca-doj-crimes-clearances", str(year))], (city, year)
    # The cities of other states became places of their own states, beside California's.
    assert Jurisdiction.objects.named("NJ > Newark").state == "NJ"
    assert Jurisdiction.objects.named("CA > Newark").parent.name == "Alameda County"
    assert Jurisdiction.objects.named("DC > Washington").time_zone == "America/New_York"


def test_mapping_check_validates_and_shows_the_first_rows(tmp_path, capsys):
    mapping = DOCS / "fivethirtyeight-murder-2016.toml"
    data = require(FIVETHIRTYEIGHT / "murder_2016_prelim.csv")
    call_command("mapping", "check", str(mapping), str(data), rows=2)
    out = capsys.readouterr().out
    assert "a valid published_counts mapping" in out
    assert "Illinois > Chicago" in out and "2016-10-02" in out and "Florida > Orlando" in out
    assert "Memphis" not in out
    assert not Jurisdiction.objects.exists()  # nothing is written

    toml = tmp_path / "archive.toml"
    toml.write_text(
        '[format]\nname = "archive"\n[defaults]\nweapon = "firearm"\n'
        '[columns]\nsource_id = "id"\noccurred_at = "date"\n'
        'jurisdiction = ["{state}", "{city}"]\nkilled = "killed"\ninjured = "injured"\n'
        '[derive]\nkind = "outcome"\n'
    )
    call_command("mapping", "check", str(toml), str(write_archive(tmp_path / "a.csv")))
    out = capsys.readouterr().out
    assert "jurisdiction <- path {state} > {city}" in out
    assert "TX" in out and "(from outcome)" in out

    toml.write_text(toml.read_text() + '[place]\nstate = "Cascadia"\n')
    with pytest.raises(CommandError, match="not a US state") as bad:
        call_command("mapping", "check", str(toml))
    assert bad.value.returncode == 2
    toml.write_text(toml.read_text().replace('state = "Cascadia"', "").replace('"id"', '"ID"'))
    with pytest.raises(CommandError, match="missing required column ID") as missing:
        call_command("mapping", "check", str(toml), str(tmp_path / "a.csv"))
    assert missing.value.returncode == 1
