"""``gvrs stats``, ``gvrs compare`` and ``gvrs project`` over a real registry: the JSON
contract, sources side by side, and usage errors that list the valid choices."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Population
from tests.conftest import CA_DOJ, PHILLY, require
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db
KEYS = {
    "metric",
    "jurisdiction",
    "period",
    "count",
    "rate_per_100k",
    "change",
    "change_pct",
    "p_value",
    "ci_low",
    "ci_high",
    "sentence",
}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def town(tmp_path):
    """Bakersfield with incidents in 2021 and 2022, and its CA DOJ published history."""
    rows = [row(f"H21-{i}", occurred_at=f"2021-0{1 + i % 9}-1{i % 9}") for i in range(9)]
    rows += [row(f"H22-{i}", occurred_at=f"2022-0{1 + i % 9}-0{1 + i % 9}") for i in range(3)]
    rows += [
        row("S22-1", kind="nonfatal_shooting", killed="0", injured="1", occurred_at="2022-05-05")
    ]
    # The three Central Valley counties of the CA DOJ file (about 1,750 agency-years), first:
    # the town's file then finds "Bakersfield" by its path inside California.
    doj = pd.read_csv(require(CA_DOJ), dtype=str, keep_default_na=False)
    central = doj[doj["County"].isin(["Kern County", "Fresno County", "San Joaquin County"])]
    central.to_csv(tmp_path / "doj.csv", index=False)
    report = import_file(tmp_path / "doj.csv", load_format("ca-doj"))
    assert report.ok, report.errors
    # The records system's export covers the whole of 2021 and 2022 (the user confirms it).
    import_file(
        write_csv(tmp_path / "town.csv", rows),
        load_format("gvrs"),
        covers_through=dt.date(2022, 12, 31),
    )


def test_compare_json_has_the_documented_keys_for_every_source(town):
    records = json.loads(
        run(
            "compare",
            "--metric",
            "homicides",
            "--jurisdiction",
            "Bakersfield",
            "--period",
            "2022",
            "--vs",
            "2021",
            "--format",
            "json",
        )
    )
    # Each incident row names its source (issue 23): the canonical format's, "gvrs".
    assert {r["source"] for r in records} == {"gvrs", "ca-doj-crimes-clearances"}
    assert {r["source_type"] for r in records} == {"incidents", "published"}
    for record in records:
        assert set(record) >= KEYS
    published = next(r for r in records if r["source_type"] == "published")
    assert (published["vs_count"], published["count"], published["change_pct"]) == (60, 38, -36.7)
    assert round(published["p_value"], 4) == 0.0334
    counted = next(r for r in records if r["source"] == "gvrs")
    assert (counted["vs_count"], counted["count"]) == (9, 3)


def test_stats_by_month_lists_zero_months_and_rates_from_population(town):
    Population.objects.create(jurisdiction_id=_bakersfield_id(), year=2022, population=400_000)
    records = json.loads(
        run(
            "stats",
            "--metric",
            "homicides",
            "--jurisdiction",
            "Bakersfield",
            "--source",
            "incidents",
            "--by",
            "month",
            "--from",
            "2022-01-01",
            "--format",
            "json",
        )
    )
    assert [r["count"] for r in records][:4] == [1, 1, 1, 0]
    assert records[0]["rate_per_100k"] == pytest.approx(0.25)
    assert records[0]["period"] == "2022-01"


def test_stats_by_year_shows_each_sources_history(town):
    records = json.loads(
        run("stats", "--metric", "homicides", "--jurisdiction", "Stockton", "--format", "json")
    )
    by_year = {r["period"]: r for r in records}
    assert by_year["2012"]["count"] == 71
    assert by_year["2012"]["history"].startswith("the highest in the 28 years")


def test_table_output_names_the_metric_and_each_definition(town):
    text = run("stats", "--metric", "homicides", "--jurisdiction", "Bakersfield")
    assert "Homicides, Bakersfield, by year" in text
    assert "ca-doj-crimes-clearances: Criminal homicides" in text
    assert "never merged" in text


def test_project_never_projects_a_finished_philadelphia_year():
    import_file(require(PHILLY), load_format("philly-shootings"))
    args = ["project", "--metric", "homicides", "--jurisdiction", "Philadelphia"]
    # 2024 is over and the data hold it: its total is known, so nothing projects it.
    with pytest.raises(CommandError, match="2024 is over") as error:
        run(*args, "--as-of", "2024-06-30")
    assert error.value.returncode == 1
    assert "homicides in 2024; nothing to project" in str(error.value)
    # The coverage ends on 2025-01-26 (the stray of 2025-11-26 left out) and 2025 is over
    # too: nothing projects it from 26 days, let alone across the gap.
    with pytest.raises(CommandError, match="the data stop on 2025-01-26"):
        run(*args)


def test_project_projects_a_running_year_from_its_sources_coverage(tmp_path):
    """Data through two days ago, a homicide every fifth day for four years: this year's
    projection says "so far", from the coverage's end, with the model it used."""
    today = dt.date.today()
    end = max(dt.date(today.year, 1, 1), today - dt.timedelta(days=2))
    start = dt.date(today.year - 4, 1, 1)
    days = [start + dt.timedelta(days=d) for d in range(0, (end - start).days + 1, 5)]
    rows = [row(f"H-{i}", occurred_at=day.isoformat()) for i, day in enumerate(days)]
    import_file(write_csv(tmp_path / "h.csv", rows), load_format("gvrs"), covers_through=end)
    result = json.loads(
        run("project", "--metric", "homicides", "--jurisdiction", "Bakersfield", "--format", "json")
    )
    assert result["as_of"] == end.isoformat() and result["data_through"] == end.isoformat()
    assert result["count"] == sum(1 for day in days if day.year == today.year)
    assert result["pi_low"] <= result["projected"] <= result["pi_high"]
    assert result["model"] == "overdispersed"
    assert f"so far in {today.year}" in result["sentence"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["stats", "--metric", "murders", "--jurisdiction", "Bakersfield"],
            "unknown metric 'murders'; valid metrics: aggravated_assaults",
        ),
        (
            ["stats", "--metric", "homicides", "--jurisdiction", "Gotham"],
            "unknown jurisdiction 'Gotham'",
        ),
        (
            [
                "compare",
                "--metric",
                "homicides",
                "--jurisdiction",
                "Bakersfield",
                "--period",
                "2022-Q5",
                "--vs",
                "2021",
            ],
            "quarter 5 does not exist",
        ),
        (
            [
                "compare",
                "--metric",
                "homicides",
                "--jurisdiction",
                "Bakersfield",
                "--period",
                "last-year",
                "--vs",
                "2021",
            ],
            "is not a period; use one of: 2022, 2022-Q3",
        ),
        (
            [
                "stats",
                "--metric",
                "homicides",
                "--jurisdiction",
                "Bakersfield",
                "--source",
                "ca-doj-crimes-clearances",
                "--by",
                "month",
            ],
            "publishes annual totals only",
        ),
    ],
)
def test_usage_errors_exit_2_and_list_the_choices(town, args, message):
    with pytest.raises(CommandError, match=message) as caught:
        run(*args)
    assert caught.value.returncode == 2


def _bakersfield_id() -> int:
    from gvrs.incidents.models import Jurisdiction

    return Jurisdiction.objects.named("Bakersfield").pk


def test_populations_load_and_turn_counts_into_rates(town, tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text(
        "jurisdiction,year,population,source\n"
        "Bakersfield,2021,400000,test\nBakersfield,2022,404000,test\n"
    )
    run("populations", str(path))
    run("populations", str(path))  # idempotent
    assert Population.objects.count() == 2
    [record] = json.loads(
        run(
            "compare",
            "--metric",
            "homicides",
            "--jurisdiction",
            "Bakersfield",
            "--source",
            "ca-doj-crimes-clearances",
            "--period",
            "2022",
            "--vs",
            "2021",
            "--format",
            "json",
        )
    )
    assert record["rate_per_100k"] == pytest.approx(38 / 4.04)


def test_bad_population_rows_are_listed_and_nothing_is_loaded(town, tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("jurisdiction,year,population\nBakersfield,2021,400000\nBakersfield,20x1,-5\n")
    with pytest.raises(CommandError, match="2 invalid values; nothing was loaded"):
        run("populations", str(path))
    assert Population.objects.count() == 0


def test_a_jurisdictions_own_metric_file_defines_new_metrics(town, tmp_path):
    path = tmp_path / "metrics.toml"
    path.write_text(
        '[night_homicides]\nlabel = "Gun homicides"\nkinds = ["homicide"]\n'
        'weapons = ["firearm"]\ncount = "incidents"\n'
    )
    [record] = json.loads(
        run(
            "compare",
            "--metric",
            "night_homicides",
            "--metrics",
            str(path),
            "--jurisdiction",
            "Bakersfield",
            "--source",
            "incidents",
            "--period",
            "2022",
            "--vs",
            "2021",
            "--format",
            "json",
        )
    )
    assert (record["vs_count"], record["count"]) == (9, 3)
    assert record["sentence"].startswith("Gun homicides fell 67%, from 9 in 2021 to 3 in 2022")


def test_an_area_is_counted_on_its_own(town):
    records = json.loads(
        run(
            "stats",
            "--metric",
            "homicides",
            "--jurisdiction",
            "Bakersfield",
            "--area",
            "east bakersfield",
            "--format",
            "json",
        )
    )
    assert [(r["period"], r["count"]) for r in records] == [("2021", 9), ("2022", 3)]
    assert {r["source"] for r in records} == {"gvrs"}
