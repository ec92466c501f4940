"""Coverage by volume (issue 23, item 5): a source-year whose records fall far below its
neighbours' is not covered (no figure, test or headline uses it); a real fall is not flagged."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.analysis.coverage import find_thin_years
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from tests.conftest import PHILLY, require
from tests.importing_helpers import row, write_csv


def _philly_days() -> pd.Series:
    city = pd.read_csv(require(PHILLY), usecols=["date"], dtype=str)
    days = pd.to_datetime(city["date"].str[:10], format="%Y/%m/%d")
    return days.value_counts().sort_index()


def test_a_real_fall_is_not_a_thin_year():
    days = _philly_days()
    by_year = days.groupby(days.index.year).sum()
    # Philadelphia's people shot: 1,666 in 2023, 1,082 in 2024 (the fall is real).
    assert (by_year[2023], by_year[2024]) == (1666, 1082)
    assert find_thin_years(days, dt.date(2015, 1, 1), dt.date(2025, 1, 26)) == []


def test_an_archive_first_year_is_thin():
    # A national archive's first year: 278 records against 51,854 the next (issue 23).
    days = pd.Series(0, index=pd.date_range("2013-01-01", "2015-12-31"))
    days[pd.Timestamp("2013-06-01")] = 278
    days[days.index.year == 2014] = 51_854 // 365
    days[days.index.year == 2015] = 53_000 // 365
    (thin,) = find_thin_years(days, dt.date(2013, 1, 1), dt.date(2015, 12, 31))
    assert (thin.year, thin.count) == (2013, 278)
    assert thin.p_value < 1e-6 and thin.count < 0.2 * thin.expected
    assert "thin year: 2013 has 278 records" in thin.describe()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def archive(tmp_path):
    """Fresno in an archive whose first year (2013) barely collected: 4 shootings, then
    about 250 a year."""
    rows = [row(f"A13-{i}", kind="nonfatal_shooting", killed="0", injured="1",
                occurred_at=f"2013-0{3 + i}-10", jurisdiction="Fresno", area="")
            for i in range(4)]  # fmt: skip
    for year, n in ((2014, 250), (2015, 240)):
        rows += [
            row(f"A{year}-{i}", kind="nonfatal_shooting", killed="0", injured="1",
                occurred_at=f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}", jurisdiction="Fresno",
                area="")
            for i in range(n)
        ]  # fmt: skip
    report = import_file(
        write_csv(tmp_path / "archive.csv", rows),
        load_format("gvrs"),
        source="gun-archive",
        state="CA",
        new_places=True,
        covers_from=dt.date(2013, 1, 1),
        covers_through=dt.date(2015, 12, 31),
    )
    assert report.ok, report.errors[:3]
    assert report.run.thin_years == [2013]
    return report


@pytest.mark.django_db
def test_a_thin_year_is_flagged_not_counted_and_not_tested(archive):
    coverage = json.loads(run("coverage", "--format", "json"))
    (source,) = [c for c in coverage if c["source"] == "gun-archive"]
    assert source["thin_years"] == [2013]
    assert any(w.startswith("not covered: 2013") for w in source["warnings"])
    records = json.loads(
        run("stats", "--metric", "shootings", "--jurisdiction", "Fresno", "--format", "json")
    )
    # 2013 is no data; 2014 is compared with nothing (the year before is not covered).
    assert [(r["period"], r["count"]) for r in records] == [("2014", 250), ("2015", 240)]
    first = records[0]
    assert first.get("p_value") is None or pd.isna(first["p_value"])
    assert "no data for 2013" in first["coverage"]
    with pytest.raises(CommandError, match="2013 is not wholly covered"):
        run(
            "compare",
            "--metric",
            "shootings",
            "--jurisdiction",
            "Fresno",
            "--period",
            "2014",
            "--vs",
            "2013",
        )


@pytest.mark.django_db
def test_a_later_file_that_fills_the_year_makes_it_covered(archive, tmp_path):
    rows = [row(f"B13-{i}", kind="nonfatal_shooting", killed="0", injured="1",
                occurred_at=f"2013-{1 + i % 12:02d}-{1 + i % 28:02d}", jurisdiction="Fresno",
                area="")
            for i in range(245)]  # fmt: skip
    report = import_file(
        write_csv(tmp_path / "fill.csv", rows),
        load_format("gvrs"),
        source="gun-archive",
        state="CA",
        covers_from=dt.date(2013, 1, 1),
        covers_through=dt.date(2013, 12, 31),
    )
    assert report.ok and report.run.thin_years == []
    records = json.loads(
        run("stats", "--metric", "shootings", "--jurisdiction", "Fresno", "--format", "json")
    )
    assert [r["period"] for r in records] == ["2013", "2014", "2015"]
