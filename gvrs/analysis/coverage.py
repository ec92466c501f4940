"""What a source's data cover, and where they do not: strays, probable gaps, future dates.

Coverage is a recorded fact about a source (the period its file covers), never guessed from
the last incident of a place. When the user gives no period, the file's own first and latest
dates are proposed, with records isolated in time from the rest (a stray) left out, and the
user confirms it. Outside coverage a figure is "no data", never 0.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from gvrs.analysis.narrative import format_p, localize_number, month_abbr

STRAY_GAP_DAYS = 60
STRAY_SHARE = 0.01  # a cluster of records is a stray when it holds under 1% of the source
STRAY_MAX_RECORDS = 3  # ... or three records or fewer (a small file's lone late record)
GAP_P_VALUE = 0.001
RECENT_MONTHS = 12
GAP_RATIO = 0.5  # and under half the expected count: a falling trend is not a gap
# A thin year (docs/importing.md, "Coverage by volume"): under a fifth of what its neighbours
# (up to two years either side) lead one to expect, and a Poisson lower tail under 1e-6.
THIN_SHARE = 0.2
THIN_P_VALUE = 1e-6
THIN_NEIGHBOURS = 2
THIN_MIN_DAYS = 28  # a year with fewer covered days (a few weeks at an end) is not judged


@dataclass(frozen=True)
class Stray:
    """Records on ``first``..``last`` isolated from the rest of their source by ``gap_days``."""

    first: dt.date
    last: dt.date
    records: int
    gap_days: int
    where: str  # "start" | "end" | "middle"

    def describe(self) -> str:
        when = self.first.isoformat() if self.first == self.last else f"{self.first}..{self.last}"
        side = {"end": "before", "start": "after"}.get(self.where, "around")
        return (
            f"stray: {self.records:,} record{'s' if self.records != 1 else ''} dated {when}, "
            f"none in the {self.gap_days} days {side} {'them' if self.records != 1 else 'it'}"
        )


@dataclass(frozen=True)
class LowMonth:
    """A month whose count is implausibly low for the series: a probable gap in the data."""

    month: str  # "2019-04"
    count: int
    expected: float
    p_value: float  # exact Poisson lower tail P(X <= count | expected)

    def describe(self) -> str:
        return (
            f"probable gap: {self.month} has {self.count:,} records where about "
            f"{self.expected:,.0f} were expected from the months before "
            f"(exact Poisson {format_p(self.p_value)})"
        )


@dataclass(frozen=True)
class ThinYear:
    """A year whose records fall far below its neighbours': the source did not yet (or no
    longer) collect in earnest, so the year is not covered (a national archive's first year,
    278 records against 51,854 the next)."""

    year: int
    count: int
    expected: float
    p_value: float  # exact Poisson lower tail P(X <= count | expected)

    def describe(self) -> str:
        return (
            f"thin year: {self.year} has {self.count:,} records where about "
            f"{self.expected:,.0f} were expected from the years beside it (exact Poisson "
            f"{format_p(self.p_value)}); it is not covered: no figure, test or headline uses it"
        )


@dataclass(frozen=True)
class FileCoverage:
    """The period a file covers and what was found in its dates."""

    first: dt.date | None
    last: dt.date | None
    first_record: dt.date | None
    last_record: dt.date | None
    records: int
    basis: str  # "given", "mapping", "file dates"
    strays: tuple[Stray, ...] = ()
    low_months: tuple[LowMonth, ...] = ()
    future: tuple[dt.date, ...] = ()
    outside: int = 0  # records outside the coverage (left out of every figure)
    notes: tuple[str, ...] = field(default=())
    thin_years: tuple[ThinYear, ...] = ()

    def warnings(self) -> list[str]:
        out = [s.describe() for s in self.strays]
        out += [m.describe() for m in self.low_months]
        out += [t.describe() for t in self.thin_years]
        out += [f"date after the import date: {d.isoformat()}" for d in self.future]
        return out + list(self.notes)

    def describe(self) -> str:
        if self.first is None or self.last is None:
            return "no dated records"
        return f"covers {self.first.isoformat()} to {self.last.isoformat()} ({self.basis})"


def _as_day_counts(day_counts: pd.Series) -> pd.Series:
    out = day_counts.copy()
    out.index = pd.to_datetime(out.index)
    return out.groupby(level=0).sum().sort_index()


def find_strays(
    day_counts: pd.Series, *, min_gap_days: int = STRAY_GAP_DAYS, share: float = STRAY_SHARE
) -> tuple[list[Stray], dt.date | None, dt.date | None]:
    """Records isolated in time from the rest of their source.

    Parameters
    ----------
    day_counts : pandas.Series
        Records per date (any date-like index), every place and kind of one source.
    min_gap_days : int
        A gap is at least this long; for a sparse source it is longer: the span in which the
        source's average rate expects 7 records (a gap that long has probability e^-7, about
        0.001, under a steady rate).
    share : float
        A cluster of dates separated from the rest by such a gap is a stray when it holds
        under this share of the records, or three records or fewer.

    Returns
    -------
    (strays, first, last): the strays and the first and last date of the rest.

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.Series(3, index=pd.date_range("2024-01-01", "2025-01-26"))
    >>> days[pd.Timestamp("2025-11-26")] = 1
    >>> strays, first, last = find_strays(days)
    >>> strays[0].first.isoformat(), strays[0].where, last.isoformat()
    ('2025-11-26', 'end', '2025-01-26')
    """
    counts = _as_day_counts(day_counts)
    counts = counts[counts > 0]
    if counts.empty:
        return [], None, None
    total = int(counts.sum())
    days = counts.index
    span_days = max((days[-1] - days[0]).days + 1, 1)
    rate = total / span_days
    threshold = max(min_gap_days, math.ceil(7 / rate)) if rate > 0 else min_gap_days
    gaps = np.diff(days.to_numpy()).astype("timedelta64[D]").astype(int)
    cuts = np.flatnonzero(gaps > threshold) + 1
    bounds = [0, *cuts.tolist(), len(days)]
    clusters = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    sizes = [int(counts.iloc[a:b].sum()) for a, b in clusters]
    main = int(np.argmax(sizes))
    strays: list[Stray] = []
    kept: list[int] = []
    for i, (a, b) in enumerate(clusters):
        if i != main and (sizes[i] < share * total or sizes[i] <= STRAY_MAX_RECORDS):
            before = gaps[a - 1] if a > 0 else None
            after = gaps[b - 1] if b < len(days) else None
            where = "end" if i > main and after is None else "start" if i < main and a == 0 else ""
            where = where or "middle"
            gap = int(before if where in ("end", "middle") and before is not None else after)
            strays.append(Stray(days[a].date(), days[b - 1].date(), sizes[i], gap - 1, where))
        else:
            kept.append(i)
    first = days[clusters[kept[0]][0]].date()
    last = days[clusters[kept[-1]][1] - 1].date()
    return strays, first, last


def find_low_months(
    day_counts: pd.Series,
    first: dt.date,
    last: dt.date,
    *,
    p_value: float = GAP_P_VALUE,
    recent_months: int = RECENT_MONTHS,
    ratio: float = GAP_RATIO,
) -> list[LowMonth]:
    """Months whose count is implausibly low against the series' recent level.

    Each month (the covered days of a partial month at either end) is compared with the daily
    rate of the ``recent_months`` before it (at least 6 needed), scaled by the calendar
    month's seasonal factor when the series has two years or more. A month is a probable gap
    when the exact Poisson lower tail P(X <= count) is below ``p_value`` and the count is
    under ``ratio`` of the expected: a falling trend is not a gap, a month half missing is.

    Examples
    --------
    >>> import pandas as pd, datetime as dt
    >>> days = pd.Series(2, index=pd.date_range("2022-01-01", "2023-12-31"))
    >>> days[(days.index >= "2023-04-01") & (days.index <= "2023-04-30")] = 0
    >>> [m.month for m in find_low_months(days, dt.date(2022, 1, 1), dt.date(2023, 12, 31))]
    ['2023-04']
    """
    counts = _as_day_counts(day_counts)
    index = pd.date_range(first, last, freq="D")
    daily = counts.reindex(index, fill_value=0)
    months = daily.groupby([daily.index.year, daily.index.month])
    totals = months.sum().to_numpy(dtype=float)
    days = months.size().to_numpy(dtype=float)
    keys = list(months.sum().index)
    labels = [f"{y}-{m:02d}" for y, m in keys]
    calendar_month = np.array([m for _, m in keys])
    season = np.ones(13)
    if len(daily) >= 730 and daily.sum() > 0:
        by_month = daily.groupby(daily.index.month)
        rates = by_month.sum() / by_month.size()
        overall = daily.sum() / len(daily)
        season[rates.index.to_numpy()] = (rates / overall).to_numpy()
    out = []
    for i in range(len(totals)):
        lo = max(0, i - recent_months)
        if i - lo < 6:
            continue
        adjusted = days[lo:i] * season[calendar_month[lo:i]]
        rate = totals[lo:i].sum() / adjusted.sum()
        expected = rate * days[i] * season[calendar_month[i]]
        if expected <= 0:
            continue
        p = float(special.pdtr(totals[i], expected))  # the Poisson distribution function
        if p < p_value and totals[i] < ratio * expected:
            out.append(LowMonth(labels[i], int(totals[i]), float(expected), p))
    return out


def file_coverage(
    day_counts: pd.Series,
    *,
    covers_from: dt.date | None = None,
    covers_through: dt.date | None = None,
    basis: str = "given",
    today: dt.date | None = None,
) -> FileCoverage:
    """The period a file covers: as given, or its first and latest dates with strays left
    out. The first date is taken back to the start of its month (exports start on month
    boundaries: a first record on 2 January means data from 1 January).

    A stray at the end stays out of coverage unless ``covers_through`` confirms it.
    """
    counts = _as_day_counts(day_counts)
    counts = counts[counts > 0]
    if counts.empty:
        return FileCoverage(covers_from, covers_through, None, None, 0, basis)
    today = today or dt.date.today()
    strays, first, last = find_strays(counts)
    first_record, last_record = counts.index[0].date(), counts.index[-1].date()
    proposed_first = first.replace(day=1) if covers_from is None else covers_from
    proposed_last = last if covers_through is None else covers_through
    if covers_from is None and covers_through is None:
        basis = "file dates"
    inside = counts[
        (counts.index >= pd.Timestamp(proposed_first))
        & (counts.index <= pd.Timestamp(proposed_last))
    ]
    notes = []
    outside = int(counts.sum() - inside.sum())
    if outside:
        notes.append(
            f"{outside:,} record{'s' if outside != 1 else ''} outside the coverage "
            f"{proposed_first}..{proposed_last} {'are' if outside != 1 else 'is'} left out of "
            "every figure"
            + ("" if covers_through else ' (confirm a later end with --through or "Data through")')
        )
    low = find_low_months(counts, proposed_first, proposed_last) if len(inside) else []
    thin = find_thin_years(counts, proposed_first, proposed_last) if len(inside) else []
    future = tuple(d.date() for d in counts.index if d.date() > today)
    return FileCoverage(
        first=proposed_first,
        last=proposed_last,
        first_record=first_record,
        last_record=last_record,
        records=int(counts.sum()),
        basis=basis,
        strays=tuple(strays),
        low_months=tuple(low),
        future=future,
        outside=outside,
        notes=tuple(notes),
        thin_years=tuple(thin),
    )


def find_thin_years(
    day_counts: pd.Series,
    first: dt.date,
    last: dt.date,
    *,
    share: float = THIN_SHARE,
    p_value: float = THIN_P_VALUE,
    neighbours: int = THIN_NEIGHBOURS,
) -> list[ThinYear]:
    """Years of a source whose record count falls far below its neighbours': coverage by
    volume, beside coverage by dates.

    Each calendar year inside ``first``..``last`` (its covered days, for a part year at
    either end; a year with fewer than 28 covered days is not judged) is compared with the
    median daily rate of the ``neighbours`` years on either side, scaled to its covered days.
    It is thin when its count is under ``share`` of that expectation and the exact Poisson
    lower tail P(X <= count) is under ``p_value``: a real fall (Philadelphia's 1,082 people
    shot in 2024 after 1,666) is far above a fifth, while an archive's first, barely
    collected year (278 records against 51,854) is far below.

    Parameters
    ----------
    day_counts : pandas.Series
        Records per date (any date-like index), every place and kind of one source.
    first, last : datetime.date
        The coverage by dates.

    Returns
    -------
    list of ThinYear, in year order.

    Notes
    -----
    A screening rule in the spirit of the probable-gap months (``find_low_months``): an
    exact Poisson tail against a robust (median) expectation, with a ratio so that a large
    source's ordinary swings are never flagged.

    Examples
    --------
    >>> import pandas as pd, datetime as dt
    >>> days = pd.Series(140, index=pd.date_range("2014-01-01", "2016-12-31"))
    >>> days[days.index.year == 2014] = 0
    >>> days[pd.Timestamp("2014-06-01")] = 278
    >>> [t.year for t in find_thin_years(days, dt.date(2014, 1, 1), dt.date(2016, 12, 31))]
    [2014]
    """
    counts = _as_day_counts(day_counts)
    index = pd.date_range(first, last, freq="D")
    daily = counts.reindex(index, fill_value=0)
    by_year = daily.groupby(daily.index.year)
    totals = by_year.sum()
    days = by_year.size()
    years = [int(y) for y in totals.index]
    judged = [y for y in years if days[y] >= THIN_MIN_DAYS]
    out = []
    for k, year in enumerate(judged):
        near = judged[max(0, k - neighbours) : k] + judged[k + 1 : k + 1 + neighbours]
        if not near:
            continue
        rate = float(np.median([totals[y] / days[y] for y in near]))
        expected = rate * float(days[year])
        count = int(totals[year])
        if expected <= 0:
            continue
        p = float(special.pdtr(count, expected))
        if count < share * expected and p < p_value:
            out.append(ThinYear(year, count, expected, p))
    return out


def coverage_phrase(last: dt.date, today: dt.date | None = None, lang: str = "en") -> str:
    """ "data through 26 Jan 2025, 22 months ago" (or "3 days ago", "today"); in Spanish
    (``lang="es"``) "datos hasta el 26 ene 2025, hace 22 meses".

    Examples
    --------
    >>> import datetime as dt
    >>> coverage_phrase(dt.date(2025, 1, 26), dt.date(2025, 11, 26))
    'data through 26 Jan 2025, 10 months ago'
    >>> coverage_phrase(dt.date(2025, 1, 26), dt.date(2025, 11, 26), lang="es")
    'datos hasta el 26 ene 2025, hace 10 meses'
    """
    today = today or dt.date.today()
    days = (today - last).days
    if lang[:2] == "es":
        if days <= 0:
            ago = "hoy" if days == 0 else "posterior a hoy"
        elif days < 45:
            ago = f"hace {days} día{'s' if days != 1 else ''}"
        elif days < 730:
            ago = f"hace {round(days / 30.44)} meses"
        else:
            ago = f"hace {localize_number(f'{days / 365.25:.1f}', 'es')} años"
        return f"datos hasta el {last.day} {month_abbr(last.month, 'es')} {last.year}, {ago}"
    if days <= 0:
        ago = "today" if days == 0 else "ahead of today"
    elif days < 45:
        ago = f"{days} day{'s' if days != 1 else ''} ago"
    elif days < 730:
        ago = f"{round(days / 30.44)} months ago"
    else:
        ago = f"{days / 365.25:.1f} years ago"
    return f"data through {last.day} {last:%b %Y}, {ago}"
