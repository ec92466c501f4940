"""Coverage is a recorded fact about a source: strays and gaps found, figures that never
compare or project across them, on the real Philadelphia file and on small hand-made ones."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from gvrs.analysis.coverage import coverage_phrase, file_coverage, find_low_months, find_strays
from gvrs.data.mapping import MappingError, load_format, parse_mapping
from gvrs.data.metrics import get_metric
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import ImportJob, ImportRun, Jurisdiction
from gvrs.reports.series import all_series, incident_series
from tests.conftest import PHILLY, require
from tests.importing_helpers import row, write_csv
from tests.jobs_helpers import run_queued_tasks

# --- the analysis, on series small enough to check by hand -------------------------------


def test_a_record_far_after_the_rest_is_a_stray_at_the_end():
    days = pd.Series(3, index=pd.date_range("2024-01-01", "2025-01-26"))
    days[pd.Timestamp("2025-11-26")] = 1
    strays, first, last = find_strays(days)
    assert [(s.first, s.records, s.where) for s in strays] == [(dt.date(2025, 11, 26), 1, "end")]
    assert (first, last) == (dt.date(2024, 1, 1), dt.date(2025, 1, 26))
    assert strays[0].gap_days == (dt.date(2025, 11, 26) - dt.date(2025, 1, 26)).days - 1


def test_a_sparse_source_is_not_full_of_strays():
    # Eight records a year, a month or two apart: their gaps are ordinary for this rate.
    dates = pd.date_range("2015-01-15", "2023-10-26", freq="45D")
    strays, _, last = find_strays(pd.Series(1, index=dates))
    assert strays == [] and last == dates[-1].date()


def test_a_missing_month_is_a_probable_gap_and_a_falling_trend_is_not():
    index = pd.date_range("2020-01-01", "2023-12-31")
    falling = pd.Series(
        pd.Series(range(len(index)), index=index).map(lambda i: 6 - i // 300).clip(lower=1)
    )
    assert find_low_months(falling, dt.date(2020, 1, 1), dt.date(2023, 12, 31)) == []
    holed = falling.copy()
    holed[(holed.index >= "2022-06-01") & (holed.index <= "2022-06-30")] = 0
    low = find_low_months(holed, dt.date(2020, 1, 1), dt.date(2023, 12, 31))
    assert [m.month for m in low] == ["2022-06"]
    assert low[0].p_value < 0.001


def test_the_proposed_coverage_leaves_an_end_stray_out_unless_confirmed():
    days = pd.Series(2, index=pd.date_range("2024-01-03", "2024-12-31"))
    days[pd.Timestamp("2025-09-01")] = 1
    proposed = file_coverage(days, today=dt.date(2026, 1, 1))
    assert (proposed.first, proposed.last) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert proposed.outside == 1 and proposed.basis == "file dates"
    assert any(w.startswith("stray: 1 record dated 2025-09-01") for w in proposed.warnings())
    confirmed = file_coverage(days, covers_through=dt.date(2025, 9, 1), today=dt.date(2026, 1, 1))
    assert confirmed.last == dt.date(2025, 9, 1) and confirmed.outside == 0


def test_the_coverage_phrase_says_how_old_the_data_are():
    assert coverage_phrase(dt.date(2025, 1, 26), dt.date(2025, 11, 26)) == (
        "data through 26 Jan 2025, 10 months ago"
    )
    assert coverage_phrase(dt.date(2025, 1, 26), dt.date(2025, 1, 29)) == (
        "data through 26 Jan 2025, 3 days ago"
    )


def test_a_mapping_may_state_its_coverage_and_a_bad_date_is_refused():
    document = {
        "format": {"name": "x", "identity": True},
        "coverage": {"from": "2019-01-01", "through": dt.date(2023, 12, 31)},
    }
    mapping = parse_mapping(document, "x.toml")
    assert (mapping.covers_from, mapping.covers_through) == (
        dt.date(2019, 1, 1),
        dt.date(2023, 12, 31),
    )
    document["coverage"]["from"] = "spring 2019"
    with pytest.raises(MappingError, match=r"x\.toml: coverage\.from must be a date"):
        parse_mapping(document, "x.toml")


# --- the registry -------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def philly(db):
    report = import_file(require(PHILLY), load_format("philly-shootings"))
    assert report.ok
    return report


@pytest.mark.django_db
def test_the_philadelphia_stray_is_flagged_and_left_out_of_coverage(philly):
    run_ = ImportRun.objects.get(pk=philly.run.pk)
    assert (run_.covers_from, run_.covers_through) == (dt.date(2015, 1, 1), dt.date(2025, 1, 26))
    assert run_.coverage_basis == "file dates" and run_.source == "philly-shootings"
    assert "warning: stray: 1 record dated 2025-11-26" in run_.message
    assert philly.coverage.strays[0].first == dt.date(2025, 11, 26)
    report = json.loads(run("coverage", "--jurisdiction", "Philadelphia", "--format", "json"))
    (source,) = report
    assert source["covers_through"] == "2025-01-26" and source["records_outside"] == 1
    assert source["strays"][0].startswith("stray: 1 record dated 2025-11-26")
    assert "stray: 1 record dated 2025-11-26" in run("coverage")


@pytest.mark.django_db
def test_no_philadelphia_figure_compares_or_projects_across_the_gap(philly):
    compared = json.loads(
        run(
            "compare",
            "--metric",
            "homicides",
            "--jurisdiction",
            "Philadelphia",
            "--period",
            "2025",
            "--vs",
            "2024",
            "--format",
            "json",
        )
    )[0]
    # 2025 holds 26 days of data: it is compared with the same 26 days of 2024.
    assert (compared["period_start"], compared["period_end"]) == ("2025-01-01", "2025-01-26")
    assert compared["data_through"] == "2025-01-26"
    series = incident_series(get_metric("homicides"), Jurisdiction.objects.named("Philadelphia"))
    same_window = series.counts.loc["2024-01-01":"2024-01-26"].sum()
    assert compared["vs_count"] == same_window and compared["vs_count"] < 60
    assert "2024 (1 Jan–26 Jan)" in compared["sentence"]
    table = run(
        "compare",
        *("--metric", "homicides", "--jurisdiction", "Philadelphia"),
        *("--period", "2025", "--vs", "2024"),
    )
    assert "data through 26 Jan 2025" in table
    ytd = run(
        "compare",
        *("--metric", "shootings", "--jurisdiction", "Philadelphia"),
        *("--period", "2025-YTD", "--vs", "2024-YTD"),
    )
    assert "from 73 in 1 Jan–26 Jan 2024 to 45 in 1 Jan–26 Jan 2025" in ytd
    assert "data through 26 Jan 2025" in ytd
    # Every change in the by-year table is over equal windows.
    for record in json.loads(
        run("stats", "--metric", "shootings", "--jurisdiction", "Philadelphia", "--format", "json")
    ):
        if record.get("p_value") is None or pd.isna(record.get("p_value")):
            continue
        window = record.get("compared_window") or record["period"]
        assert ("2025" not in window) or window == "2025 (1 Jan–26 Jan)"
        assert record["vs_period"] != "2024" or record["period"] != "2025"
    # No projection of a year that is over; the stray is not "the data's end".
    with pytest.raises(CommandError, match=r"2025 is over .*data through 26 Jan 2025"):
        run("project", "--metric", "homicides", "--jurisdiction", "Philadelphia")


@pytest.mark.django_db
def test_the_philadelphia_dashboard_says_data_through_and_neither_so_far_nor_on_track(
    philly, people
):
    client = Client()
    client.force_login(people["analyst"])
    slug = Jurisdiction.objects.named("Philadelphia").slug
    page = client.get(reverse("reports-jurisdiction", kwargs={"slug": slug})).content.decode()
    assert "Data through 26 Jan 2025" in page
    assert "so far" not in page and "on track" not in page
    assert "No projection: 2025 is over" in page
    # A finished period chosen with the filters is a whole year, not "so far".
    finished = client.get(
        reverse("reports-jurisdiction", kwargs={"slug": slug}),
        {"since": "2020-01-01", "until": "2020-12-31"},
    ).content.decode()
    assert "so far" not in finished and "on track" not in finished
    series = incident_series(
        get_metric("homicides"),
        Jurisdiction.objects.named("Philadelphia"),
        as_of=dt.date(2020, 12, 31),
    )
    assert f"{series.annual().loc[2020]:,} in 2020" in finished


@pytest.mark.django_db
def test_hotspots_work_on_the_philadelphia_file_with_no_dates_given(philly):
    summary = json.loads(
        run("hotspots", "--jurisdiction", "Philadelphia", "--weeks", "8", "--format", "json")
    )
    assert summary["weeks_scored"] == 8
    assert "to 2025-01-26" in summary["selection"]


@pytest.mark.django_db
def test_a_stray_confirmed_with_through_is_inside_coverage(tmp_path):
    rows = [row(f"H-{i}", occurred_at=f"2023-{1 + i % 12:02d}-{1 + i % 27:02d}") for i in range(60)]
    rows.append(row("LATE", occurred_at="2024-09-30"))
    path = write_csv(tmp_path / "in.csv", rows)
    proposed = import_file(path, load_format("gvrs"))
    latest = max(dt.date.fromisoformat(r["occurred_at"]) for r in rows[:-1])
    assert proposed.run.covers_through == latest
    assert any("2024-09-30" in w for w in proposed.run.coverage_warnings)
    out = io.StringIO()
    call_command("import", str(path), "--format", "gvrs", "--through", "2024-09-30", stdout=out)
    latest = ImportRun.objects.order_by("-pk").first()
    assert (latest.covers_through, latest.coverage_basis) == (dt.date(2024, 9, 30), "given")
    series = incident_series(get_metric("homicides"), Jurisdiction.objects.named("Bakersfield"))
    assert series.last == dt.date(2024, 9, 30)  # the union of the source's runs
    assert "covers 2023-01-01 to 2024-09-30 (given)" in out.getvalue()
    with pytest.raises(CommandError, match="--through is before --from"):
        call_command(
            "import",
            str(path),
            "--format",
            "gvrs",
            "--from",
            "2024-01-01",
            "--through",
            "2023-01-01",
        )


@pytest.mark.django_db
def test_a_sparse_places_last_year_is_complete_and_ranked(tmp_path):
    """Stockton's last officer-involved shooting is on 2023-10-26, but its source's file runs
    to April 2024: Stockton's 2023 is a complete year with its place in history."""
    rows = []
    for y, n in {2019: 4, 2020: 6, 2021: 3, 2022: 5, 2023: 2}.items():
        for i in range(n):
            day = "2023-10-26" if (y, i) == (2023, 1) else f"{y}-{2 + 2 * i:02d}-1{i}"
            rows.append(
                row(
                    f"OIS-{y}-{i}",
                    kind="officer_involved_shooting",
                    occurred_at=day,
                    jurisdiction="Stockton",
                    killed="0",
                    injured="1",
                )
            )
    for i in range(40):
        rows.append(
            row(
                f"OIS-F-{i}",
                kind="officer_involved_shooting",
                occurred_at=(dt.date(2019, 1, 5) + dt.timedelta(days=49 * i)).isoformat(),
                jurisdiction="Fresno",
                killed="0",
                injured="1",
            )
        )
    rows.append(
        row(
            "OIS-F-last",
            kind="officer_involved_shooting",
            occurred_at="2024-04-12",
            jurisdiction="Fresno",
            killed="0",
            injured="1",
        )
    )
    report = import_file(write_csv(tmp_path / "ois.csv", rows), load_format("gvrs"))
    assert report.ok and report.run.covers_through == dt.date(2024, 4, 12)
    assert report.coverage.strays == ()
    records = json.loads(
        run(
            "stats",
            *("--metric", "officer_involved_shootings", "--jurisdiction", "Stockton"),
            "--format",
            "json",
        )
    )
    by_period = {r["period"]: r for r in records}
    assert by_period["2023"]["complete"] is True and by_period["2023"]["count"] == 2
    assert by_period["2023"]["history"] == "the lowest in the 5 years of data (2019–2023)"
    assert by_period["2024"]["complete"] is False
    assert by_period["2023"]["data_through"] == "2024-04-12"


@pytest.mark.django_db
def test_a_place_whose_sources_record_no_such_kind_has_no_data_not_zeros(tmp_path):
    rows = [
        row(f"OIS-{i}", kind="officer_involved_shooting", occurred_at=f"202{i}-05-0{i + 1}")
        for i in range(4)
    ]
    import_file(write_csv(tmp_path / "ois.csv", rows), load_format("gvrs"))
    bakersfield = Jurisdiction.objects.named("Bakersfield")
    assert incident_series(get_metric("homicides"), bakersfield) is None
    assert all_series(get_metric("homicides"), bakersfield) == []
    assert incident_series(get_metric("officer_involved_shootings"), bakersfield) is not None
    with pytest.raises(CommandError, match="no homicides data for Bakersfield"):
        run("stats", "--metric", "homicides", "--jurisdiction", "Bakersfield")


@pytest.mark.django_db
def test_the_upload_preview_shows_coverage_and_strays_and_the_confirmed_period_is_kept(
    people, tmp_path
):
    rows = [row(f"H-{i}", occurred_at=f"2023-{1 + i % 12:02d}-{1 + i % 27:02d}") for i in range(60)]
    rows.append(row("LATE", occurred_at="2024-09-30"))
    path = write_csv(tmp_path / "late.csv", rows)
    client = Client()
    client.force_login(people["analyst"])

    def preview(**fields) -> str:
        """Upload, run the check as the background worker would, read the job's page."""
        with open(path, "rb") as fh:
            job_url = client.post(
                reverse("incidents-import-upload"), {"file": fh, "format": "detect", **fields}
            ).url
        assert run_queued_tasks() == 1
        return client.get(job_url).content.decode()

    page = preview()
    assert 'data-testid="coverage"' in page and "(file dates)" in page
    assert "Warning: stray: 1 record dated 2024-09-30" in page
    page = preview(covers_through="2024-09-30")
    assert "covers 2023-01-01 to 2024-09-30 (given)" in page
    job = ImportJob.objects.order_by("-pk").first()
    job_url = client.post(reverse("incidents-import-confirm"), {"job": job.pk}).url
    assert run_queued_tasks() == 1
    response = client.get(job_url)
    run_ = ImportRun.objects.get()
    assert (run_.covers_through, run_.coverage_basis) == (dt.date(2024, 9, 30), "given")
    detail = client.get(response.url).content.decode()
    assert "Covers 1 Jan 2023 to 30 Sep 2024 (given)" in detail


@pytest.mark.django_db
def test_a_quiet_areas_year_to_date_ends_where_its_city_data_end(tmp_path):
    """One area's last incident is in early November, the city's data run to 21 December:
    both year-to-date windows end on 21 December (the source's coverage)."""
    rows = [
        row(f"E-{i}", area="East", occurred_at=f"202{y}-{m:02d}-0{1 + i % 7}")
        for i, (y, m) in enumerate((y, m) for y in (2, 3) for m in range(1, 12))
    ]
    rows += [
        row(f"W-{i}", area="West", occurred_at=f"202{y}-{m:02d}-1{i % 9}")
        for i, (y, m) in enumerate((y, m) for y in (2, 3) for m in range(1, 13))
    ]
    rows.append(row("W-last", area="West", occurred_at="2023-12-21"))
    import_file(write_csv(tmp_path / "areas.csv", rows), load_format("gvrs"))
    city = Jurisdiction.objects.named("Bakersfield")
    east = city.areas.get(name="East")
    series = incident_series(get_metric("homicides"), city, area=east)
    assert series.last == dt.date(2023, 12, 21)
    assert series.counts.loc["2023-11-08":].sum() == 0  # zeros inside coverage, not an end
    records = json.loads(
        run(
            *("compare", "--metric", "homicides", "--jurisdiction", "Bakersfield"),
            *("--area", "East", "--period", "2023-YTD", "--vs", "2022-YTD", "--format", "json"),
        )
    )
    assert records[0]["period_end"] == "2023-12-21" and records[0]["vs_count"] == 11
