"""Who was shot: figures filtered and broken down by the fields of the people in them, on the
command line (``gvrs stats --by victim_sex``, ``--where``, ``gvrs incidents --where``) and in
metrics a jurisdiction defines itself."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from tests.conftest import SHARED_DATA, require
from tests.importing_helpers import row, write_csv
from tests.nibrs_helpers import cde_counts, load_cde

pytestmark = pytest.mark.django_db


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def json_of(*args: str) -> list[dict]:
    code, out, err = cli(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


VICTIMS_2022 = [
    # (incident, kind, killed, injured, sex, age, age group as published)
    ("H1", "homicide", 1, 0, "female", "17", ""),
    ("H1", "homicide", 0, 1, "male", "19", ""),
    ("H2", "homicide", 1, 0, "male", "34", ""),
    ("H3", "homicide", 1, 0, "male", "", "45-64"),
    ("H4", "homicide", 1, 0, "", "", ""),
    ("S1", "nonfatal_shooting", 0, 1, "female", "22", ""),
    ("S1", "nonfatal_shooting", 0, 1, "female", "23", ""),
    ("S2", "nonfatal_shooting", 0, 1, "male", "60", ""),
]


@pytest.fixture
def town(tmp_path):
    """Bakersfield's 2022 shootings and homicides, victim by victim, covering the year."""
    rows = [
        row(
            source_id,
            kind=kind,
            occurred_at=f"2022-0{1 + i % 9}-1{i}",
            killed=str(killed),
            injured=str(injured),
            victim_sex=sex,
            victim_age=age,
            victim_age_group=group,
            group_involvement="yes" if source_id == "S1" else "no",
            area="East Bakersfield" if source_id in ("H1", "S1") else "Oildale",
        )
        for i, (source_id, kind, killed, injured, sex, age, group) in enumerate(VICTIMS_2022)
    ]
    # One incident's rows must agree on its fields: the first row's date and area win.
    first = {}
    for r in rows:
        first.setdefault(r["source_id"], r)
        for name in ("occurred_at", "area", "group_involvement"):
            r[name] = first[r["source_id"]][name]
    path = write_csv(tmp_path / "town.csv", rows, header=[*rows[0]])
    report = import_file(
        path,
        load_format("gvrs"),
        state="CA",
        covers_from=dt.date(2022, 1, 1),
        covers_through=dt.date(2022, 12, 31),
    )
    assert report.ok, report.errors


def by_value(records: list[dict], field: str) -> dict[str, int]:
    return {r[field]: r["count"] for r in records}


def test_stats_by_victim_sex_counts_each_person_under_their_sex(town):
    records = json_of("stats", "--metric", "homicides", "--jurisdiction", "Bakersfield",
                      "--by", "victim_sex")  # fmt: skip
    # The killed: a woman, two men and one whose sex was not recorded.
    assert by_value(records, "victim_sex") == {"female": 1, "male": 2, "not recorded": 1}
    assert {r["period"] for r in records} == {"2022"}
    shot = json_of("stats", "--metric", "shootings", "--jurisdiction", "Bakersfield",
                   "--by", "victim_sex")  # fmt: skip
    # People shot, killed or injured: three women, four men, one not recorded.
    assert by_value(shot, "victim_sex") == {"female": 3, "male": 4, "not recorded": 1}


def test_where_filters_people_by_any_field(town):
    women = json_of("stats", "--metric", "shootings", "--jurisdiction", "Bakersfield",
                    "--where", "victim_sex=F")  # fmt: skip
    assert [(r["period"], r["count"], r["source"]) for r in women] == [("2022", 3, "gvrs")]
    young_men = json_of(
        "stats", "--metric", "shootings", "--jurisdiction", "Bakersfield",
        "--where", "victim_sex=male", "--where", "victim_age_group=18–24",
    )  # fmt: skip
    assert young_men[0]["count"] == 1
    either = json_of(
        "stats", "--metric", "shootings", "--jurisdiction", "Bakersfield",
        "--where", "victim_age_group=under 18", "--where", "victim_age_group=55 and over",
    )  # fmt: skip
    assert either[0]["count"] == 2


def test_age_groups_come_from_ages_or_the_group_a_source_published(town):
    records = json_of("stats", "--metric", "shootings", "--jurisdiction", "Bakersfield",
                      "--by", "victim_age_group")  # fmt: skip
    assert by_value(records, "victim_age_group") == {
        "under 18": 1,
        "18–24": 3,
        "25–34": 1,
        "55 and over": 1,
        "45-64": 1,  # published as a band, kept as the source wrote it
        "not recorded": 1,
    }
    assert [r["victim_age_group"] for r in records][-1] == "not recorded"


def test_a_figure_of_incidents_counts_an_incident_under_each_of_its_victims_values(town):
    records = json_of("stats", "--metric", "shooting_incidents", "--jurisdiction",
                      "Bakersfield", "--by", "victim_sex")  # fmt: skip
    # H1 (a woman and a man) counts under both; S1 (two women) once.
    assert by_value(records, "victim_sex") == {"female": 2, "male": 4, "not recorded": 1}
    code, out, _ = cli("stats", "--metric", "shooting_incidents", "--jurisdiction",
                       "Bakersfield", "--by", "victim_sex")  # fmt: skip
    assert code == 0 and "counts under each" in out


def test_a_breakdown_by_month_keeps_months_without_victims_as_zeros(town):
    records = json_of("stats", "--metric", "homicides", "--jurisdiction", "Bakersfield",
                      "--by", "month", "--by", "victim_sex")  # fmt: skip
    women = [r for r in records if r["victim_sex"] == "female"]
    assert len(women) == 12 and sum(r["count"] for r in women) == 1


def test_a_metric_of_the_jurisdictions_own_counts_only_the_victims_it_names(town, tmp_path):
    metrics = tmp_path / "metrics.toml"
    metrics.write_text(
        """
[women_shot]
label = "Women shot"
description = "Women killed or injured by gunfire."
kinds = ["homicide", "nonfatal_shooting"]
weapons = ["firearm"]
count = "victims"
victims = { victim_sex = ["female"] }

[incidents_with_a_child_shot]
label = "Shootings of children"
description = "Incidents in which a victim under 18 was shot."
kinds = ["homicide", "nonfatal_shooting"]
count = "incidents"
victims = { victim_age_group = ["under 18"] }
""",
        encoding="utf-8",
    )
    women = json_of("stats", "--metrics", str(metrics), "--metric", "women_shot",
                    "--jurisdiction", "Bakersfield")  # fmt: skip
    assert women[0]["count"] == 3
    children = json_of("stats", "--metrics", str(metrics), "--metric",
                       "incidents_with_a_child_shot", "--jurisdiction", "Bakersfield")  # fmt: skip
    assert children[0]["count"] == 1


def test_incidents_filter_by_area_group_involvement_and_people(town):
    def listed(*args):
        return {r["source_id"] for r in json_of("incidents", *args)}

    assert listed("--area", "east bakersfield") == {"H1", "S1"}
    assert listed("--group-involvement", "yes") == {"S1"}
    assert listed("--where", "victim_sex=F") == {"H1", "S1"}
    assert listed("--where", "victim_sex=F", "--area", "Oildale") == set()
    assert listed("--where", "victim_age=60") == {"S2"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--by", "victim_colour"), "unknown person field 'victim_colour'; fields: victim_sex"),
        (("--where", "victim_sex"), "--where 'victim_sex': write FIELD=VALUE"),
        (("--by", "month", "--by", "week"), "give --by at most once for a period"),
        (("--by", "colour"), "a period (year, quarter, month, week) or a person field"),
        (("--where", "victim_age=twenty"), "victim_age is a whole number of years"),
    ],
)
def test_a_wrong_field_is_a_usage_error_naming_the_fields(town, args, message):
    code, _, err = cli("stats", "--metric", "homicides", "--jurisdiction", "Bakersfield", *args)
    assert code == 2
    assert message in err


def test_nibrs_person_fields_break_figures_down_as_the_raw_tables_count():
    """DC 2019 in the CDE: victims of firearm violence by the offense that counted them and
    by whether they were hurt, against the raw tables."""
    folder = require(SHARED_DATA / "nibrs" / "cde-dc" / "DC-2019")
    expected = cde_counts(load_cde(folder))
    report = import_file(folder, load_format("nibrs-cde"))
    assert report.ok
    records = json_of("stats", "--metric", "firearm_violence_victims", "--jurisdiction",
                      "Metro Transit Police", "--by", "victim_offense")  # fmt: skip
    assert by_value(records, "victim_offense") == {
        "13A": expected["firearm_assault_victims"][("DCMTP0000", 2019)]
    }
    hurt = json_of("stats", "--metric", "firearm_violence_victims", "--jurisdiction",
                   "Metro Transit Police", "--where", "victim_injury=None")  # fmt: skip
    assert hurt[0]["count"] == (
        expected["firearm_assault_victims"][("DCMTP0000", 2019)]
        - expected["firearm_assault_injured"][("DCMTP0000", 2019)]
    )


# -- the pages: through the disclosure policy ------------------------------------------------


def _victims_table(client, params: str) -> tuple[str, dict[str, str]]:
    """The overview's table of victims as (data-exact, {value: figure})."""
    import re

    response = client.get(f"/j/bakersfield/?metric=homicides{params}")
    assert response.status_code == 200
    html = response.content.decode()
    section = re.search(r'<section class="panel victims".*?</section>', html, re.S)
    if section is None:
        return "", {}
    exact = re.search(r'data-exact="(\w+)"', section.group(0)).group(1)
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]*)</td></tr>", section.group(0))
    return exact, dict(rows)


def test_the_overview_shows_a_reader_of_incident_records_the_exact_breakdown(
    town, people, client_for
):
    for role in ("analyst", "viewer"):
        exact, rows = _victims_table(client_for(people[role]), "&since=2022-01-01&until=2022-12-31")
        assert exact == "true"
        assert rows == {"female": "1", "male": "2", "not recorded": "1"}
    # Any window: 4 to 20 March is asked and answered as such.
    exact, rows = _victims_table(
        client_for(people["analyst"]), "&since=2022-03-04&until=2022-03-20"
    )
    assert exact == "true"


def test_the_overview_shows_other_readers_whole_months_and_perturbed_figures(
    town, people, client_for
):
    """Partner staff may not read incident records: the policy answers whole months only
    (a window inside March has none) and moves each figure by the cell-key method, the same
    figure on every reading; a count of 0 is never moved."""
    partner = client_for(people["partner"])
    exact, rows = _victims_table(partner, "&since=2022-03-04&until=2022-03-20")
    assert (exact, rows) == ("", {})
    exact, rows = _victims_table(
        partner, "&since=2022-01-01&until=2022-12-31&victims_by=victim_age"
    )
    assert exact == "false"
    again = _victims_table(partner, "&since=2022-01-01&until=2022-12-31&victims_by=victim_age")
    assert again == (exact, rows)
    assert all(int(v) >= 0 for v in rows.values())
    response = partner.get("/j/bakersfield/?metric=homicides&since=2022-01-01&until=2022-12-31")
    assert "moved by a small fixed amount" in response.content.decode()


@pytest.fixture
def metro_transit():
    """Metro Transit Police's NIBRS years 2018 to 2020, from the CDE."""
    for year in (2018, 2019, 2020):
        folder = require(SHARED_DATA / "nibrs" / "cde-dc" / f"DC-{year}")
        assert import_file(folder, load_format("nibrs-cde")).ok
    from gvrs.incidents.models import Jurisdiction

    return Jurisdiction.objects.get(ori="DCMTP0000")


def _true_counts(place, field: str, year: int, metric="firearm_violence_victims") -> dict:
    from gvrs.data.metrics import load_metrics
    from gvrs.reports.victims import groups

    found = groups(
        load_metrics()[metric],
        place,
        field,
        dt.date(year, 1, 1),
        dt.date(year, 12, 31),
    )
    return dict(zip(found.values, found.counts().tolist(), strict=True))


def test_the_public_page_publishes_victims_by_ethnicity_with_small_counts_hidden(metro_transit):
    from gvrs.data.metrics import load_metrics
    from gvrs.public.published import build_page

    page = build_page(metro_transit, load_metrics()["firearm_violence_victims"], 10, year=2019)
    table = page.table("ethnicity")
    assert table is not None
    truth = _true_counts(metro_transit, "victim_ethnicity", 2019)
    assert sum(truth.values()) == 20  # the 13A-with-firearm victims of 2019
    # Every figure of the public page is perturbed (docs/disclosure.md): within 5 of its count,
    # never a small figure shown, 0 never moved.
    for name, (cell,) in table.rows:
        if name == "Total":
            continue
        n = truth.get(name, 0)
        if cell.value is not None:
            assert abs(cell.value - n) <= 5 and not 1 <= cell.value <= 10, (name, n, cell)
        if cell.state == "fewer":
            assert 1 <= n <= 15, (name, n)
        if n == 0:
            assert cell.value == 0, (name, cell)
    assert any(cell.state == "fewer" for _, (cell,) in table.rows)


def test_the_council_report_tables_who_was_shot_with_small_counts_hidden(metro_transit):
    from gvrs.council.build import ReportRequest, build_report

    report = build_report(
        ReportRequest(metro_transit, "2019", metrics=None, today=dt.date(2021, 6, 1))
    )
    section = next(s for s in report.sections if s.slug == "victims")
    tables = {t.caption: t for t in section.blocks if t.kind == "table"}
    # People shot (killed or hurt): the 7 injured of 2019's firearm assaults.
    caption = next(c for c in tables if c.startswith("People shot by sex"))
    truth = _true_counts(metro_transit, "victim_sex", 2019, "shootings")
    assert sum(truth.values()) == 7
    rows = {r[0]: r[1] for r in tables[caption].rows}
    for value, n in truth.items():
        if 1 <= n <= 10:
            assert rows[value] == "fewer than 11", (value, n, rows)
    assert set(rows) == set(truth) | {"Total"}


def test_compare_takes_the_same_filter(town):
    """Women shot in the first half of 2022 against the second: the three of the year."""
    code, out, err = cli(
        "compare", "--metric", "shootings", "--jurisdiction", "Bakersfield",
        "--period", "2022-01-01..2022-06-30", "--vs", "2022-07-01..2022-12-31",
        "--where", "victim_sex=F", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    (record,) = json.loads(out)
    assert record["source"] == "gvrs"
    assert record["count"] + record["vs_count"] == 3
