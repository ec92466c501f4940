"""Synthetic control: the place against a weighted blend of donor places whose pre-period
path (or predictors) match its own, with placebo and conformal inference.

Written on numpy and scipy rather than taken from PyPI (checked November 2026: ``pysyncon``
1.7.0, ``scpi-pkg`` 4.0.0): placebo and conformal inference refit the weights thousands of
times per evaluation, so the weights are an exact compiled least-squares solver on the
simplex (``weights.py``), and the nested fit of predictor importances (Abadie, Diamond &
Hainmueller 2010) runs on it. pysyncon's inner solver is SLSQP (its Proposition 99 example
takes minutes), it pulls in matplotlib, and its conformal intervals are per period where the
council asks about the whole strategy period; scpi-pkg's prediction intervals need cvxpy,
ecos, dask, plotnine, scikit-learn and statsmodels. Our conformal interval of the average
ratio is ~60 lines.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
from gvrs.analysis.evaluation.weights import predictor_weights, synth_weights

ASSUMPTIONS = (
    "Without the strategy, the place would have followed the weighted blend of donors that "
    "matched its pre-period path (each series scaled by its own pre-period mean).",
    "The donors were not touched by the strategy or a spill-over from it, and nothing else "
    "began in the place alone at the start date.",
    "The effect is a constant ratio over the strategy period, and the blend's errors are as "
    "exchangeable over time after the start as before (for the conformal interval).",
)


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


def _scaled(counts, populations, post, scale: str):
    """Each place's rate (or count), divided by its own pre-period mean ("pre-mean": places
    of different sizes), or as it is ("levels": figures already per person, as in Abadie et
    al.'s packs per capita)."""
    values = counts.to_numpy(dtype=float)
    if populations is not None:
        values = values / populations.to_numpy(dtype=float)
    if scale == "levels":
        return values, np.ones(values.shape[1])
    means = values[~post].mean(axis=0)
    return values / means, means


def _fit(target, donors, post, x=None):
    """Donor weights on the pre-period: by the outcome path, or (with predictors ``x``,
    shape (K, 1 + J), the target first) by the nested fit of predictor importances."""
    if x is None:
        return synth_weights(target[~post], donors[~post]), None
    z = np.column_stack([target[~post], donors[~post]])
    fit = predictor_weights(x, z)
    return fit.weights, fit


def _standardised_gap(target, donors, post, x=None) -> float:
    """|mean gap after the start| / RMS gap before it, the blend fitted on the pre-period.
    Abadie et al.'s post/pre RMSPE ratio, with the mean in place of the post-period RMS: on
    noisy monthly counts the RMS is dominated by noise and cannot see a constant effect."""
    w, _ = _fit(target, donors, post, x)
    gap = target - donors @ w
    pre = np.sqrt(np.mean(gap[~post] ** 2))
    return float(abs(gap[post].mean()) / pre) if pre > 0 else np.inf


class Permutations:
    """Which reorderings of the residuals the conformal test compares with the real one.

    Moving blocks (every cyclic shift of the post-period, Chernozhukov, Wüthrich & Zhu 2021,
    section 3) keep the residuals' serial dependence, but a series of n periods has only n of
    them, so no p-value is below 1/n: 11 annual periods can never reject at 95%, and every
    ratio is "accepted" (the old "0.00–inf"). With fewer than 2/alpha periods, the iid
    permutations of the same paper are used instead (every choice of the post-period's
    positions, or 4,000 drawn with a fixed seed when there are more), which assumes the
    residuals exchangeable; with fewer than 1/alpha choices even those cannot reach the
    level, and the interval is not given (``attainable`` is False)."""

    def __init__(self, post: np.ndarray, alpha: float, seed: int = 0) -> None:
        n, m = len(post), int(post.sum())
        self.n, self.m = n, m
        if n >= 2 / alpha:
            self.kind = "moving block"
            # Block s puts the post-period on positions s..s+m-1 (mod n); s = n - m is real.
            self.positions = (np.arange(n)[:, None] + np.arange(m)[None, :]) % n
            self.count = n
        else:
            self.kind = "iid"
            total = math.comb(n, m)
            real = np.flatnonzero(post)
            if total <= 4000:
                chosen = np.array(list(itertools.combinations(range(n), m)), dtype=np.int64)
            else:
                rng = np.random.default_rng(seed)
                drawn = np.argsort(rng.random((3999, n)), axis=1)[:, :m]
                chosen = np.vstack([real[None, :], np.sort(drawn, axis=1)])
            self.positions = chosen
            self.count = total
        self.attainable = 1 / self.count <= alpha + 1e-12

    def p_value(self, residuals: np.ndarray, post: np.ndarray) -> float:
        sums = residuals[self.positions].sum(axis=1)
        observed = abs(residuals[post].sum())
        return float(np.mean(np.abs(sums) >= observed - 1e-12 * (1 + observed)))


def _conformal_p(target, donors, post, ratio: float, permutations: Permutations) -> float:
    """p-value of "the effect is this constant ratio": divide the post-period by it, fit the
    weights on every period, and compare the post-period's summed residual with its
    reorderings (Chernozhukov, Wüthrich & Zhu 2021)."""
    adjusted = np.where(post, target / ratio, target)
    u = adjusted - donors @ synth_weights(adjusted, donors)
    return permutations.p_value(u, post)


def _conformal_interval(target, donors, post, estimate: float, permutations, alpha: float):
    """The ratios not rejected at ``alpha``: walk out from the estimate in steps of 0.05 on
    the log scale until rejected (or 2 = a factor of 7.4 away), then bisect to 0.002."""

    def accepted(log_ratio: float) -> bool:
        p = _conformal_p(target, donors, post, float(np.exp(log_ratio)), permutations)
        return p > alpha

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


def fit_too_good(
    pre_fit: float, n_pre: int, weights: np.ndarray, mean_count: float | None
) -> str | None:
    """Why the pre-period fit is better than its degrees of freedom allow, or None.

    A blend whose weights sum to one has one free weight fewer than the donors it uses; with
    nearly as many free weights as pre-periods (two residual degrees of freedom or fewer) it
    can pass through every pre-period point, noise included, and its fit says nothing about
    how it would have tracked the place afterwards (Abadie 2021, section 7; Ferman & Pinto
    2021). For counts, a fit closer than half the Poisson noise of the place's own counts
    (a relative error of 1 / sqrt(mean)) can only come from fitting that noise."""
    weights = np.asarray(weights)
    used = int((weights > 1e-3).sum())
    head = (
        f"the pre-period fit ({pre_fit:.2g}) is too good for {n_pre} pre-periods and "
        f"{len(weights)} donors"
    )
    if n_pre - (used - 1) <= 2:
        return (
            f"{head}: {used} donors carry weight, enough to pass through nearly every "
            "pre-period point, noise included"
        )
    if mean_count is not None and mean_count > 0 and np.isfinite(pre_fit):
        noise = 1 / np.sqrt(mean_count)
        if pre_fit < noise / 2:
            return (
                f"{head}: it is closer than the counts' own noise allows (about {noise:.2g} "
                f"for {mean_count:.3g} a period), so the blend of {used} has matched noise"
            )
    return None


def synthetic_control(
    counts: pd.DataFrame,
    treated: str,
    start: dt.date,
    *,
    populations: pd.DataFrame | None = None,
    predictors: pd.DataFrame | None = None,
    scale: str = "pre-mean",
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
        Counts (or rates) per period (rows: month starts or integer years) and place
        (columns), no gaps. Choose the donors first (``select_donors``).
    treated : str
        The column of the place with the strategy.
    start : datetime.date
        First day of the strategy; a period that straddles it is left out.
    populations : pandas.DataFrame, optional
        Residents, same shape: the blend is then of rates.
    predictors : pandas.DataFrame, optional
        One row per predictor (mean log income 1980-88, the outcome in 1975, ...), one
        column per place of ``counts``, each measured before the start. The weights then
        match the predictors, with each predictor's importance chosen so that the blend
        tracks the pre-period outcome best (the nested fit); without, the weights match the
        pre-period outcome path itself.
    scale : {"pre-mean", "levels"}
        "pre-mean" divides each series by its own pre-period mean (counts of places of
        different sizes); "levels" matches the values as they are (figures per person).
    level : float
        Coverage of the interval.
    placebo_counts : pandas.DataFrame, optional
        An outcome the strategy should not move, run through the same design.

    Returns
    -------
    Evaluation
        ``effect_ratio`` = actual / synthetic over the strategy period; the interval and
        p-value by conformal inference; ``placebo_rank`` ranks the standardised gap
        among in-space placebos (each donor treated in turn from the others, by the same
        fit, predictors included); ``details["weights"]`` the donor weights,
        ``details["predictor_importance"]`` and ``details["predictor_balance"]`` (with
        predictors), ``details["in_time_placebos"]`` the ratio at false start dates inside
        the pre-period, ``details["fit_too_good"]`` why the pre-period fit is better than
        its degrees of freedom allow (or None).

    Notes
    -----
    Synthetic control (Abadie, Diamond & Hainmueller 2010) with the nested optimisation of
    predictor importances (their eq. 2-3, ``predictor_weights``), in-space and in-time
    placebos (Abadie et al. 2010, 2015) and a conformal interval for a constant
    multiplicative effect (Chernozhukov, Wüthrich & Zhu 2021, "An exact and robust
    conformal inference method for counterfactual and synthetic controls"), whose weights
    are refitted on the outcome path of every period.

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
    if scale not in ("pre-mean", "levels"):
        raise EvaluationError(f"scale must be 'pre-mean' or 'levels', not {scale!r}")
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
    x = None
    if predictors is not None:
        missing = [str(c) for c in counts.columns if c not in predictors.columns]
        if missing:
            raise EvaluationError(f"no predictors for: {', '.join(missing)}")
        table = predictors.loc[:, list(counts.columns)].astype(float)
        gaps = table.isna().any(axis=1)
        if gaps.any():
            names = ", ".join(map(str, table.index[gaps]))
            raise EvaluationError(f"predictors with no value for some places: {names}")
        x_all = table.to_numpy()
    scaled, means = _scaled(counts, populations, post, scale)
    j = list(counts.columns).index(treated)
    target = scaled[:, j]
    donors = np.delete(scaled, j, axis=1)
    if predictors is not None:
        x = np.column_stack([x_all[:, j], np.delete(x_all, j, axis=1)])
    w, nested = _fit(target, donors, post, x)
    synthetic = donors @ w
    # Back to counts: the treated place's own pre-period mean (and population).
    unit = means[j] * (1.0 if populations is None else populations[treated].to_numpy(float))
    actual = counts[treated].to_numpy(dtype=float)
    counterfactual = synthetic * unit
    ratio = float(actual[post].sum() / counterfactual[post].sum())
    pre_fit = relative_rmspe(actual[~post], counterfactual[~post])
    whole = np.allclose(actual, np.round(actual)) and populations is None
    too_good = fit_too_good(
        pre_fit, int((~post).sum()), w, float(actual[~post].mean()) if whole else None
    )

    low = high = p = float("nan")
    rank = placebo_p = None
    in_space: dict[str, float] = {}
    in_time: list[tuple[str, float]] = []
    pre_trend_p = None
    band_low, band_high = counterfactual.copy(), counterfactual.copy()
    permutations = Permutations(post, 1 - level)
    if _inference:
        p = _conformal_p(target, donors, post, 1.0, permutations)
        if permutations.attainable:
            low, high = _conformal_interval(target, donors, post, ratio, permutations, 1 - level)
            # The band: the counterfactual that the interval's ratios would imply.
            band_low = np.where(post, actual / max(high, 1e-9), counterfactual)
            band_high = np.where(post, actual / max(low, 1e-9), counterfactual)
        real = _standardised_gap(target, donors, post, x)
        placebo_stats = []
        for k, name in enumerate(donors_names):
            others = np.delete(donors, k, axis=1)
            if others.shape[1] == 0:
                break
            x_k = None
            if x is not None:
                rest = np.delete(x[:, 1:], k, axis=1)
                x_k = np.column_stack([x[:, 1 + k], rest])
            placebo_stats.append(_standardised_gap(donors[:, k], others, post, x_k))
            w_k, _ = _fit(donors[:, k], others, post, x_k)
            in_space[str(name)] = float(donors[post, k].sum() / (others[post] @ w_k).sum())
        rank, placebo_p = placebo_standing(real, np.array(placebo_stats))
        # In-time placebos: false starts inside the pre-period, on pre-period data only,
        # matched on the outcome path (predictors are measured over the real pre-period).
        n_pre, window = int((~post).sum()), int(post.sum())
        min_pre = 12 if resolution == MONTH else 5
        window = min(window, n_pre - min_pre)
        for k in range(min_pre, n_pre - window + 1, max(1, window)) if window > 0 else ():
            fake = np.zeros(k + window, dtype=bool)
            fake[k:] = True
            t_k, d_k = target[: k + window], donors[: k + window]
            w_k = synth_weights(t_k[~fake], d_k[~fake])
            label_k = str(counts.index[k].date() if resolution == MONTH else counts.index[k])
            in_time.append((label_k, float(t_k[fake].sum() / (d_k[fake] @ w_k).sum())))
            fake_permutations = Permutations(fake, 1 - level)
            pre_trend_p = _conformal_p(t_k, d_k, fake, 1.0, fake_permutations)

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
            scale=scale,
            level=level,
        )
        outcome = PlaceboOutcome(placebo_label, other.effect_ratio, other.ci_low, other.ci_high)
    place = treated if place is None else place
    problems = []
    if too_good:
        problems.append(too_good)
    if _inference and not permutations.attainable:
        problems.append(
            f"{permutations.n} periods are too few for a conformal interval at the "
            f"{level:.0%} level ({permutations.count} orderings of the residuals)"
        )
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
        problems=tuple(problems),
    )
    weights = pd.Series(w, index=[str(d) for d in donors_names]).sort_values(ascending=False)
    assumptions = list(ASSUMPTIONS)
    if scale == "levels":
        assumptions[0] = assumptions[0].replace(
            "(each series scaled by its own pre-period mean)", "(the values as they are)"
        )
    details = {
        "weights": {k: float(v) for k, v in weights.items()},
        "in_space_placebos": in_space,
        "in_time_placebos": in_time,
        "fit_too_good": too_good,
        "conformal": permutations.kind,
    }
    if nested is not None:
        names = [str(n) for n in predictors.index]
        assumptions[0] = (
            "Without the strategy, the place would have followed the weighted blend of donors "
            "that matched its predictors, each weighted by how well it helps track the "
            "pre-period outcome (Abadie, Diamond & Hainmueller 2010)."
        )
        details["predictor_importance"] = dict(zip(names, map(float, nested.v), strict=True))
        blend = x[:, 1:] @ w
        details["predictor_balance"] = pd.DataFrame(
            {"treated": x[:, 0], "synthetic": blend, "donor_mean": x[:, 1:].mean(axis=1)},
            index=names,
        )
    if too_good:
        assumptions.append(
            "Caution: " + too_good + "; the fit before the start is no evidence that the "
            "blend would have tracked the place after it."
        )
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
        assumptions=tuple(assumptions),
        claims_effect=claims,
        sentence=sentence,
        path=path,
        details=details,
    )
