"""Year-end projection from year-to-date, with a prediction interval that says what it assumes.

"31 homicides so far this year ... on track to becoming the lowest in four years" is a claim
about a total not yet counted. The projection scales the year-to-date count by the share of a
year's events that usually falls by this date (each month's share of the annual total, pooled
over the prior years available), and its interval carries both the Poisson noise of the rest
of the year and the uncertainty of that seasonal share.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gvrs.analysis.periods import same_day_in


@dataclass(frozen=True)
class Projection:
    year: int
    as_of: dt.date
    ytd_count: int
    share_elapsed: float  # pooled share of a year's events that fall by as_of's date
    prior_years: tuple[int, ...]
    projected: float  # median of the predictive distribution
    low: float
    high: float
    level: float
    record_high: int | None
    record_high_year: int | None
    p_exceed_record: float | None
    p_lowest_in: dict[int, float] = field(default_factory=dict)  # N -> P(lowest in N years)
    assumptions: str = ""


def elapsed_share(daily: pd.Series, as_of: dt.date, prior_years: list[int]) -> tuple[int, int]:
    """Events before and after as_of's date, summed over ``prior_years``, from monthly shares.

    Complete months count whole; the current month counts in proportion to its days elapsed,
    so the share moves smoothly through a month. Returns (before, after) counts.
    """
    monthly = daily.groupby([daily.index.year, daily.index.month]).sum()
    before = after = 0.0
    for y in prior_years:
        months = monthly.loc[y] if y in monthly.index.get_level_values(0) else pd.Series(dtype=int)
        total = float(months.sum())
        day = same_day_in(y, as_of)
        done = float(months.loc[months.index < day.month].sum())
        current = float(months.get(day.month, 0))
        done += current * day.day / calendar.monthrange(y, day.month)[1]
        before += done
        after += total - done
    return round(before), round(after)


def project_year_end(
    daily: pd.Series,
    as_of: dt.date,
    *,
    level: float = 0.90,
    max_prior_years: int = 10,
    lowest_in: tuple[int, ...] = (3, 4, 5, 10),
    draws: int = 40_000,
    seed: int = 0,
) -> Projection:
    """Project the total for ``as_of.year`` from its year-to-date count.

    Parameters
    ----------
    daily : pandas.Series
        Counts per day (DatetimeIndex), zero-filled, covering prior complete years and the
        current year up to ``as_of``.
    as_of : datetime.date
        The last day counted.
    level : float
        Coverage of the prediction interval (0.90 by default).
    max_prior_years : int
        How many complete years before ``as_of.year`` the seasonal share is pooled over.
    lowest_in : tuple of int
        For each N, the probability that the year ends as the lowest in N years (this one
        and the N-1 before it), when those years are in the data.
    draws, seed : int
        Monte Carlo draws and their seed (results are reproducible).

    Returns
    -------
    Projection

    Notes
    -----
    Model: this year's total rate L, with year-to-date count Y ~ Poisson(L s) and the rest of
    the year R ~ Poisson(L (1 - s)); the elapsed share s ~ Beta(b + 1/2, a + 1/2) from the
    pooled prior counts before (b) and after (a) this date; L | Y, s has the Jeffreys
    posterior Gamma(Y + 1/2, s). The interval is the central ``level`` quantile of Y + R.
    Assumes this year's seasonal pattern is like the prior years' and the rate is steady
    within the year.

    Examples
    --------
    >>> import pandas as pd, datetime as dt
    >>> days = pd.date_range("2019-01-01", "2024-06-30")
    >>> daily = pd.Series(1, index=days)
    >>> p = project_year_end(daily, dt.date(2024, 6, 30))
    >>> 340 < p.projected < 390  # one a day: about 366 in a leap year
    True
    """
    daily = daily.sort_index()
    year = as_of.year
    first_year = daily.index.min().year
    if daily.index.min() > pd.Timestamp(first_year, 1, 1):
        first_year += 1
    prior = [y for y in range(max(first_year, year - max_prior_years), year)]
    if not prior:
        raise ValueError("a projection needs at least one complete prior year of daily counts")
    ytd = int(daily.loc[pd.Timestamp(year, 1, 1) : pd.Timestamp(as_of)].sum())
    before, after = elapsed_share(daily, as_of, prior)
    rng = np.random.default_rng(seed)
    share = rng.beta(before + 0.5, after + 0.5, size=draws)
    rate = rng.gamma(ytd + 0.5, 1.0 / share)
    totals = ytd + rng.poisson(rate * (1.0 - share))
    alpha = (1.0 - level) / 2
    low, mid, high = np.quantile(totals, [alpha, 0.5, 1 - alpha])
    annual = daily.groupby(daily.index.year).sum()
    history = annual.loc[[y for y in annual.index if first_year <= y < year]]
    record_high = record_year = p_exceed = None
    if len(history):
        record_high = int(history.max())
        record_year = int(history.idxmax())
        p_exceed = float(np.mean(totals > record_high))
    p_lowest = {}
    for n in lowest_in:
        window = [y for y in range(year - n + 1, year) if y in history.index]
        if len(window) == n - 1 and n > 1:
            p_lowest[n] = float(np.mean(totals < history.loc[window].min()))
    share_mean = before / (before + after) if before + after else float("nan")
    assumptions = (
        f"assumes {year} follows the seasonal pattern of {prior[0]}–{prior[-1]} "
        f"(by {as_of:%d %B}, {share_mean:.0%} of a year's events) and a steady rate"
    )
    return Projection(
        year=year,
        as_of=as_of,
        ytd_count=ytd,
        share_elapsed=share_mean,
        prior_years=tuple(prior),
        projected=float(mid),
        low=float(low),
        high=float(high),
        level=level,
        record_high=record_high,
        record_high_year=record_year,
        p_exceed_record=p_exceed,
        p_lowest_in=p_lowest,
        assumptions=assumptions,
    )
