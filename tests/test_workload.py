"""Police workload: officer-hours tied up by shootings, carried through as a range from stated
assumptions, and the hours a fall in shootings frees, labelled as arithmetic on assumptions."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.analysis.narrative import cost_sentence, hours_freed_sentence, workload_sentence
from gvrs.analysis.workload import (
    CostPerShooting,
    Range,
    WorkloadAssumptions,
    WorkloadError,
    cost_table_from_mapping,
    hours_freed,
    officer_hours,
    shooting_costs,
)
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from tests.importing_helpers import row, write_csv

# ---------------------------------------------------------------------------------------------
# The arithmetic


def test_fresno_2020_is_732_shootings_times_5_to_12_officers_times_1_to_3_hours():
    hours = officer_hours(732, "2020")
    assert (hours.hours.low, hours.hours.high) == (732 * 5 * 1, 732 * 12 * 3) == (3660, 26352)


def test_each_end_of_the_range_is_checked_against_brute_force_over_the_corners():
    """The product of two ranges is the range of every product of their values: the ends
    are the smallest and largest of the four corner products (non-negative ranges)."""
    assumptions = WorkloadAssumptions(Range(2, 7), Range(0.5, 4), "test")
    hours = officer_hours(101, "2022", assumptions)
    corners = [101 * o * h for o in (2, 7) for h in (0.5, 4)]
    assert (hours.hours.low, hours.hours.high) == (min(corners), max(corners))


def test_hours_freed_by_a_fall_are_the_fall_times_the_same_ranges():
    freed = hours_freed(officer_hours(732, "2020"), officer_hours(344, "2023"))
    assert freed.fewer == 388
    assert (freed.hours.low, freed.hours.high) == (388 * 5, 388 * 36)


def test_a_rise_adds_hours_and_says_so():
    freed = hours_freed(officer_hours(300, "2021"), officer_hours(310, "2022"))
    assert freed.fewer == -10
    sentence = hours_freed_sentence(freed)
    assert sentence.startswith("10 more shootings in 2022 than in 2021")
    assert "50–360 more officer-hours tied up" in sentence
    assert sentence.endswith("arithmetic on these assumptions, not a measured cost.")


def test_periods_costed_on_different_assumptions_are_not_compared():
    other = WorkloadAssumptions(Range(1, 2), Range(1, 2), "someone else")
    with pytest.raises(WorkloadError, match="same assumptions"):
        hours_freed(officer_hours(10, "2021"), officer_hours(5, "2022", other))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"officers": [12, 5], "source": "x"}, r"officers: a range needs 0 <= low <= high"),
        ({"hours": ["one", 3], "source": "x"}, r"hours: give \[low, high\] as two numbers"),
        ({"officers": [5, 12]}, r"source: give the source of your own officers and hours"),
        ({"officers": [5, 12], "source": "  "}, r"source: say where the figures come from"),
        ({"crews": 3}, r"unknown keys \['crews'\]"),
    ],
)
def test_bad_assumptions_are_refused_naming_the_field(table, message):
    with pytest.raises(WorkloadError, match=message):
        WorkloadAssumptions.from_mapping(table)


def test_a_single_number_is_a_range_of_one_value():
    a = WorkloadAssumptions.from_mapping({"officers": 4, "hours": [2, 2], "source": "city"})
    assert a.officers == Range(4, 4)
    assert "40 shootings × 4 officers × 2 hours = 320 officer-hours" in workload_sentence(
        officer_hours(40, "2022", a)
    )


def test_a_cost_line_needs_its_source():
    with pytest.raises(WorkloadError, match=r"\[\[cost\]\] number 1: source is required"):
        cost_table_from_mapping([{"label": "police response", "per_shooting": [100, 200]}])


def test_cost_sentence_cites_the_users_source_and_says_it_is_not_measured():
    table = cost_table_from_mapping(
        [
            {
                "label": "police response",
                "per_shooting": [2500, 4000],
                "price_year": 2023,
                "source": "City budget office, 2023",
            }
        ]
    )
    (cost,) = shooting_costs(344, table)
    assert (cost.total.low, cost.total.high) == (860_000, 1_376_000)
    assert cost_sentence(cost, "2023") == (
        "At $2,500–$4,000 per shooting for police response (2023 USD; source: City budget "
        "office, 2023), 344 shootings in 2023 come to $860,000–$1,376,000: arithmetic on the "
        "cited figure, not a measured cost."
    )
    assert isinstance(table[0], CostPerShooting)


# ---------------------------------------------------------------------------------------------
# From a canonical incident file, through the importer, to the report's sentences

# Shooting incidents a year in the test file: Fresno's chief's 732 (2020) and the 344 of the
# issue (2023); the years between are filler the tests below do not examine.
FRESNO = {2020: 732, 2021: 650, 2022: 500, 2023: 344}


def _fresno_rows() -> list[dict[str, str]]:
    rows = []
    for year, n in FRESNO.items():
        start = dt.date(year, 1, 1)
        for i in range(n):
            day = start + dt.timedelta(days=i * 365 // n)
            fatal = i % 7 == 0
            rows.append(
                row(
                    f"F{year}-{i:04d}",
                    jurisdiction="Fresno",
                    area="",
                    latitude="",
                    longitude="",
                    kind="homicide" if fatal else "nonfatal_shooting",
                    killed="1" if fatal else "0",
                    injured="0" if fatal else str(1 + i % 2),
                    occurred_at=f"{day.isoformat()}T{i % 24:02d}:30",
                    group_involvement="unknown",
                    circumstance="unknown",
                )
            )
    return rows


@pytest.fixture
def fresno(tmp_path, db):
    path = write_csv(tmp_path / "fresno-shootings.csv", _fresno_rows())
    report = import_file(
        path,
        load_format("gvrs"),
        source="fresno-test",
        covers_from=dt.date(2020, 1, 1),
        covers_through=dt.date(2023, 12, 31),
        new_places=True,
    )
    assert report.ok, report.errors
    assert report.run.incidents_inserted == sum(FRESNO.values())
    return tmp_path


def _report(tmp_path, *args: str) -> dict:
    out = tmp_path / "report.json"
    call_command("report", *args, "--out", str(out), stdout=io.StringIO())
    return json.loads(out.read_text())


def _section(document: dict, slug: str) -> list[str]:
    (section,) = [s for s in document["sections"] if s["slug"] == slug]
    return [b["text"] for b in section["blocks"] if b["kind"] == "paragraph"]


def test_fresno_workload_2020_and_2023_from_an_imported_file(fresno):
    document = _report(fresno, "--jurisdiction", "Fresno", "--period", "2023", "--vs", "2020")
    sentences = _section(document, "workload")
    assert sentences[0] == (
        "344 shootings × 5–12 officers × 1–3 hours = 1,720–12,384 officer-hours tied up in "
        "2023, if each takes 5–12 officers for 1–3 hours (Fresno's police chief: one shooting "
        "can tie up five to 12 officers for one to three hours)."
    )
    assert sentences[1].startswith(
        "732 shootings × 5–12 officers × 1–3 hours = 3,660–26,352 officer-hours tied up in 2020"
    )
    # The fall itself, with its exact test, and the hours it frees, labelled for what they are.
    assert sentences[2].startswith("Shooting incidents fell 53%, from 732 in 2020 to 344 in 2023")
    assert sentences[3] == (
        "388 fewer shootings in 2023 than in 2020 × 5–12 officers × 1–3 hours = 1,940–13,968 "
        "officer-hours freed: arithmetic on these assumptions, not a measured saving."
    )
    (table,) = [
        b
        for s in document["sections"]
        if s["slug"] == "workload"
        for b in s["blocks"]
        if b["kind"] == "table"
    ]
    assert table["rows"] == [
        ["2020", "732", "5–12", "1–3", "3,660–26,352"],
        ["2023", "344", "5–12", "1–3", "1,720–12,384"],
    ]
    assert any("not a measurement of police time" in n for n in table["notes"])


def test_a_workload_file_changes_the_assumptions_and_adds_the_cited_costs(fresno):
    config = fresno / "workload.toml"
    config.write_text(
        '[workload]\nofficers = [3, 6]\nhours = [2, 2]\nsource = "Fresno PD staffing study"\n'
        '[[cost]]\nlabel = "police response"\nper_shooting = 1000\n'
        'source = "City budget office"\n',
        encoding="utf-8",
    )
    document = _report(
        fresno,
        "--jurisdiction",
        "Fresno",
        "--period",
        "2023",
        "--vs",
        "2020",
        "--workload",
        str(config),
    )
    sentences = _section(document, "workload")
    assert sentences[0].startswith(
        "344 shootings × 3–6 officers × 2 hours = 2,064–4,128 officer-hours tied up in 2023"
    )
    assert "(Fresno PD staffing study)" in sentences[0]
    assert (
        "At $1,000 per shooting for police response (USD; source: City budget office), 344 "
        "shootings in 2023 come to $344,000: arithmetic on the cited figure, not a measured "
        "cost." in sentences
    )
    assert any(s.startswith("At $1,000 per shooting") and "388 fewer" in s for s in sentences)


def test_a_bad_workload_file_is_a_usage_error_naming_file_and_field(fresno):
    config = fresno / "workload.toml"
    config.write_text('[workload]\nofficers = [12, 5]\nsource = "x"\n', encoding="utf-8")
    with pytest.raises(CommandError, match=r"workload.toml: \[workload\] officers"):
        _report(fresno, "--jurisdiction", "Fresno", "--period", "2023", "--workload", str(config))


def test_a_period_after_the_data_is_refused_naming_the_coverage(fresno):
    with pytest.raises(CommandError) as caught:
        _report(fresno, "--jurisdiction", "Fresno", "--period", "2024")
    message = str(caught.value)
    assert message.startswith("no data to publish for 2024 in Fresno")
    assert "data through 31 Dec 2023" in message
    assert "Choose a period inside the coverage" in message


def test_a_period_before_the_data_is_refused_too(fresno):
    with pytest.raises(CommandError, match="no data to publish for 2019 in Fresno"):
        _report(fresno, "--jurisdiction", "Fresno", "--period", "2019")


def test_the_report_says_when_the_data_were_last_imported(fresno):
    document = _report(fresno, "--jurisdiction", "Fresno", "--period", "2023")
    assert document["last_imported"].startswith("last imported ")
    sources = " ".join(_section(document, "sources"))
    assert "last imported" in sources and "data through 31 Dec 2023" in sources
