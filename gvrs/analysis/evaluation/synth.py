"""Synthetic control: the place against a weighted blend of donor places whose pre-period
path matches its own, with placebo and conformal inference.

Written on ``scipy.optimize`` rather than taken from PyPI (checked November 2026:
``pysyncon`` 1.7.0, ``scpi-pkg`` 4.0.0). gvrs matches on the pre-period outcome path only (no
covariates), where the synthetic control is a least-squares problem on the simplex that
SLSQP solves exactly in milliseconds, and placebo and conformal inference refit it dozens of
times per evaluation (thousands in the simulator sweep). pysyncon's nested optimisation of
predictor weights adds nothing when the predictors are the outcome's own lags, it pulls in
matplotlib, and its conformal intervals are per period where the council asks about the whole
strategy period; scpi-pkg's prediction intervals need cvxpy, ecos, dask, plotnine,
scikit-learn and statsmodels. Our conformal interval of the average ratio is ~40 lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from gvrs.analysis.evaluation._core import (
    MONTH,
    Evaluation,
    EvaluationError,
    PlaceboOutcome,
    check_table,
    placebo_standing,
    relative_rmspe,
    resolution_of,
    split_at,
    verdict,
)

ASSUMPTIONS = (
    "Without the strategy, the place would have followed the weighted blend of donors that "
    "matched its pre-period path (each series scaled by its own pre-period mean).",
    "The donors were not touched by the strategy or a spill-over from it, and nothing else "
    "began in the place alone at the start date.",
    "The effect is a constant ratio over the strategy period, and the blend's errors are as "
    "exchangeable over time after the start as before (for the conformal interval).",
)


def synth_weights(target: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """Weights w >= 0 summing to 1 that minimise ||target - donors @ w||.

    Parameters
    ----------
    target : numpy.ndarray, shape (T,)
    donors : numpy.ndarray, shape (T, J)

    Notes
    -----
    The synthetic control weights of Abadie, Diamond & Hainmueller (2010) with the predictor
    matrix V the identity over the pre-period outcomes, solved by SLSQP.

    Examples
    --------
    >>> donors = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    >>> np.round(synth_weights(donors @ [0.25, 0.75], donors), 3)
    array([0.25, 0.75])
    """
    target = np.asarray(target, dtype=float)
    donors = np.asarray(donors, dtype=float)
    n = donors.shape[1]
    if n == 1:
        return np.ones(1)
    gram = donors.T @ donors
    linear = donors.T @ target
    result = optimize.minimize(
        lambda w: w @ gram @ w - 2 * linear @ w,
        np.full(n, 1 / n),
        jac=lambda w: 2 * (gram @ w - linear),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(n)}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    w = np.clip(result.x, 0, None)
    return w / w.sum()


@dataclass(frozen=True)
class DonorPool:
    """The donors kept, and every place left out with its reason."""

    donors: tuple[str, ...]
    excluded: dict[str, str]


def select_donors(
    counts: pd.DataFrame,
    treated: str,
    start: dt.date,
    *,
    populations: pd.DataFrame | None = None,
    size_ratio: float = 3.0,
    max_donors: int = 20,
) -> DonorPool:
    """Donors of similar size and pre-period path to ``treated``.

    Size is the pre-period mean population where given, else the pre-period mean count: a
    donor within ``size_ratio`` times either way is kept. Of those, the ``max_donors`` whose
    path (scaled by its pre-period mean) is closest to the treated place's are kept.

    Notes
    -----
    Restricting the donor pool to units similar in size and pre-period fit limits
    interpolation bias (Abadie, Diamond & Hainmueller 2015; Abadie 2021, section 4).
    """
    keep, post = split_at(counts.index, start)
    pre = counts.loc[keep & ~post]
    table = counts.loc[keep]
    size = (pre if populations is None else populations.loc[pre.index]).mean()
    excluded: dict[str, str] = {}
    candidates = []
    for place in counts.columns:
        if place == treated:
            continue
        if table[place].isna().any():
            excluded[place] = "has gaps in the period"
        elif pre[place].sum() <= 0:
            excluded[place] = "no events before the start"
        elif not size[treated] / size_ratio <= size[place] <= size[treated] * size_ratio:
            excluded[place] = f"size {size[place]:,.0f} against {size[treated]:,.0f}"
        else:
            candidates.append(place)
    target = _index(pre[treated].to_numpy(float), pre[treated].to_numpy(float))
    distance = {
        p: float(np.sqrt(np.mean((_index(pre[p].to_numpy(float), pre[p]) - target) ** 2)))
        for p in candidates
    }
    ranked = sorted(candidates, key=lambda p: (distance[p], str(p)))
    for place in ranked[max_donors:]:
        excluded[place] = f"pre-period path further from {treated} than {max_donors} others"
    return DonorPool(tuple(ranked[:max_donors]), excluded)


def _index(values: np.ndarray, pre: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float) / float(np.mean(pre))


def _scaled(counts, populations, post):
    """Each place's rate (or count), divided by its own pre-period mean."""
    values = counts.to_numpy(dtype=float)
    if populations is not None:
        values = values / populations.to_numpy(dtype=float)
    means = values[~post].mean(axis=0)
    return values / means, means


def _standardised_gap(target, donors, post) -> float:
    """|mean gap after the start| / RMS gap before it, the blend fitted on the pre-period.
    Abadie et al.'s post/pre RMSPE ratio, with the mean in place of the post-period RMS: on
    noisy monthly counts the RMS is dominated by noise and cannot see a constant effect."""
    w = synth_weights(target[~post], donors[~post])
    gap = target - donors @ w
    pre = np.sqrt(np.mean(gap[~post] ** 2))
    return float(abs(gap[post].mean()) / pre) if pre > 0 else np.inf


def _conformal_p(target, donors, post, ratio: float) -> float:
    """p-value of "the effect is this constant ratio": divide the post-period by it, fit the
    weights on every period, and compare the post-period's mean residual with every cyclic
    shift of the residuals (Chernozhukov, Wuthrich & Zhu 2021)."""
    adjusted = np.where(post, target / ratio, target)
    u = adjusted - donors @ synth_weights(adjusted, donors)
    n, m = len(u), int(post.sum())
    # Cyclic shifts of the residuals: block s puts the post-period on positions s..s+m-1.
    doubled = np.concatenate([u, u])
    sums = np.convolve(doubled, np.ones(m), "valid")[:n]
    observed = abs(u[post].sum())
    return float(np.mean(np.abs(sums) >= observed - 1e-12))


def _conformal_interval(target, donors, post, estimate: float, alpha: float):
    """The ratios not rejected at ``alpha``: walk out from the estimate in steps of 0.05 on
    the log scale until rejected (or 2 = a factor of 7.4 away), then bisect to 0.002."""

    def accepted(log_ratio: float) -> bool:
        return _conformal_p(target, donors, post, float(np.exp(log_ratio))) > alpha

    centre = float(np.log(estimate)) if estimate > 0 else -2.0
    bounds = []
    for sign in (-1.0, 1.0):
        inside, step = centre, 0.05
        outside = None
        while abs(inside + sign * step - centre) <= 2.0:
            if accepted(inside + sign * step):
                inside += sign * step
            else:
                outside = inside + sign * step
                break
        if outside is None:
            bounds.append(sign * np.inf)
            continue
        while abs(outside - inside) > 0.002:
            middle = (inside + outside) / 2
            if accepted(middle):
                inside = middle
            else:
                outside = middle
        bounds.append(inside)
    return float(np.exp(bounds[0])), float(np.exp(bounds[1]))


def synthetic_control(
    counts: pd.DataFrame,
    treated: str,
    start: dt.date,
    *,
    populations: pd.DataFrame | None = None,
    level: float = 0.9,
    label: str = "",
    place: str | None = None,
    placebo_counts: pd.DataFrame | None = None,
    placebo_label: str = "",
    _inference: bool = True,
) -> Evaluation:
    """Synthetic control of ``treated`` from the other columns of ``counts`` (the donors).

    Parameters
    ----------
    counts : pandas.DataFrame
        Counts per period (rows: month starts or integer years) and place (columns), no gaps.
        Choose the donors first (``select_donors``).
    treated : str
        The column of the place with the strategy.
    start : datetime.date
        First day of the strategy; a period that straddles it is left out.
    populations : pandas.DataFrame, optional
        Residents, same shape: the blend is then of rates.
    level : float
        Coverage of the interval.
    placebo_counts : pandas.DataFrame, optional
        An outcome the strategy should not move, run through the same design.

    Returns
    -------
    Evaluation
        ``effect_ratio`` = actual / synthetic over the strategy period; the interval and
        p-value by conformal inference; ``placebo_rank`` ranks the standardised gap
        among in-space placebos (each donor treated in turn from the others);
        ``details["weights"]`` the donor weights, ``details["in_time_placebos"]`` the ratio
        at false start dates inside the pre-period.

    Notes
    -----
    Synthetic control (Abadie, Diamond & Hainmueller 2010) on each series scaled by its
    pre-period mean, with in-space and in-time placebos (Abadie et al. 2010, 2015) and a
    conformal interval for a constant multiplicative effect (Chernozhukov, Wuthrich & Zhu
    2021, "An exact and robust conformal inference method for counterfactual and synthetic
    controls").

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> years = pd.RangeIndex(2000, 2024)
    >>> trend = np.linspace(1.2, 0.8, len(years))[:, None]
    >>> rate = trend * np.array([200.0, 150, 250, 220, 180, 300])
    >>> rate[years >= 2018, 0] *= 0.7
    >>> table = pd.DataFrame(rng.poisson(rate), index=years, columns=list("ABCDEF"))
    >>> result = synthetic_control(table, "A", dt.date(2018, 1, 1))
    >>> 0.6 < result.effect_ratio < 0.8
    True
    """
    if treated not in counts.columns:
        raise EvaluationError(f"{treated!r} is not a column of the counts")
    resolution = resolution_of(counts.index)
    check_table(counts, start, 12 if resolution == MONTH else 5)
    keep, _ = split_at(counts.index, start)
    counts = counts.loc[keep]
    if populations is not None:
        populations = populations.loc[counts.index, counts.columns]
    _, post = split_at(counts.index, start)
    if (counts.loc[~post].sum() <= 0).any():
        empty = [str(c) for c in counts.columns if counts.loc[~post, c].sum() <= 0]
        raise EvaluationError(f"no events before the start in: {', '.join(empty)}")
    donors_names = [c for c in counts.columns if c != treated]
    if not donors_names:
        raise EvaluationError("synthetic control needs at least one donor")
    scaled, means = _scaled(counts, populations, post)
    j = list(counts.columns).index(treated)
    target = scaled[:, j]
    donors = np.delete(scaled, j, axis=1)
    w = synth_weights(target[~post], donors[~post])
    synthetic = donors @ w
    # Back to counts: the treated place's own pre-period mean (and population).
    scale = means[j] * (1.0 if populations is None else populations[treated].to_numpy(float))
    actual = counts[treated].to_numpy(dtype=float)
    counterfactual = synthetic * scale
    ratio = float(actual[post].sum() / counterfactual[post].sum())
    pre_fit = relative_rmspe(actual[~post], counterfactual[~post])

    low = high = p = float("nan")
    rank = placebo_p = None
    in_space: dict[str, float] = {}
    in_time: list[tuple[str, float]] = []
    pre_trend_p = None
    band_low, band_high = counterfactual.copy(), counterfactual.copy()
    if _inference:
        p = _conformal_p(target, donors, post, 1.0)
        low, high = _conformal_interval(target, donors, post, ratio, 1 - level)
        # The band: the counterfactual that the interval's ratios would imply.
        band_low = np.where(post, actual / max(high, 1e-9), counterfactual)
        band_high = np.where(post, actual / max(low, 1e-9), counterfactual)
        real = _standardised_gap(target, donors, post)
        placebo_stats = []
        for k, name in enumerate(donors_names):
            others = np.delete(donors, k, axis=1)
            if others.shape[1] == 0:
                break
            placebo_stats.append(_standardised_gap(donors[:, k], others, post))
            w_k = synth_weights(donors[~post, k], others[~post])
            in_space[str(name)] = float(donors[post, k].sum() / (others[post] @ w_k).sum())
        rank, placebo_p = placebo_standing(real, np.array(placebo_stats))
        # In-time placebos: false starts inside the pre-period, on pre-period data only.
        n_pre, window = int((~post).sum()), int(post.sum())
        min_pre = 12 if resolution == MONTH else 5
        window = min(window, n_pre - min_pre)
        for k in range(min_pre, n_pre - window + 1, max(1, window)):
            fake = np.zeros(k + window, dtype=bool)
            fake[k:] = True
            t_k, d_k = target[: k + window], donors[: k + window]
            w_k = synth_weights(t_k[~fake], d_k[~fake])
            label_k = str(counts.index[k].date() if resolution == MONTH else counts.index[k])
            in_time.append((label_k, float(t_k[fake].sum() / (d_k[fake] @ w_k).sum())))
            pre_trend_p = _conformal_p(t_k, d_k, fake, 1.0)

    path = pd.DataFrame(
        {
            "period": counts.index,
            "actual": actual,
            "counterfactual": counterfactual,
            "low": band_low,
            "high": band_high,
            "post": post,
        }
    )
    outcome = None
    if placebo_counts is not None:
        other = synthetic_control(
            placebo_counts.loc[:, list(counts.columns)],
            treated,
            start,
            populations=populations,
            level=level,
        )
        outcome = PlaceboOutcome(placebo_label, other.effect_ratio, other.ci_low, other.ci_high)
    place = treated if place is None else place
    claims, sentence = verdict(
        label=label,
        place=place,
        effect_ratio=ratio,
        ci_low=low,
        ci_high=high,
        level=level,
        placebo_rank=rank,
        placebo_count=len(in_space),
        placebo_p=placebo_p,
        placebo_kind="in-space",
        placebo_outcome=outcome,
        pre_trend_p=pre_trend_p,
    )
    weights = pd.Series(w, index=[str(d) for d in donors_names]).sort_values(ascending=False)
    return Evaluation(
        method="synth",
        place=place,
        label=label,
        start=start,
        resolution=resolution,
        effect_ratio=ratio,
        ci_low=low,
        ci_high=high,
        p_value=p,
        level=level,
        pre_fit=pre_fit,
        pre_trend_p=pre_trend_p,
        placebo_rank=rank,
        placebo_count=len(in_space),
        placebo_p=placebo_p,
        placebo_outcome=outcome,
        assumptions=ASSUMPTIONS,
        claims_effect=claims,
        sentence=sentence,
        path=path,
        details={
            "weights": {k: float(v) for k, v in weights.items()},
            "in_space_placebos": in_space,
            "in_time_placebos": in_time,
        },
    )
