"""Exact inference for counts: Poisson intervals and the conditional test for two counts.

Homicide and shooting counts are small, so normal approximations mislead exactly where the
decisions are made (a town's 3 homicides against 0). Everything here is exact, and defined for
zero counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

# The distributions below are scipy.stats's own formulas written on scipy.special: importing
# scipy.stats costs a command line half a second, and every `gvrs stats` needs these.


def _chi2_ppf(q, df):
    """Chi-square quantile (scipy.stats.chi2.ppf is this formula)."""
    return 2 * special.gammaincinv(np.asarray(df) / 2, q)


def _binom_pmf(k, n: int, p: float):
    """Binomial probability of ``k``, through logarithms so that large ``n`` cannot overflow."""
    k = np.asarray(k, dtype=float)
    log = (
        special.gammaln(n + 1)
        - special.gammaln(k + 1)
        - special.gammaln(n - k + 1)
        + special.xlogy(k, p)
        + special.xlog1py(n - k, -p)
    )
    return np.exp(log)


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k), 0 below the support."""
    return 0.0 if k < 0 else 1.0 if k >= n else float(special.bdtr(k, n, p))


def _binom_sf(k: int, n: int, p: float) -> float:
    """P(X > k), 1 below the support."""
    return 1.0 if k < 0 else 0.0 if k >= n else float(special.bdtrc(k, n, p))


def _last_at_most(a, bound: float, lo: int, hi: int) -> int:
    """The largest x in [lo, hi] with a(x) <= bound, for ``a`` increasing on [lo, hi] (lo - 1
    when there is none): a bisection, as the tail of a unimodal distribution allows."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = a(mid)
        if value < bound:
            lo = mid + 1
        elif value > bound:
            hi = mid - 1
        else:
            return mid
    return lo if a(lo) <= bound else lo - 1


def binomial_two_sided_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial test: the probability of the outcomes no more likely than
    ``k`` (scipy.stats.binomtest's "two-sided", with its relative tolerance of 1e-7 for ties).

    >>> round(binomial_two_sided_p(38, 98, 0.5), 4)
    0.0334
    """
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1 ({k}/{n})")
    d = float(_binom_pmf(k, n, p))
    tolerance = 1 + 1e-7
    mode_side = p * n
    if k == mode_side:
        return 1.0
    if k < mode_side:
        # Outcomes above the mean at most as likely as k: from the first such one to n.
        ix = _last_at_most(
            lambda x: -float(_binom_pmf(x, n, p)), -d * tolerance, int(np.ceil(mode_side)), n
        )
        y = n - ix + int(d * tolerance == float(_binom_pmf(ix, n, p)))
        value = _binom_cdf(k, n, p) + _binom_sf(n - y, n, p)
    else:
        ix = _last_at_most(
            lambda x: float(_binom_pmf(x, n, p)), d * tolerance, 0, int(np.floor(mode_side))
        )
        value = _binom_cdf(ix, n, p) + _binom_sf(k - 1, n, p)
    return float(min(1.0, value))


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float


@dataclass(frozen=True)
class CountComparison:
    """Two counts over their exposures (population x time) and the exact test between them."""

    count_a: int
    count_b: int
    exposure_a: float
    exposure_b: float
    p_value: float
    rate_ratio: float  # (b / exposure_b) / (a / exposure_a); inf when a == 0 < b

    @property
    def change(self) -> int:
        return self.count_b - self.count_a

    @property
    def change_pct(self) -> float | None:
        """Percent change of the rate from a to b; None when a is zero (undefined)."""
        if self.count_a == 0:
            return None
        return 100.0 * (self.rate_ratio - 1.0)


def binomial_interval(successes: int, trials: int, level: float = 0.95) -> Interval:
    """Exact (Clopper-Pearson) interval for a proportion ``successes / trials``.

    Notes
    -----
    Clopper & Pearson (1934): the bounds are Beta quantiles, so the interval's coverage is at
    least ``level`` for every true proportion.

    Examples
    --------
    >>> i = binomial_interval(30, 60)
    >>> round(i.low, 3), round(i.high, 3)
    (0.368, 0.632)
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0 ({successes}/{trials})")
    alpha = 1.0 - level
    low = (
        0.0
        if successes == 0
        else float(special.betaincinv(successes, trials - successes + 1, alpha / 2))
    )
    high = (
        1.0
        if successes == trials
        else float(special.betaincinv(successes + 1, trials - successes, 1 - alpha / 2))
    )
    return Interval(low, high, level)


def poisson_interval(count: int, exposure: float = 1.0, level: float = 0.95) -> Interval:
    """Exact (Garwood) confidence interval for a Poisson mean, scaled by ``exposure``.

    Parameters
    ----------
    count : int
        Observed events, 0 or more.
    exposure : float
        Divide the interval by this (e.g. population / 100,000 for a rate per 100,000).
    level : float
        Confidence level, e.g. 0.95.

    Returns
    -------
    Interval
        ``low`` and ``high`` for the mean count (or rate, when ``exposure`` is given).

    Notes
    -----
    Garwood (1936): the chi-square form of the exact interval. For 0 events the lower bound
    is 0 and the upper bound is -ln(alpha/2) = 3.69 at 95%.

    Examples
    --------
    >>> iv = poisson_interval(38)
    >>> round(iv.low, 2), round(iv.high, 2)
    (26.89, 52.16)
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}")
    if exposure <= 0:
        raise ValueError(f"exposure must be positive, got {exposure}")
    alpha = 1.0 - level
    low = 0.0 if count == 0 else _chi2_ppf(alpha / 2, 2 * count) / 2
    high = _chi2_ppf(1 - alpha / 2, 2 * count + 2) / 2
    return Interval(float(low) / exposure, float(high) / exposure, level)


def poisson_bounds(counts, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """``poisson_interval`` for an array of counts at once: the low and high bounds, the same
    numbers to the last bit. A dashboard asks for hundreds of weekly intervals, and one call
    to the chi-square quantile per array instead of per count is what makes that cheap."""
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size and counts.min() < 0:
        raise ValueError(f"counts must be 0 or more, got {int(counts.min())}")
    alpha = 1.0 - level
    low = np.where(counts == 0, 0.0, _chi2_ppf(alpha / 2, np.maximum(2 * counts, 1)) / 2)
    high = _chi2_ppf(1 - alpha / 2, 2 * counts + 2) / 2
    return low.astype(float), high.astype(float)


def compare_counts(
    count_a: int, count_b: int, exposure_a: float = 1.0, exposure_b: float = 1.0
) -> CountComparison:
    """Exact conditional test that two Poisson counts share one rate.

    Parameters
    ----------
    count_a, count_b : int
        Events in the earlier (``a``) and later (``b``) period or place.
    exposure_a, exposure_b : float
        Their exposures: population x period length, in any common unit. Equal exposures
        compare raw counts.

    Returns
    -------
    CountComparison
        The two-sided p-value, and the rate ratio b/a.

    Notes
    -----
    Conditional on the total n = a + b, ``b`` is Binomial(n, e_b / (e_a + e_b)) when the rates
    are equal (Przyborowski & Wilenski 1940); the two-sided p-value sums the outcomes no more
    likely than the one observed (scipy's ``binomtest``). With n = 0 there is no evidence
    either way and p = 1.

    Examples
    --------
    >>> round(compare_counts(60, 38).p_value, 4)
    0.0334
    """
    if count_a < 0 or count_b < 0:
        raise ValueError("counts must be 0 or more")
    if exposure_a <= 0 or exposure_b <= 0:
        raise ValueError("exposures must be positive")
    n = count_a + count_b
    share = exposure_b / (exposure_a + exposure_b)
    p_value = 1.0 if n == 0 else binomial_two_sided_p(count_b, n, share)
    if count_a == 0:
        ratio = float("inf") if count_b > 0 else float("nan")
    else:
        ratio = (count_b / exposure_b) / (count_a / exposure_a)
    return CountComparison(count_a, count_b, exposure_a, exposure_b, min(p_value, 1.0), ratio)
