"""Counts and rates by period, and changes between periods, for one series of counts.

A ``CountSeries`` is either daily (counted by gvrs from incidents) or annual (a published
count, e.g. California DOJ totals). Every function takes both; one that needs finer detail
than the series has says so instead of guessing. Results name the metric, the place and the
source of their numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gvrs.analysis.coverage import coverage_phrase
from gvrs.analysis.inference import (
    binomial_interval,
    compare_counts,
    poisson_bounds,
    poisson_interval,
)
from gvrs.analysis.narrative import change_sentence
from gvrs.analysis.periods import Period, periods_between, same_day_in

DAY = "day"
YEAR = "year"


class SeriesError(ValueError):
    """A question the series cannot answer (too coarse, or outside what it covers)."""


@dataclass(frozen=True)
class CountSeries:
    """Counts of one metric in one place from one source.

    ``counts`` is indexed by day (``DatetimeIndex``, resolution "day") or by year (int,
    resolution "year"); days or years without events hold 0 inside ``[first, last]``.
    ``populations`` maps a year to residents, for rates.
    """

    metric: str
    label: str
    place: str
    source: str
    definition: str
    resolution: str
    counts: pd.Series
    first: dt.date
    last: dt.date
    populations: dict[int, int] = field(default_factory=dict)
    # The end of the source's recorded coverage; ``last`` is earlier when an as-of date cuts
    # the series. None: the same as ``last``.
    data_end: dt.date | None = None
    # Spans inside [first, last] the data do not cover (an agency did not report those
    # months): "no data", never 0. Each (first day, last day), in order, apart.
    gaps: tuple[tuple[dt.date, dt.date], ...] = ()
    # "incidents": counted by gvrs from one incident source's records (``source`` names
    # it); "published": a figure someone else counted. Two incident sources are never summed.
    kind: str = "published"
    # The place's primary source of incident records for this metric (the one its headline
    # figures come from); other sources stand beside it.
    primary: bool = False
    # Counted from incidents for a place that holds others, where the source records only
    # some of them: "incidents recorded in 1 of 58 counties" (said with its coverage).
    partial: str = ""

    @property
    def from_incidents(self) -> bool:
        return self.kind == "incidents"

    @property
    def covered_through(self) -> dt.date:
        return self.data_end or self.last

    def coverage(self, today: dt.date | None = None) -> str:
        """ "data through 26 Jan 2025, 10 months ago", or "data for 1985–2022" (annual); and
        the spans without data ("no data for 2019-03")."""
        if self.resolution == YEAR:
            return f"data for {self.first.year}–{self.last.year}"
        phrase = coverage_phrase(self.covered_through, today)
        if self.gaps:
            phrase += "; no data for " + ", ".join(gap_label(a, b) for a, b in self.gaps)
        if self.partial:
            phrase += f"; {self.partial}"
        return phrase

    def gap_in(self, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
        """The first span without data that overlaps ``start``..``end``, if any."""
        return next((g for g in self.gaps if g[0] <= end and start <= g[1]), None)

    def year_is_over(self, year: int, today: dt.date | None = None) -> bool:
        """``year`` has ended (by ``today``), or the data hold the whole of it: nothing about
        it is "so far" or projected."""
        end = dt.date(year, 12, 31)
        return self.covered_through >= end or (today or dt.date.today()) > end

    @classmethod
    def from_daily(cls, daily: pd.Series, *, first: dt.date, last: dt.date, **meta) -> CountSeries:
        """Build a daily series, zero-filling every day in [first, last]; days inside
        ``gaps`` (a keyword of ``meta``) hold 0 and are no data, never counted."""
        index = pd.date_range(first, last, freq="D")
        daily = daily.copy()
        daily.index = pd.to_datetime(daily.index)
        full = daily.groupby(level=0).sum().reindex(index, fill_value=0).astype(np.int64)
        gaps = tuple(
            (max(a, first), min(b, last))
            for a, b in meta.pop("gaps", ())
            if a <= last and b >= first
        )
        for a, b in gaps:
            full.loc[pd.Timestamp(a) : pd.Timestamp(b)] = 0
        return cls(resolution=DAY, counts=full, first=first, last=last, gaps=gaps, **meta)

    @classmethod
    def from_annual(cls, annual: dict[int, int] | pd.Series, **meta) -> CountSeries:
        """Build an annual series from {year: count}; missing years stay missing (not 0):
        a year a source did not publish is unknown, not zero."""
        series = pd.Series(annual, dtype="int64").sort_index()
        if series.empty:
            raise SeriesError("no published counts")
        first, last = int(series.index.min()), int(series.index.max())
        return cls(
            resolution=YEAR,
            counts=series,
            first=dt.date(first, 1, 1),
            last=dt.date(last, 12, 31),
            **meta,
        )

    def covers(self, period: Period) -> bool:
        return (
            self.first <= period.start
            and period.end <= self.last
            and self.gap_in(period.start, period.end) is None
        )

    def annual(self) -> pd.Series:
        """Counts per calendar year, complete years only (no span without data in them)."""
        if self.resolution == YEAR:
            return self.counts
        by_year = self.counts.groupby(self.counts.index.year).sum()
        complete = [
            y
            for y in by_year.index
            if dt.date(y, 1, 1) >= self.first
            and dt.date(y, 12, 31) <= self.last
            and self.gap_in(dt.date(y, 1, 1), dt.date(y, 12, 31)) is None
        ]
        return by_year.loc[complete].astype(np.int64)

    def population(self, year: int) -> int | None:
        return self.populations.get(year)


@dataclass(frozen=True)
class PeriodCount:
    metric: str
    place: str
    source: str
    period: Period
    count: int
    ci_low: float
    ci_high: float
    population: int | None
    rate_per_100k: float | None
    complete: bool  # False when the period runs past the data


def count_in(series: CountSeries, period: Period) -> int:
    """Events in ``period``. An annual series answers only whole years it has."""
    if series.resolution == YEAR:
        if not period.is_whole_years:
            raise SeriesError(
                f"{series.source} publishes annual totals only; {period.label} needs incidents"
            )
        wanted = range(period.start.year, period.end.year + 1)
        missing = [y for y in wanted if y not in series.counts.index]
        if missing:
            raise SeriesError(
                f"{series.source} has no {series.metric} figure for {series.place} in "
                f"{', '.join(map(str, missing))}"
            )
        return int(series.counts.loc[list(wanted)].sum())
    if period.end < series.first or period.start > series.last:
        raise SeriesError(
            f"{period.label} is outside the data for {series.place} "
            f"({series.first.isoformat()} to {series.last.isoformat()})"
        )
    window = series.counts.loc[pd.Timestamp(period.start) : pd.Timestamp(period.end)]
    return int(window.sum())


def _population_for(series: CountSeries, period: Period) -> int | None:
    """Population of the period's years (their mean, for a multi-year period)."""
    values = [series.population(y) for y in range(period.start.year, period.end.year + 1)]
    if not values or any(v is None for v in values):
        return None
    return round(sum(values) / len(values))


def period_count(series: CountSeries, period: Period, level: float = 0.95) -> PeriodCount:
    """The count for ``period`` with its exact interval and, where population is known, the
    rate per 100,000 residents for that period (not annualised)."""
    count = count_in(series, period)
    interval = poisson_interval(count, level=level)
    return _with_rate(series, period, count, interval.low, interval.high)


def _with_rate(
    series: CountSeries, period: Period, count: int, low: float, high: float
) -> PeriodCount:
    population = _population_for(series, period)
    return PeriodCount(
        metric=series.metric,
        place=series.place,
        source=series.source,
        period=period,
        count=count,
        ci_low=low,
        ci_high=high,
        population=population,
        rate_per_100k=None if population is None else 100_000 * count / population,
        complete=series.covers(period),
    )


def counts_by(
    series: CountSeries, freq: str, start: dt.date | None = None, end: dt.date | None = None
) -> list[PeriodCount]:
    """One ``PeriodCount`` per period of ``freq`` from start to end, zero periods included."""
    start = max(start or series.first, series.first)
    end = min(end or series.last, series.last)
    if series.resolution == YEAR and freq != "year":
        raise SeriesError(
            f"{series.source} publishes annual totals only; counts by {freq} need incidents"
        )
    periods = periods_between(start, end, freq)
    if series.resolution == YEAR:
        periods = [p for p in periods if p.start.year in series.counts.index]
    else:
        # A period wholly without data is left out ("no data", never 0); one partly without
        # data is partial.
        periods = [
            p
            for p in periods
            if p.end >= series.first
            and p.start <= series.last
            and not any(
                a <= max(p.start, series.first) and min(p.end, series.last) <= b
                for a, b in series.gaps
            )
        ]
        return _daily_counts_by(series, periods)
    return [period_count(series, p) for p in periods]


def _daily_counts_by(series: CountSeries, periods: list[Period]) -> list[PeriodCount]:
    """``period_count`` for each of many periods of a daily series in one pass: sums from a
    cumulative count, intervals from one array call (a weekly chart over ten years is 500
    periods; one pandas slice and one quantile call each took seconds)."""
    days = series.counts.index.values
    cumulative = np.concatenate([[0], np.cumsum(series.counts.to_numpy(dtype=np.int64))])
    starts = np.array([np.datetime64(p.start) for p in periods], dtype=days.dtype)
    ends = np.array([np.datetime64(p.end) for p in periods], dtype=days.dtype)
    counts = (
        cumulative[np.searchsorted(days, ends, side="right")]
        - cumulative[np.searchsorted(days, starts, side="left")]
    )
    lows, highs = poisson_bounds(counts)
    return [
        _with_rate(series, period, int(count), float(low), float(high))
        for period, count, low, high in zip(periods, counts, lows, highs, strict=True)
    ]


@dataclass(frozen=True)
class Change:
    """``period`` against ``baseline``: the counts, the change, and the exact test."""

    metric: str
    label: str
    place: str
    source: str
    period: Period
    baseline: Period
    count: int
    baseline_count: int
    change: int
    change_pct: float | None
    p_value: float
    ci_low: float
    ci_high: float
    rate_per_100k: float | None
    baseline_rate_per_100k: float | None
    exposure_note: str
    sentence: str


def gap_label(first: dt.date, last: dt.date) -> str:
    """ "2019-03" for a month, "2019-03 to 2019-05" for several, else the two days.

    Examples
    --------
    >>> import datetime as dt
    >>> gap_label(dt.date(2019, 3, 1), dt.date(2019, 5, 31))
    '2019-03 to 2019-05'
    """
    month_end = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    whole = first.day == 1 and (last + dt.timedelta(days=1)).day == 1
    if whole and last < month_end:
        return f"{first:%Y-%m}"
    if whole:
        return f"{first:%Y-%m} to {last:%Y-%m}"
    return f"{first.isoformat()} to {last.isoformat()}"


def _window(start: dt.date, end: dt.date) -> str:
    """ "1 Jan–26 Jan", or with years when the window crosses one."""
    if start.year == end.year:
        return f"{start:%-d %b}–{end:%-d %b}"
    return f"{start.isoformat()}–{end.isoformat()}"


def comparable_windows(
    series: CountSeries, period: Period, baseline: Period
) -> tuple[Period, Period]:
    """The two windows that can honestly be compared: the periods themselves when the data
    cover both; when ``period`` runs past the data's end, its covered part against the same
    window of ``baseline`` (1 January to 26 January in both years, as year to date does).
    Raises ``SeriesError`` when no equal windows exist: no test is run across unequal ones,
    nor across a span the data do not cover.
    """
    if series.resolution == DAY:
        for p in (period, baseline):
            gap = series.gap_in(p.start, p.end)
            if gap is not None:
                raise SeriesError(
                    f"{p.label} is not wholly covered in {series.place}: no data for "
                    f"{gap_label(*gap)} (not reported, or too few records to be covered); "
                    "no change is shown"
                )
    if series.covers(period) and series.covers(baseline):
        return period, baseline
    if series.resolution == YEAR:
        count_in(series, period)  # raises, naming the missing years
        count_in(series, baseline)
        return period, baseline
    end = series.last
    if not (series.first <= period.start <= end < period.end):
        # Only a period running past the data's end is compared over a shorter window: any
        # other is refused, naming the period the data do not cover (the baseline, maybe).
        missing = period if not series.covers(period) else baseline
        if missing.start > end or missing.end < series.first:
            raise SeriesError(
                f"no data for {missing.label} in {series.place}: the data cover "
                f"{series.first.isoformat()} to {end.isoformat()}"
            )
        raise SeriesError(
            f"{missing.label} is not wholly inside the data for {series.place} "
            f"({series.first.isoformat()} to {end.isoformat()}); no change is shown"
        )
    if (period.start.month, period.start.day, baseline.start.month, baseline.start.day) == (
        1,
        1,
        1,
        1,
    ):
        base_end = same_day_in(baseline.start.year + (end.year - period.start.year), end)
    else:
        base_end = baseline.start + (end - period.start)
    base_end = min(base_end, baseline.end)
    now = Period(period.start, end, f"{period.label} ({_window(period.start, end)})")
    then = Period(
        baseline.start, base_end, f"{baseline.label} ({_window(baseline.start, base_end)})"
    )
    if not series.covers(then):
        raise SeriesError(
            f"{then.label} ({then.start}..{then.end}) is not inside the data for "
            f"{series.place}; no change is shown"
        )
    return now, then


def compare_periods(series: CountSeries, period: Period, baseline: Period) -> Change:
    """Compare two periods of one series with the exact conditional test.

    Exposure is population x days, so a leap-year window or a growing city is compared on
    rates; where population is unknown it is days alone, and ``exposure_note`` says so.
    A period that runs past the data is compared over the same window of both periods
    (``comparable_windows``), and the labels say which window.
    """
    period, baseline = comparable_windows(series, period, baseline)
    now = period_count(series, period)
    then = period_count(series, baseline)
    if now.population and then.population:
        exposure_now, exposure_then = now.population * period.days, then.population * baseline.days
        note = "rates compared using population and period length"
    else:
        exposure_now, exposure_then = period.days, baseline.days
        note = "population unknown: counts compared per day, assuming equal population"
    test = compare_counts(then.count, now.count, exposure_then, exposure_now)
    sentence = change_sentence(series.label, test, baseline.words, period.words)
    return Change(
        metric=series.metric,
        label=series.label,
        place=series.place,
        source=series.source,
        period=period,
        baseline=baseline,
        count=now.count,
        baseline_count=then.count,
        change=now.count - then.count,
        change_pct=None if then.count == 0 else 100.0 * (now.count - then.count) / then.count,
        p_value=test.p_value,
        ci_low=now.ci_low,
        ci_high=now.ci_high,
        rate_per_100k=now.rate_per_100k,
        baseline_rate_per_100k=then.rate_per_100k,
        exposure_note=note,
        sentence=sentence,
    )


@dataclass(frozen=True)
class Proportion:
    """One year's ratio of two annual series (e.g. homicides cleared / homicides)."""

    metric: str
    place: str
    source: str
    year: int
    numerator: int
    denominator: int
    rate: float | None  # None when the denominator is 0
    ci_low: float | None  # exact binomial interval; None when it does not apply
    ci_high: float | None
    note: str


def proportions_by_year(
    metric: str, numerator: CountSeries, denominator: CountSeries, level: float = 0.95
) -> list[Proportion]:
    """The ratio for every year both series have (a year either lacks is no data).

    The interval is exact binomial (Clopper-Pearson), which treats the numerator as a subset
    of the denominator; where the numerator is larger (clearances of earlier years' cases),
    there is no binomial interval and the note says why.

    Examples
    --------
    >>> a = CountSeries.from_annual({2021: 30, 2022: 40}, metric="c", label="C", place="X",
    ...                             source="s", definition="")
    >>> b = CountSeries.from_annual({2021: 60, 2022: 38}, metric="h", label="H", place="X",
    ...                             source="s", definition="")
    >>> [(p.year, round(p.rate, 2), p.ci_low is None) for p in proportions_by_year("r", a, b)]
    [(2021, 0.5, False), (2022, 1.05, True)]
    """
    num, den = numerator.annual(), denominator.annual()
    out = []
    for year in sorted(set(num.index) & set(den.index)):
        k, n = int(num.loc[year]), int(den.loc[year])
        rate = low = high = None
        note = ""
        if n == 0:
            note = "no homicides in the year: no rate" if k == 0 else "cleared cases, none new"
        else:
            rate = k / n
            if k <= n:
                interval = binomial_interval(k, n, level)
                low, high = interval.low, interval.high
            else:
                note = "more cleared than occurred: clearances include earlier years' cases"
        out.append(
            Proportion(
                metric, numerator.place, numerator.source, int(year), k, n, rate, low, high, note
            )
        )
    return out


def compare_published_windows(
    *,
    metric: str,
    label: str,
    place: str,
    source: str,
    period: Period,
    baseline: Period,
    count: int,
    baseline_count: int,
    level: float = 0.95,
) -> Change:
    """Compare two published figures for exactly these windows (a year-to-date count and the
    same source's count for the same window a year before) with the exact conditional test,
    per day of each window (population unknown).

    Examples
    --------
    >>> from gvrs.analysis.periods import parse_period
    >>> import datetime as dt
    >>> as_of = dt.date(2016, 7, 31)
    >>> c = compare_published_windows(metric="homicides", label="Homicides", place="Fresno",
    ...     source="x", period=parse_period("2016-YTD", as_of),
    ...     baseline=parse_period("2015-YTD", as_of), count=19, baseline_count=30)
    >>> c.change
    -11
    """
    test = compare_counts(baseline_count, count, baseline.days, period.days)
    interval = poisson_interval(count, level=level)
    return Change(
        metric=metric,
        label=label,
        place=place,
        source=source,
        period=period,
        baseline=baseline,
        count=count,
        baseline_count=baseline_count,
        change=count - baseline_count,
        change_pct=None
        if baseline_count == 0
        else 100.0 * (count - baseline_count) / baseline_count,
        p_value=test.p_value,
        ci_low=interval.low,
        ci_high=interval.high,
        rate_per_100k=None,
        baseline_rate_per_100k=None,
        exposure_note="published figures for the same window of each year, compared per day",
        sentence=change_sentence(label, test, baseline.label, period.label),
    )
