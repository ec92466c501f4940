"""Periods: parsing, leap days, and properties that must hold for every date."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gvrs.analysis.periods import (
    PeriodError,
    parse_period,
    periods_between,
    previous,
    same_window_last_year,
    year_to_date,
)

AS_OF = dt.date(2024, 6, 30)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2022", "2022-01-01", "2022-12-31"),
        ("2022-Q3", "2022-07-01", "2022-09-30"),
        ("2022-02", "2022-02-01", "2022-02-28"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2022-W01", "2022-01-03", "2022-01-09"),
        ("2024-YTD", "2024-01-01", "2024-06-30"),
        ("2023-YTD", "2023-01-01", "2023-06-30"),
        ("R12", "2023-07-01", "2024-06-30"),
        ("2021..2023", "2021-01-01", "2023-12-31"),
        ("2022-01-15..2022-02-14", "2022-01-15", "2022-02-14"),
    ],
)
def test_period_strings(text, start, end):
    period = parse_period(text, AS_OF)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


@pytest.mark.parametrize("text", ["2022-Q5", "2022-13", "2020-W54", "last year", "2023..2021", ""])
def test_malformed_periods_say_what_is_accepted(text):
    with pytest.raises(PeriodError):
        parse_period(text, AS_OF)


def test_ytd_to_29_february_compares_with_28_february_last_year():
    this = year_to_date(dt.date(2024, 2, 29))
    assert same_window_last_year(this).end == dt.date(2023, 2, 28)
    assert same_window_last_year(this).label == "2023-YTD"


def test_previous_periods():
    assert previous(parse_period("2022-Q1")).label == "2021-Q4"
    assert previous(parse_period("2022-01")).label == "2021-12"
    assert previous(parse_period("2021-W01")).label == "2020-W53"
    assert previous(parse_period("2022")).label == "2021"


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31)))
def test_ytd_windows_of_consecutive_years_never_overlap(as_of):
    this = year_to_date(as_of)
    last = same_window_last_year(this)
    assert last.end < this.start
    assert last.start.year == this.start.year - 1 and last.end.year == this.end.year - 1
    assert abs(this.days - last.days) <= 1  # only 29 February can differ


@given(st.integers(1990, 2060))
def test_months_quarters_and_weeks_tile_the_year_without_gaps(y):
    start, end = dt.date(y, 1, 1), dt.date(y, 12, 31)
    for freq in ("month", "quarter"):
        periods = periods_between(start, end, freq)
        assert periods[0].start == start and periods[-1].end == end
        assert all(a.end + dt.timedelta(days=1) == b.start for a, b in itertools.pairwise(periods))
        assert sum(p.days for p in periods) == (end - start).days + 1
    weeks = periods_between(start, end, "week")
    assert all(w.days == 7 for w in weeks)
    assert all(a.end + dt.timedelta(days=1) == b.start for a, b in itertools.pairwise(weeks))


def test_a_year_to_date_is_said_in_plain_words_and_keeps_its_label():
    """Pages and sentences say "1 Jan–6 Dec 2025"; the command line and JSON keep the label
    that parses back ("2025-YTD")."""
    period = parse_period("2025-YTD", dt.date(2026, 12, 6))
    assert period.words == "1 Jan–6 Dec 2025"
    assert period.label == "2025-YTD"
    assert parse_period("2024").words == "2024"
