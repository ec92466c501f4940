"""What the three designs share: the evaluation result, the time axis of a count table, a
quasi-Poisson regression fitted by IRLS, and the rule for the one sentence a result may say."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

MONTH = "month"
YEAR = "year"


class EvaluationError(ValueError):
    """Data that cannot answer the question (too short, no comparison places, ...)."""


@dataclass(frozen=True)
class PlaceboOutcome:
    """The same design run on an outcome the strategy should not move (e.g. violent crime
    other than homicide): if it moved as much, the fall is not evidence for the strategy."""

    label: str
    effect_ratio: float
    ci_low: float
    ci_high: float

    @property
    def moved(self) -> str:
        """ "down" or "up" when its interval excludes no effect, else ""."""
        return "down" if self.ci_high < 1 else "up" if self.ci_low > 1 else ""


@dataclass(frozen=True)
class Evaluation:
    """One design's answer to "did the strategy work?".

    ``effect_ratio`` is actual over counterfactual in the strategy period (0.7 = 30% fewer
    than expected without it), with its ``level`` interval and the p-value of no effect.
    ``pre_fit`` is the root mean squared error of the counterfactual in the pre-period, as a
    share of the pre-period mean. ``placebo_rank`` ranks the estimate among the placebo
    estimates (1 = the most extreme) out of ``placebo_count + 1``. ``path`` holds the
    picture: one row per period with ``actual``, ``counterfactual``, ``low``, ``high`` and
    ``post``. ``details`` holds what only one design has (weights, event study, ...).
    """

    method: str
    place: str
    label: str
    start: dt.date
    resolution: str
    effect_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float
    pre_fit: float
    pre_trend_p: float | None
    placebo_rank: int | None
    placebo_count: int
    placebo_p: float | None
    placebo_outcome: PlaceboOutcome | None
    assumptions: tuple[str, ...]
    claims_effect: bool
    sentence: str
    path: pd.DataFrame
    details: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# The time axis


def resolution_of(index: pd.Index) -> str:
    """ "year" for an index of integer years, "month" for month starts."""
    if pd.api.types.is_integer_dtype(index):
        return YEAR
    if isinstance(index, pd.DatetimeIndex) and (index.day == 1).all():
        return MONTH
    raise EvaluationError(
        "counts must be indexed by integer years or by the first day of each month"
    )


def period_starts(index: pd.Index) -> pd.DatetimeIndex:
    if resolution_of(index) == YEAR:
        return pd.to_datetime([f"{int(y)}-01-01" for y in index])
    return pd.DatetimeIndex(index)


def split_at(index: pd.Index, start: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """(keep, post): periods that start on or after ``start`` are the strategy period; a
    period that straddles ``start`` belongs to neither and is left out of the fit."""
    starts = period_starts(index)
    step = pd.DateOffset(years=1) if resolution_of(index) == YEAR else pd.DateOffset(months=1)
    ends = starts + step
    begin = pd.Timestamp(start)
    post = np.asarray(starts >= begin)
    pre = np.asarray(ends <= begin)
    return pre | post, post


def years_since(index: pd.Index, start: dt.date) -> np.ndarray:
    """Time of each period's middle, in years from ``start``."""
    starts = period_starts(index)
    half = 0.5 if resolution_of(index) == YEAR else 1 / 24
    return np.asarray((starts - pd.Timestamp(start)).days, dtype=float) / 365.25 + half


def event_years(index: pd.Index, start: dt.date) -> np.ndarray:
    """Whole years from the start for each kept period: 0 for the first twelve months (or
    the first year) on or after the start, 1 for the next; -1 for the last twelve months
    (or year) that end before it, -2 for the twelve before those. A period that straddles
    the start is left out of both, so with a mid-year start, -1 is still the last whole year
    before it, never the first year of the data."""
    keep, post = split_at(index, start)
    per = 12 if resolution_of(index) == MONTH else 1
    out = np.full(len(index), np.iinfo(np.int64).min, dtype=np.int64)
    after = np.flatnonzero(post)
    before = np.flatnonzero(keep & ~post)
    out[after] = np.arange(len(after)) // per
    out[before] = -1 - (np.arange(len(before))[::-1] // per)
    return out


def reference_label(index: pd.Index, start: dt.date) -> str:
    """The periods the event study's reference (-1) covers, for its title."""
    years = event_years(index, start)
    chosen = index[years == -1]
    if len(chosen) == 0:
        return "no period before the start"
    if resolution_of(index) == YEAR:
        return f"{int(chosen[0])}, the last year before the start"
    first, last = pd.Timestamp(chosen[0]), pd.Timestamp(chosen[-1])
    return f"{first:%Y-%m} to {last:%Y-%m}, the last {len(chosen)} months before the start"


def check_table(counts: pd.DataFrame | pd.Series, start: dt.date, min_pre: int) -> None:
    keep, post = split_at(counts.index, start)
    n_pre, n_post = int((keep & ~post).sum()), int(post.sum())
    if n_post == 0:
        raise EvaluationError(f"no data from the start date {start} on")
    if n_pre < min_pre:
        raise EvaluationError(
            f"{n_pre} periods before {start}; this design needs at least {min_pre}"
        )
    values = counts.to_numpy(dtype=float)
    if np.isnan(values).any():
        raise EvaluationError("counts have gaps (a period with no figure is unknown, not 0)")
    if (values < 0).any():
        raise EvaluationError("counts must not be negative")


# ---------------------------------------------------------------------------------------------
# Quasi-Poisson regression


@dataclass(frozen=True)
class GlmFit:
    beta: np.ndarray
    cov: np.ndarray  # scaled by the dispersion
    dispersion: float  # Pearson chi-square / residual df, at least 1
    df_resid: int
    mu: np.ndarray
    rho: float = 0.0  # the errors' lag-1 autocorrelation the covariance allows for

    def contrast(self, c: np.ndarray) -> tuple[float, float]:
        """(estimate, standard error) of the linear combination ``c @ beta``."""
        return float(c @ self.beta), float(np.sqrt(max(c @ self.cov @ c, 0.0)))


def fit_quasi_poisson(
    x: np.ndarray, y: np.ndarray, offset: np.ndarray | None = None, *, max_iter: int = 100
) -> GlmFit:
    """Poisson log-linear regression by iteratively reweighted least squares, with the
    variance scaled by the Pearson dispersion (quasi-Poisson; McCullagh & Nelder 1989, 9.2),
    so that overdispersed counts (shootings cluster) get honest, wider intervals. A
    dispersion below 1 is taken as 1: the model never claims less noise than Poisson."""
    y = np.asarray(y, dtype=float)
    offset = np.zeros(len(y)) if offset is None else np.asarray(offset, dtype=float)
    mu = y + 0.5
    eta = np.log(mu)
    deviance = np.inf
    for _ in range(max_iter):
        z = eta - offset + (y - mu) / mu
        xtw = x.T * mu
        beta = _solve(xtw @ x, xtw @ z)
        eta = np.clip(x @ beta + offset, -30, 30)
        mu = np.exp(eta)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)
        new = 2 * terms.sum()
        if abs(new - deviance) <= 1e-10 * (abs(new) + 1):
            break
        deviance = new
    information = (x.T * mu) @ x
    try:
        inverse = np.linalg.inv(information)
        rank = x.shape[1]
    except np.linalg.LinAlgError:
        inverse = np.linalg.pinv(information)
        rank = np.linalg.matrix_rank(information)
    df_resid = max(len(y) - rank, 1)
    dispersion = max(float(((y - mu) ** 2 / mu).sum() / df_resid), 1.0)
    cov = inverse * dispersion
    return GlmFit(beta, cov, dispersion, df_resid, mu)


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def ratio_interval(
    estimate: float, se: float, df: int, level: float
) -> tuple[float, float, float, float]:
    """(ratio, low, high, p) for a log rate ratio with a t reference (estimated dispersion)."""
    q = stats.t.ppf(0.5 + level / 2, df)
    p = 2 * stats.t.sf(abs(estimate) / se, df) if se > 0 else float(estimate == 0)
    return (
        float(np.exp(estimate)),
        float(np.exp(estimate - q * se)),
        float(np.exp(estimate + q * se)),
        float(p),
    )


def relative_rmspe(actual: np.ndarray, expected: np.ndarray) -> float:
    mean = float(np.mean(actual))
    if mean <= 0:
        return float("nan")
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(expected)) ** 2)) / mean)


def placebo_standing(real: float, placebos: np.ndarray) -> tuple[int | None, float | None]:
    """(rank, p): where ``real`` falls among placebo statistics, 1 being the largest; ties
    count against the real estimate. p = rank / (placebos + 1) (Abadie et al. 2010)."""
    placebos = np.asarray(placebos, dtype=float)
    placebos = placebos[np.isfinite(placebos)]
    if len(placebos) == 0:
        return None, None
    rank = 1 + int((placebos >= real).sum())
    return rank, rank / (len(placebos) + 1)


# ---------------------------------------------------------------------------------------------
# The sentence


def _percent(ratio: float) -> str:
    change = 100 * (ratio - 1)
    return f"{'−' if change < 0 else '+'}{abs(change):.0f}%"


def verdict(
    *,
    label: str,
    place: str,
    effect_ratio: float,
    ci_low: float,
    ci_high: float,
    level: float,
    placebo_rank: int | None,
    placebo_count: int,
    placebo_p: float | None,
    placebo_kind: str,
    placebo_outcome: PlaceboOutcome | None,
    pre_trend_p: float | None = None,
    problems: tuple[str, ...] = (),
) -> tuple[bool, str]:
    """(claims_effect, sentence). "Consistent with an effect of ..." only when the interval
    excludes no effect, the placebo distribution singles the estimate out at the same level,
    the pre-trend test passes, the placebo outcome did not move the same way and the design
    named no ``problems`` (a fit too good for its degrees of freedom, too few treated places
    for clustered inference, ...); otherwise "No evidence either way from this data", with
    the reasons."""
    if np.isfinite(ci_low) and np.isfinite(ci_high):
        numbers = f"rate ratio {effect_ratio:.2f}, {level:.0%} interval {ci_low:.2f}–{ci_high:.2f}"
    elif ci_low > 0 and ci_high == np.inf:
        numbers = f"rate ratio {effect_ratio:.2f}, {level:.0%} interval {ci_low:.2f} or more"
    else:
        numbers = f"rate ratio {effect_ratio:.2f}, no {level:.0%} interval"
    standing = (
        f"{placebo_kind} placebos: rank {placebo_rank} of {placebo_count + 1}"
        if placebo_rank is not None
        else f"no {placebo_kind} placebos"
    )
    direction = "down" if ci_high < 1 else "up" if ci_low > 1 else ""
    reasons = []
    if not direction and not (np.isnan(ci_low) or np.isnan(ci_high)):
        reasons.append("the interval includes no effect")
    alpha = 1 - level
    # 1 / (1 - 0.9) is 10.000000000000002 in floating point: ten places can reach p = 0.1.
    if placebo_p is None or placebo_count + 1 < 1 / alpha - 1e-9:
        reasons.append(
            f"too few placebos ({placebo_count}) to single out an effect at the {level:.0%} level"
        )
    elif placebo_p > alpha + 1e-12:
        reasons.append(f"the {placebo_kind} placebos do not single it out")
    if pre_trend_p is not None and pre_trend_p < alpha:
        reasons.append(f"the pre-trend test fails (p = {pre_trend_p:.2g})")
    if direction and placebo_outcome is not None and placebo_outcome.moved == direction:
        reasons.append(
            f"{placebo_outcome.label} moved the same way "
            f"(rate ratio {placebo_outcome.effect_ratio:.2f}, "
            f"{placebo_outcome.ci_low:.2f}–{placebo_outcome.ci_high:.2f})"
        )
    if (np.isnan(ci_low) or np.isnan(ci_high)) and not problems:
        reasons.append(f"there is no {level:.0%} interval")
    reasons.extend(problems)
    subject = f"{label} in {place}" if place else label
    if not reasons:
        return True, (
            f"Consistent with an effect of {_percent(effect_ratio)} on {subject} "
            f"({numbers}; {standing})."
        )
    return False, (
        f"No evidence either way from this data: {subject} came out at "
        f"{_percent(effect_ratio)} against the counterfactual ({numbers}; {standing}), "
        f"but {' and '.join(reasons)}."
    )
