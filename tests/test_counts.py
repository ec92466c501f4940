"""Counts, rates, changes and history on small hand-checkable series, the real published
counts (California DOJ) and a real incident file (Philadelphia)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gvrs.analysis.counts import (
    CountSeries,
    SeriesError,
    compare_periods,
    count_in,
    counts_by,
    period_count,
)
from gvrs.analysis.history import rank_in_history
from gvrs.analysis.periods import parse_period, periods_between
from tests.conftest import CA_DOJ, PHILLY, require

META = {"metric": "homicides", "label": "Homicides", "place": "Town", "definition": "test"}


def daily(days: dict[str, int], first: str, last: str, **extra) -> CountSeries:
    series = pd.Series(list(days.values()), index=pd.to_datetime(list(days)))
    return CountSeries.from_daily(
        series,
        first=dt.date.fromisoformat(first),
        last=dt.date.fromisoformat(last),
        source="incidents",
        **{**META, **extra},
    )


@pytest.fixture(scope="module")
def ca_doj() -> pd.DataFrame:
    return pd.read_csv(require(CA_DOJ), usecols=["Year", "NCICCode", "Homicide_sum"])


def published(ca_doj, agency: str) -> CountSeries:
    annual = ca_doj[ca_doj["NCICCode"] == agency].set_index("Year")["Homicide_sum"]
    return CountSeries.from_annual(annual.to_dict(), **{**META, "place": agency}, source="ca-doj")


def test_zero_count_periods_are_present_not_missing():
    series = daily({"2022-01-05": 2, "2022-03-09": 1}, "2022-01-01", "2022-12-31")
    months = counts_by(series, "month")
    assert [m.count for m in months] == [2, 0, 1] + [0] * 9
    assert len(months) == 12


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    offset=st.integers(0, 400),
    length=st.integers(0, 2500),
    freq=st.sampled_from(["week", "month", "quarter", "year"]),
)
def test_counts_by_many_periods_equal_each_period_counted_on_its_own(seed, offset, length, freq):
    rng = np.random.default_rng(seed)
    first = dt.date(2015, 1, 1) + dt.timedelta(days=offset)
    last = first + dt.timedelta(days=length)
    days = pd.date_range(first, last)
    events = pd.Series(rng.poisson(rng.uniform(0, 3), len(days)), index=days)
    series = CountSeries.from_daily(
        events[events > 0], first=first, last=last, source="incidents", **META
    )
    many = counts_by(series, freq)
    assert many == [period_count(series, c.period) for c in many]
    assert sum(c.count for c in many) == events.sum()


def test_rates_use_the_population_of_that_place_and_year():
    series = daily({"2022-06-01": 38}, "2022-01-01", "2022-12-31", populations={2022: 400_000})
    row = period_count(series, parse_period("2022"))
    assert row.rate_per_100k == pytest.approx(9.5)
    assert (round(row.ci_low, 2), round(row.ci_high, 2)) == (26.89, 52.16)


def test_ytd_against_the_same_window_last_year():
    series = daily(
        {"2023-02-01": 5, "2023-08-01": 9, "2024-01-10": 1, "2024-07-01": 4},
        "2023-01-01",
        "2024-06-30",
    )
    change = compare_periods(
        series,
        parse_period("2024-YTD", dt.date(2024, 6, 30)),
        parse_period("2023-YTD", dt.date(2024, 6, 30)),
    )
    assert (change.count, change.baseline_count, change.change) == (1, 5, -4)
    assert "within ordinary year-to-year variation" in change.sentence


def test_a_period_past_the_data_is_marked_incomplete():
    series = daily({"2024-01-10": 1}, "2023-01-01", "2024-06-30")
    assert not period_count(series, parse_period("2024")).complete
    # No test across unequal windows: 2024 runs past the data, so both years are compared
    # from 1 January to 30 June, and the sentence says so.
    change = compare_periods(series, parse_period("2024"), parse_period("2023"))
    assert (change.period.end, change.baseline.end) == (dt.date(2024, 6, 30), dt.date(2023, 6, 30))
    assert "in 2023 (1 Jan–30 Jun) to 1 in 2024 (1 Jan–30 Jun)" in change.sentence


def test_an_annual_series_refuses_questions_about_months():
    series = CountSeries.from_annual({2021: 60, 2022: 38}, **META, source="ca-doj")
    with pytest.raises(SeriesError, match="annual totals only"):
        count_in(series, parse_period("2022-03"))
    with pytest.raises(SeriesError, match="no homicides figure for Town in 2019"):
        count_in(series, parse_period("2019"))


def test_bakersfield_published_60_to_38_is_minus_36_7_percent_p_0_0334(ca_doj):
    change = compare_periods(
        published(ca_doj, "Bakersfield"), parse_period("2022"), parse_period("2021")
    )
    assert (change.baseline_count, change.count) == (60, 38)
    assert change.change_pct == pytest.approx(-36.67, abs=0.01)
    assert change.p_value == pytest.approx(0.0334, abs=5e-5)
    assert change.sentence == (
        "Homicides fell 37%, from 60 in 2021 to 38 in 2022 (exact test p = 0.033)."
    )


def test_stocktons_71_in_2012_is_the_record_of_1985_to_2022_and_48_in_2022_is_not(ca_doj):
    annual = published(ca_doj, "Stockton").annual()
    assert (annual.index.min(), annual.index.max()) == (1985, 2022)
    record = rank_in_history(annual, 2012, whole_series=True)
    assert record.count == 71 and record.is_record_high and record.rank_high == 1
    assert record.phrase == "the highest in the 38 years of data (1985–2022)"
    latest = rank_in_history(annual, 2022, whole_series=True)
    assert latest.count == 48 and not latest.is_record_high and not latest.is_record_low


def test_fresno_2022_is_ranked_against_its_own_history_like_a_sort_would(ca_doj):
    annual = published(ca_doj, "Fresno").annual()
    rank = rank_in_history(annual, 2022)
    # Brute force: 1 + the number of earlier years with strictly more homicides.
    earlier = [c for y, c in annual.items() if y < 2022]
    assert rank.count == 61
    assert rank.rank_high == 1 + sum(c > 61 for c in earlier)
    assert rank.n_years == 38
    since = max(y for y, c in annual.items() if y < 2022 and c >= 61)
    assert rank.highest_since == since


def test_history_never_claims_more_years_than_the_data_have():
    annual = pd.Series({2019: 5, 2020: 9, 2021: 7, 2022: 4})
    assert rank_in_history(annual, 2022).phrase == "the lowest in the 4 years of data (2019–2022)"
    long = pd.Series({2010: 3, **{y: 10 for y in range(2011, 2022)}, 2022: 4})
    assert rank_in_history(long, 2022).phrase == "the lowest since 2010 (lowest in 12 years)"


def test_incident_and_published_series_go_through_the_same_functions(ca_doj):
    raw = pd.read_csv(require(PHILLY), usecols=["date", "fatal"])
    raw["day"] = pd.to_datetime(raw["date"], format="%Y/%m/%d %H:%M:%S").dt.normalize()
    from_incidents = CountSeries.from_daily(
        raw.groupby("day").size(),
        first=dt.date(2015, 1, 1),
        last=dt.date(2024, 12, 31),
        **{**META, "place": "Philadelphia"},
        source="incidents",
    )
    from_published = published(ca_doj, "Stockton")
    for series in (from_incidents, from_published):
        years = counts_by(series, "year")
        change = compare_periods(series, years[-1].period, years[-2].period)
        assert change.count == years[-1].count
        assert change.source == series.source
    assert counts_by(from_incidents, "year")[-1].count == int((raw["day"].dt.year == 2024).sum())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=365 * 3, max_size=365 * 3))
def test_counts_by_month_sum_to_counts_by_year(values):
    days = pd.date_range("2021-01-01", periods=len(values), freq="D")
    series = CountSeries.from_daily(
        pd.Series(values, index=days),
        first=days[0].date(),
        last=days[-1].date(),
        **META,
        source="incidents",
    )
    months = counts_by(series, "month")
    for year in counts_by(series, "year"):
        inside = [m.count for m in months if m.period.start.year == year.period.start.year]
        assert sum(inside) == year.count
    weeks = periods_between(days[0].date(), days[-1].date(), "week")
    assert len(weeks) >= 156


def test_counts_match_a_brute_force_count_over_random_periods():
    rng = np.random.default_rng(3)
    days = pd.date_range("2020-01-01", "2023-12-31")
    values = rng.poisson(0.4, len(days))
    series = CountSeries.from_daily(
        pd.Series(values, index=days),
        first=days[0].date(),
        last=days[-1].date(),
        **META,
        source="incidents",
    )
    for text in ("2021-Q2", "2022-02", "2023-W10", "2020..2021", "2021-03-03..2022-11-30"):
        period = parse_period(text)
        mask = (days.date >= period.start) & (days.date <= period.end)
        assert count_in(series, period) == values[mask].sum()
