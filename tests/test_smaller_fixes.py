"""Smaller things found on the same files (issue 23, item 7)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.analysis.counts import CountSeries, SeriesError, compare_periods
from gvrs.analysis.periods import year
from gvrs.data.mapping import parse_mapping
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident, Jurisdiction, PersonInvolved, PublishedCount
from tests.importing_helpers import row, write_csv


def test_compare_names_the_period_the_data_do_not_cover():
    # Data from 2013 on; 2014 against 2012: it is 2012 that is not covered, never 2014.
    series = CountSeries.from_daily(
        pd.Series(dtype="int64"),
        first=dt.date(2013, 1, 1),
        last=dt.date(2015, 12, 31),
        metric="homicides",
        label="Homicides",
        place="Testville",
        source="gvrs",
        definition="",
    )
    with pytest.raises(SeriesError, match=r"^no data for 2012 in Testville"):
        compare_periods(series, year(2014), year(2012))
    with pytest.raises(SeriesError, match=r"^no data for 2016 in Testville"):
        compare_periods(series, year(2016), year(2014))


@pytest.mark.django_db
def test_coverage_calls_a_part_year_published_series_part_year():
    place = Jurisdiction.objects.create(name="Philadelphia", slug="philadelphia", state="PA")
    for y in (2023, 2024):
        PublishedCount.objects.create(
            jurisdiction=place, metric="homicides", period_start=dt.date(y, 1, 1),
            period_end=dt.date(y, 9, 26), count=300, source="ppd-ytd",
        )  # fmt: skip
    out = io.StringIO()
    call_command("coverage", "--format", "json", stdout=out)
    (record,) = json.loads(out.getvalue())
    assert record["basis"] == "published part-years"
    assert record["coverage"] == "part-year figures, 1 Jan 2023 to 26 Sep 2024"
    assert record["covers_through"] == "2024-09-26"
    with pytest.raises(CommandError):
        call_command("coverage", "--jurisdiction", "Nowhere")


@pytest.mark.django_db
def test_month_only_dates_cover_their_whole_month(tmp_path):
    mapping = parse_mapping(
        {
            "format": {"name": "monthly", "identity": True},
            "columns": {"occurred_at": {"column": "occurred_at", "format": "%B %Y"}},
        },
        "monthly.toml",
    )
    rows = [row("M-1", occurred_at="November 2018"), row("M-2", occurred_at="December 2018")]
    report = import_file(write_csv(tmp_path / "m.csv", rows), mapping, state="CA",
                         new_places=True)  # fmt: skip
    assert report.ok, report.errors[:3]
    # The file's last date is "December 2018": it covers December, not its first day only.
    assert (report.run.covers_from, report.run.covers_through) == (
        dt.date(2018, 11, 1),
        dt.date(2018, 12, 31),
    )


@pytest.mark.django_db
def test_published_counts_take_their_year_from_a_date_column(tmp_path):
    mapping = parse_mapping(
        {
            "format": {"name": "dated", "target": "published_counts", "source": "city-annual"},
            "period": {"year_from": "as_of", "year_format": "%m/%d/%Y"},
            "place": {"name": "city", "state": "PA", "kind": "city"},
            "series": [{"metric": "homicides", "column": "homicides"}],
        },
        "dated.toml",
    )
    path = tmp_path / "annual.csv"
    path.write_text(
        "city,as_of,homicides\nPhiladelphia,12/31/2022,516\nPhiladelphia,12/31/2023,410\n"
    )
    report = import_file(path, mapping, new_places=True)
    assert report.ok, report.errors[:3]
    figures = dict(
        PublishedCount.objects.filter(source="city-annual").values_list("period_start", "count")
    )
    assert figures == {dt.date(2022, 1, 1): 516, dt.date(2023, 1, 1): 410}
    path.write_text("city,as_of,homicides\nPhiladelphia,sometime,516\n")
    refused = import_file(path, mapping)
    assert not refused.ok
    assert any(e.column == "as_of" and e.value == "sometime" for e in refused.errors)


@pytest.mark.django_db
def test_a_mapping_can_blank_one_invalid_cell_instead_of_losing_the_row(tmp_path):
    """A real death in one state's file was lost to an impossible age: with invalid =
    "blank" the age is emptied, the incident kept, and the summary says so."""

    def mapping(invalid: str | None):
        age = {"column": "victim_age"} | ({"invalid": invalid} if invalid else {})
        return parse_mapping(
            {"format": {"name": "ages", "identity": True}, "columns": {"victim_age": age}},
            "ages.toml",
        )

    rows = [row("H-1", victim_age="230"), row("H-2", victim_age="31")]
    path = write_csv(tmp_path / "a.csv", rows)
    refused = import_file(path, mapping(None), state="CA", new_places=True)
    assert not refused.ok and refused.errors[0].reason == "age over 120"
    report = import_file(path, mapping("blank"), state="CA", new_places=True)
    assert report.ok, report.errors[:3]
    assert Incident.objects.count() == 2
    kept = PersonInvolved.objects.get(incident__source_id="H-1")
    assert kept.age is None and kept.killed
    assert [(w.line, w.value, w.reason) for w in report.warnings] == [
        (2, "230", "blanked: age over 120")
    ]
    assert "1 value skipped" in report.run.message and "victim_age='230'" in report.run.message
    with pytest.raises(Exception, match="invalid must be 'refuse' or 'blank'"):
        mapping("drop")
