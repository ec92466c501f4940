"""The shipped formats against the real files in ../shared/data: the registry's counts equal a
direct count of each file with pandas."""

from __future__ import annotations

import pandas as pd
import pytest
from django.db.models import Count, F, Sum
from django.db.models.functions import ExtractYear

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident, PersonInvolved, PublishedCount
from tests.conftest import CA_DOJ, NYPD, PHILLY, require

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def registry_by_year(source: str) -> pd.DataFrame:
    rows = (
        Incident.objects.filter(source=source)
        .annotate(year=ExtractYear("occurred_on"))
        .values("year")
        .annotate(
            incidents=Count("id"), victims=Sum(F("killed") + F("injured")), killed=Sum("killed")
        )
        .order_by("year")
    )
    return pd.DataFrame(list(rows)).set_index("year")


def test_philadelphia_counts_by_year_equal_the_file():
    report = import_file(require(PHILLY), load_format("philly-shootings"))
    assert report.ok and report.run.rows_rejected == 0
    raw = pd.read_csv(PHILLY)
    raw["year"] = pd.to_datetime(raw["date"], format="%Y/%m/%d %H:%M:%S").dt.year
    expected = raw.groupby("year").agg(
        incidents=("dc_key", "nunique"), victims=("dc_key", "size"), killed=("fatal", "sum")
    )
    got = registry_by_year("philly-shootings")
    pd.testing.assert_frame_equal(
        got, expected, check_dtype=False, check_names=False, check_index_type=False
    )
    assert PersonInvolved.objects.filter(incident__source="philly-shootings").count() == len(raw)
    # every incident takes its earliest victim's time; none straddles two years in this file
    assert report.conflicts_resolved > 0


def snapshot(source: str) -> list[tuple]:
    return sorted(
        Incident.objects.filter(source=source).values_list(
            "source_id",
            "kind",
            "occurred_on",
            "occurred_time",
            "area__name",
            "latitude",
            "killed",
            "injured",
            "content_hash",
        )
    )


@pytest.mark.parametrize(
    ("path", "format_name", "written"),
    [(PHILLY, "philly-shootings", "direct"), (NYPD, "nypd-shootings", "staged")],
    ids=["philadelphia-grouped", "new-york-scattered"],
)
def test_a_real_export_read_in_small_chunks_gives_the_same_registry(path, format_name, written):
    """Philadelphia lists an incident's victims together (within 797 rows), New York does
    not (half its incidents' rows lie over 6,000 rows apart): read 2,000 rows at a time, the
    first is still written directly and the second is staged, with the same result as
    reading the whole file as one chunk."""
    mapping = load_format(format_name)
    whole = import_file(require(path), mapping, source="whole")
    small = import_file(require(path), mapping, source="small", chunk_rows=2_000)
    assert whole.written == "direct" and small.written == written
    assert snapshot("whole") == snapshot("small")
    assert small.conflicts_resolved == whole.conflicts_resolved


def test_new_york_counts_by_year_equal_the_file():
    report = import_file(require(NYPD), load_format("nypd-shootings"))
    assert report.ok and report.run.rows_rejected == 0
    raw = pd.read_csv(NYPD, dtype=str, encoding="utf-8-sig")
    raw["year"] = pd.to_datetime(raw["OCCUR_DATE"], format="%m/%d/%y").dt.year
    expected = raw.groupby("year").agg(
        incidents=("INCIDENT_KEY", "nunique"),
        victims=("INCIDENT_KEY", "size"),
        killed=("STATISTICAL_MURDER_FLAG", lambda s: (s == "TRUE").sum()),
    )
    got = registry_by_year("nypd-shootings")
    pd.testing.assert_frame_equal(
        got, expected, check_dtype=False, check_names=False, check_index_type=False
    )
    assert got["incidents"].sum() == 18_564


def test_ca_doj_publishes_bakersfield_homicides_60_in_2021_and_38_in_2022():
    report = import_file(require(CA_DOJ), load_format("ca-doj"))
    assert report.ok
    assert len(report.warnings) == 7  # the negative UCR cells, none of them homicides
    # The summary reads at a glance: the skipped values on a line of their own, before the
    # hundreds of places the file made, which are counted rather than listed.
    lines = report.run.message.splitlines()
    skipped = next(i for i, line in enumerate(lines) if line.startswith("7 values skipped"))
    places = next(i for i, line in enumerate(lines) if " new places: " in line)
    assert skipped < places
    assert lines[places].count(";") <= 11 and "more (every one: gvrs jurisdictions" in lines[places]
    figures = dict(
        PublishedCount.objects.filter(
            jurisdiction__name="Bakersfield",
            metric="homicides",
            period_start__year__in=[2021, 2022],
        ).values_list("period_start__year", "count")
    )
    assert figures == {2021: 60, 2022: 38}
    bakersfield = PublishedCount.objects.filter(jurisdiction__name="Bakersfield").first()
    assert bakersfield.jurisdiction.parent.name == "Kern County"
    assert bakersfield.source == "ca-doj-crimes-clearances"
    again = import_file(CA_DOJ, load_format("ca-doj"))
    assert again.run.rows_inserted == 0 and again.run.rows_unchanged == report.run.rows_inserted
