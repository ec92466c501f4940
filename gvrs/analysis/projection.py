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
    model: str = "overdispersed"


MODELS = ("overdispersed", "poisson")
# Half-normal prior scale of tau, the year-to-year standard deviation of log(rest of year /
# year to date) beyond counting noise: weakly informative (a year whose second part runs 25%
# above or below its usual ratio to the first is common; 100% is not).
TAU_PRIOR_SCALE = 0.25
_TAU_GRID = np.linspace(0.0, 1.5, 301)


def split_by_year(daily: pd.Series, as_of: dt.date, years: list[int]) -> np.ndarray:
    """Events before and after as_of's date in each of ``years``, shape (len(years), 2).

    Complete months count whole; the current month counts in proportion to its days elapsed,
    so the split moves smoothly through a month.
    """
    monthly = daily.groupby([daily.index.year, daily.index.month]).sum()
    out = np.zeros((len(years), 2))
    for i, y in enumerate(years):
        months = monthly.loc[y] if y in monthly.index.get_level_values(0) else pd.Series(dtype=int)
        total = float(months.sum())
        day = same_day_in(y, as_of)
        done = float(months.loc[months.index < day.month].sum())
        current = float(months.get(day.month, 0))
        done += current * day.day / calendar.monthrange(y, day.month)[1]
        out[i] = done, total - done
    return out


def elapsed_share(daily: pd.Series, as_of: dt.date, prior_years: list[int]) -> tuple[int, int]:
    """Events before and after as_of's date, summed over ``prior_years`` (see
    ``split_by_year``). Returns (before, after) counts."""
    before, after = split_by_year(daily, as_of, prior_years).sum(axis=0)
    return round(before), round(after)


def dispersion(daily: pd.Series, years: list[int]) -> float:
    """Variance-to-mean ratio of daily counts within each month of ``years`` (at least 1):
    people shot come several to an incident, so their counts vary more than Poisson's."""
    days = daily[daily.index.year.isin(years)]
    if days.empty:
        return 1.0
    groups = days.groupby([days.index.year, days.index.month])
    mean, var = groups.mean(), groups.var(ddof=1)
    keep = mean > 0
    if not keep.any():
        return 1.0
    return float(max(1.0, (var[keep].sum()) / mean[keep].sum()))


def _ratio_draws(
    splits: np.ndarray, phi: float, rng: np.random.Generator, draws: int
) -> np.ndarray:
    """Draws of this year's log(rest / year to date) from a normal hierarchical model of the
    prior years' ratios: z_y ~ N(mu, v_y + tau^2), flat prior on mu, half-normal on tau,
    tau's posterior on a grid (Gelman et al., Bayesian Data Analysis, ch. 5)."""
    b, a = splits[:, 0] + 0.5, splits[:, 1] + 0.5
    z = np.log(a / b)
    v = phi * (1 / a + 1 / b)
    tau2 = _TAU_GRID[:, None] ** 2
    w = 1.0 / (v[None, :] + tau2)
    mu_hat = (w * z).sum(axis=1) / w.sum(axis=1)
    v_mu = 1.0 / w.sum(axis=1)
    log_post = (
        0.5 * np.log(v_mu)
        - 0.5 * np.log(v[None, :] + tau2).sum(axis=1)
        - 0.5 * (w * (z[None, :] - mu_hat[:, None]) ** 2).sum(axis=1)
        - 0.5 * (_TAU_GRID / TAU_PRIOR_SCALE) ** 2
    )
    post = np.exp(log_post - log_post.max())
    pick = rng.choice(len(_TAU_GRID), size=draws, p=post / post.sum())
    mu = rng.normal(mu_hat[pick], np.sqrt(v_mu[pick]))
    return rng.normal(mu, _TAU_GRID[pick])


def project_year_end(
    daily: pd.Series,
    as_of: dt.date,
    *,
    level: float = 0.90,
    max_prior_years: int = 10,
    lowest_in: tuple[int, ...] = (3, 4, 5, 10),
    draws: int = 40_000,
    seed: int = 0,
    model: str = "overdispersed",
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
        How many complete years before ``as_of.year`` the model is fitted over.
    lowest_in : tuple of int
        For each N, the probability that the year ends as the lowest in N years (this one
        and the N-1 before it), when those years are in the data.
    draws, seed : int
        Monte Carlo draws and their seed (results are reproducible).
    model : str
        "overdispersed" (default) or "poisson" (the earlier model, kept for comparison).

    Returns
    -------
    Projection

    Notes
    -----
    Overdispersed model: the year-to-date count Y has expectation m, the rest of the year R
    expectation m e^theta. theta varies from year to year (the level drifts within a year,
    the seasonal shares move): for each prior year y, z_y = log(after_y / before_y) ~
    N(mu, v_y + tau^2), a normal hierarchical model with a flat prior on mu and a half-normal
    prior on tau (scale ``TAU_PRIOR_SCALE``), tau's posterior computed on a grid. Counts are
    quasi-Poisson with the dispersion phi of daily counts within months (several people shot
    in one incident): m | Y ~ phi Gamma(Y/phi + 1/2), R ~ phi Poisson(m e^theta / phi).
    Poisson model: theta fixed at the pooled share (Beta(before + 1/2, after + 1/2)) and
    phi = 1. The interval is the central ``level`` quantile of Y + R.

    Examples
    --------
    >>> import pandas as pd, datetime as dt
    >>> days = pd.date_range("2019-01-01", "2024-06-30")
    >>> daily = pd.Series(1, index=days)
    >>> p = project_year_end(daily, dt.date(2024, 6, 30))
    >>> 340 < p.projected < 390  # one a day: about 366 in a leap year
    True
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
    daily = daily.sort_index()
    year = as_of.year
    first_year = daily.index.min().year
    if daily.index.min() > pd.Timestamp(first_year, 1, 1):
        first_year += 1
    prior = [y for y in range(max(first_year, year - max_prior_years), year)]
    if not prior:
        raise ValueError("a projection needs at least one complete prior year of daily counts")
    ytd = int(daily.loc[pd.Timestamp(year, 1, 1) : pd.Timestamp(as_of)].sum())
    splits = split_by_year(daily, as_of, prior)
    before, after = (round(x) for x in splits.sum(axis=0))
    rng = np.random.default_rng(seed)
    if model == "poisson":
        share = rng.beta(before + 0.5, after + 0.5, size=draws)
        rate = rng.gamma(ytd + 0.5, 1.0 / share)
        totals = ytd + rng.poisson(rate * (1.0 - share))
    else:
        phi = dispersion(daily, prior)
        theta = _ratio_draws(splits, phi, rng, draws)
        m = phi * rng.gamma(ytd / phi + 0.5, 1.0, size=draws)
        totals = ytd + phi * rng.poisson(m * np.exp(theta) / phi)
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
    varies = (
        "a steady rate"
        if model == "poisson"
        else "a rate and seasonal pattern that vary from year to year as much as they did then"
    )
    assumptions = (
        f"assumes {year} follows the seasonal pattern of {prior[0]}–{prior[-1]} "
        f"(by {as_of:%d %B}, {share_mean:.0%} of a year's events) and {varies}"
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
        model=model,
    )
