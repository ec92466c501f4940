"""Difference in differences: the place against comparison places that share its periods'
shocks (a national trend, a pandemic year), as a count model with place and period effects."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy import stats

from gvrs.analysis.evaluation._core import (
    MONTH,
    Evaluation,
    EvaluationError,
    PlaceboOutcome,
    check_table,
    event_years,
    fit_quasi_poisson,
    placebo_standing,
    ratio_interval,
    reference_label,
    relative_rmspe,
    resolution_of,
    split_at,
    verdict,
)

ASSUMPTIONS = (
    "Parallel trends: without the strategy, the place's counts would have moved in "
    "proportion with the comparison places' (checked on the pre-period by the event study).",
    "The comparison places were not touched by the strategy or by a spill-over from it, "
    "and nothing else began in the place alone at the start date.",
    "Counts are Poisson with overdispersion estimated from the data (quasi-Poisson); a "
    "place's periods may be correlated: the interval is widened by how far the comparison "
    "places' own placebo estimates stray beyond their standard errors (clustered by place).",
)


def _min_pre(resolution: str) -> int:
    return 12 if resolution == MONTH else 4


def _design(
    counts: pd.DataFrame, treated: str, treatment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Long layout (period-major): y, design [places | periods but the first | treatment
    columns], and the column of the first treatment term."""
    n_t, n_p = counts.shape
    y = counts.to_numpy(dtype=float).ravel()
    place = np.tile(np.eye(n_p), (n_t, 1))
    period = np.repeat(np.eye(n_t)[:, 1:], n_p, axis=0)
    is_treated = np.tile((counts.columns == treated).astype(float), n_t)
    terms = treatment[np.repeat(np.arange(n_t), n_p)] * is_treated[:, None]
    x = np.column_stack([place, period, terms])
    return y, x, n_p + n_t - 1


def _offset(populations: pd.DataFrame | None, counts: pd.DataFrame) -> np.ndarray | None:
    if populations is None:
        return None
    values = populations.reindex(index=counts.index, columns=counts.columns).to_numpy(float)
    offset = np.log(values).ravel()
    if not np.isfinite(offset).all():
        raise EvaluationError("populations must cover every place and period, above 0")
    return offset


def _pooled(counts, treated, post, offset):
    y, x, first = _design(counts, treated, post[:, None].astype(float))
    fit = fit_quasi_poisson(x, y, offset)
    contrast = np.zeros(x.shape[1])
    contrast[first] = 1.0
    return fit, x, y, first, contrast


def difference_in_differences(
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
    _placebos: bool = True,
) -> Evaluation:
    """Difference in differences between ``treated`` and the other columns of ``counts``.

    Parameters
    ----------
    counts : pandas.DataFrame
        Counts per period (rows: month starts or integer years) and place (columns), no gaps.
    treated : str
        The column of the place with the strategy; every other column is a comparison place.
    start : datetime.date
        First day of the strategy; a period that straddles it is left out.
    populations : pandas.DataFrame, optional
        Residents, same shape: a log offset, so the model is of rates.
    level : float
        Coverage of the interval.
    label, place : str
        For the sentence; ``place`` defaults to ``treated``.
    placebo_counts : pandas.DataFrame, optional
        An outcome the strategy should not move, same shape, run through the same design.

    Returns
    -------
    Evaluation
        ``effect_ratio`` is exp(delta) of the pooled model; ``details["event_study"]`` holds
        one rate ratio per year relative to the start (the year before is the reference) and
        ``pre_trend_p`` the joint test that every lead is 1. In-space placebos (each
        comparison place treated in turn, the real place left out) give ``placebo_rank``.

    Notes
    -----
    Two-way fixed-effects Poisson (quasi-likelihood) difference in differences, log E[y_it] =
    a_i + g_t + delta D_it + log pop_it (Wooldridge 2023, "Simple approaches to nonlinear
    difference-in-differences with panel data"), with an event study of leads and lags
    (Freyaldenhoven et al. 2021) and placebo-in-space inference (Abadie et al. 2010).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> years = pd.RangeIndex(2010, 2024)
    >>> shock = np.exp(rng.normal(0, 0.2, len(years)))[:, None]
    >>> rate = shock * np.array([100.0, 80, 60, 120, 90])
    >>> rate[years >= 2018, 0] *= 0.7
    >>> table = pd.DataFrame(rng.poisson(rate), index=years, columns=list("ABCDE"))
    >>> result = difference_in_differences(table, "A", dt.date(2018, 1, 1))
    >>> round(result.effect_ratio, 1)
    0.7
    """
    if treated not in counts.columns:
        raise EvaluationError(f"{treated!r} is not a column of the counts")
    resolution = resolution_of(counts.index)
    check_table(counts, start, _min_pre(resolution))
    keep, _ = split_at(counts.index, start)
    counts = counts.loc[keep]
    if populations is not None:
        populations = populations.loc[counts.index]
    _, post = split_at(counts.index, start)
    # A comparison place with no events before or after cannot inform the period effects.
    ok = (counts.loc[~post].sum() > 0) & (counts.loc[post].sum() > 0)
    if not ok[treated]:
        raise EvaluationError(f"{treated} has no events before or after the start")
    counts = counts.loc[:, ok]
    if counts.shape[1] < 2:
        raise EvaluationError("difference in differences needs at least one comparison place")
    offset = _offset(populations, counts)
    fit, x, _, first, contrast = _pooled(counts, treated, post, offset)
    estimate, se = fit.contrast(contrast)
    ratio, low, high, p = ratio_interval(estimate, se, fit.df_resid, level)

    # The treated place's counterfactual: its own and the periods' effects, no treatment.
    n_t, n_p = counts.shape
    j = list(counts.columns).index(treated)
    rows = np.arange(n_t) * n_p + j
    x_cf = x[rows].copy()
    x_cf[:, first:] = 0
    off = np.zeros(n_t) if offset is None else offset[rows]
    eta = x_cf @ fit.beta + off
    se_cf = np.sqrt(np.einsum("ij,jk,ik->i", x_cf, fit.cov, x_cf))
    q = stats.t.ppf(0.5 + level / 2, fit.df_resid)
    actual = counts[treated].to_numpy(dtype=float)
    path = pd.DataFrame(
        {
            "period": counts.index,
            "actual": actual,
            "counterfactual": np.exp(eta),
            "low": np.exp(eta - q * se_cf),
            "high": np.exp(eta + q * se_cf),
            "post": post,
        }
    )
    pre_fit = relative_rmspe(actual[~post], np.exp(eta)[~post])

    # Event study: one term per whole year from the start, the last year before it left
    # out as the reference (event_years: a straddling period is in neither).
    relative = event_years(counts.index, start)
    bins = [k for k in sorted(set(relative)) if k != -1]
    treatment = np.column_stack([(relative == k).astype(float) for k in bins])
    y_e, x_e, first_e = _design(counts, treated, treatment)
    fit_e = fit_quasi_poisson(x_e, y_e, offset)
    q_e = stats.t.ppf(0.5 + level / 2, fit_e.df_resid)
    b = fit_e.beta[first_e:]
    s = np.sqrt(np.diag(fit_e.cov)[first_e:])
    event_study = pd.DataFrame(
        {
            "years_from_start": bins,
            "ratio": np.exp(b),
            "low": np.exp(b - q_e * s),
            "high": np.exp(b + q_e * s),
        }
    )
    leads = np.array([k < 0 for k in bins])
    pre_trend_p = None
    if leads.any():
        idx = first_e + np.flatnonzero(leads)
        cov = fit_e.cov[np.ix_(idx, idx)]
        beta = fit_e.beta[idx]
        wald = float(beta @ np.linalg.pinv(cov) @ beta) / len(idx)
        pre_trend_p = float(stats.f.sf(wald, len(idx), fit_e.df_resid))

    rank, placebo_p, placebo_ratios = None, None, {}
    z_placebo: list[float] = []
    if _placebos:
        for other in counts.columns:
            if other == treated:
                continue
            rest = counts.drop(columns=treated)
            off_o = _offset(None if populations is None else populations[rest.columns], rest)
            f_o, *_unused, c_o = _pooled(rest, other, post, off_o)
            est_o, se_o = f_o.contrast(c_o)
            z_placebo.append(abs(est_o) / se_o if se_o > 0 else np.inf)
            placebo_ratios[str(other)] = float(np.exp(est_o))
        rank, placebo_p = placebo_standing(abs(estimate) / se if se > 0 else np.inf, z_placebo)
    # Clustered by place: the comparison places, each treated in turn, show how far the
    # model's standard error understates a place's own error when its periods are
    # correlated (Conley & Taber 2011; Ferman & Pinto 2019). kappa^2 = mean of their squared
    # z-statistics; the interval widens by kappa, with a t reference on as many degrees of
    # freedom as there are placebos (exact if their z are normal with the real one's
    # spread). Never narrower than the model's own.
    kappa, calibrated_df = 1.0, fit.df_resid
    finite = np.array([z for z in z_placebo if np.isfinite(z)]) if _placebos else np.array([])
    if len(finite) >= 2:
        kappa = max(1.0, float(np.sqrt(np.mean(finite**2))))
        calibrated_df = len(finite)
        ratio, low, high, p = ratio_interval(estimate, se * kappa, calibrated_df, level)
        q = stats.t.ppf(0.5 + level / 2, calibrated_df)
        path["low"] = np.exp(eta - q * kappa * se_cf)
        path["high"] = np.exp(eta + q * kappa * se_cf)

    outcome = None
    if placebo_counts is not None:
        other_result = difference_in_differences(
            placebo_counts.loc[:, [c for c in counts.columns if c in placebo_counts.columns]],
            treated,
            start,
            populations=populations,
            level=level,
            _placebos=False,
        )
        outcome = PlaceboOutcome(
            placebo_label, other_result.effect_ratio, other_result.ci_low, other_result.ci_high
        )
    place = treated if place is None else place
    claims, sentence = verdict(
        label=label,
        place=place,
        effect_ratio=ratio,
        ci_low=low,
        ci_high=high,
        level=level,
        placebo_rank=rank,
        placebo_count=len(placebo_ratios),
        placebo_p=placebo_p,
        placebo_kind="in-space",
        placebo_outcome=outcome,
        pre_trend_p=pre_trend_p,
    )
    return Evaluation(
        method="did",
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
        placebo_count=len(placebo_ratios),
        placebo_p=placebo_p,
        placebo_outcome=outcome,
        assumptions=ASSUMPTIONS,
        claims_effect=claims,
        sentence=sentence,
        path=path,
        details={
            "comparison_places": [str(c) for c in counts.columns if c != treated],
            "event_study": event_study,
            "event_study_reference": reference_label(counts.index, start),
            "dispersion": fit.dispersion,
            "in_space_placebos": placebo_ratios,
            "interval_inflation": kappa,
            "interval_df": calibrated_df,
        },
    )
