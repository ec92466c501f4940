"""Staggered adoption: strategies (or laws) that began in different places at different
times, evaluated together without ever using a place as a comparison once its own strategy
has begun.

A two-way fixed-effects regression with one "after" indicator compares late adopters with
early adopters already treated, and with effects that grow or differ by cohort it can weigh
some effects negatively (Goodman-Bacon 2021; de Chaisemartin & D'Haultfœuille 2020). The
estimator here is Callaway & Sant'Anna's (2021): one 2x2 comparison per adoption cohort g
and period t, the cohort against the places not yet treated at t (or never treated), from
the cohort's last period before its start; the group-time effects are then averaged over
cohorts, overall and by years since the start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from gvrs.analysis.evaluation._core import (
    MONTH,
    Evaluation,
    EvaluationError,
    fit_quasi_poisson,
    period_starts,
    placebo_standing,
    resolution_of,
    verdict,
)

ASSUMPTIONS = (
    "Parallel trends: without their strategies, each adoption cohort's figures would have "
    "moved in proportion with the places not yet treated (checked before each start by the "
    "event study).",
    "No anticipation: nothing changed in a place before its own start, and the comparison "
    "places were not touched by another place's strategy.",
    "Places are independent of each other; a place's periods may be correlated in any way "
    "(the interval resamples whole places).",
)
MIN_TREATED = 5  # fewer treated places: clustered intervals are unreliable (MacKinnon & Webb)


@dataclass(frozen=True)
class Cohort:
    """Places whose strategies began in the same period."""

    start: dt.date
    first: int  # position of the first period on or after the start
    base: int  # position of the last period that ends before the start
    places: tuple[str, ...]


def cohorts_of(index: pd.Index, starts: Mapping[str, dt.date]) -> tuple[list[Cohort], dict]:
    """Cohorts of the places in ``starts``, by the first period on or after each start, and
    the places left out with the reason (treated before the data begin)."""
    begins = period_starts(index)
    step = pd.DateOffset(years=1) if resolution_of(index) != MONTH else pd.DateOffset(months=1)
    ends = begins + step
    by_first: dict[tuple[int, int], list[str]] = {}
    dates: dict[tuple[int, int], dt.date] = {}
    left_out: dict[str, str] = {}
    for place, start in sorted(starts.items(), key=lambda item: (item[1], item[0])):
        stamp = pd.Timestamp(start)
        after = np.flatnonzero(np.asarray(begins >= stamp))
        before = np.flatnonzero(np.asarray(ends <= stamp))
        if len(before) == 0:
            left_out[place] = f"its strategy began {start} with no period of data before it"
            continue
        first = int(after[0]) if len(after) else len(index)  # after the data: not yet treated
        key = (first, int(before[-1]))
        by_first.setdefault(key, []).append(place)
        dates.setdefault(key, start)
    cohorts = [
        Cohort(dates[key], key[0], key[1], tuple(places))
        for key, places in sorted(by_first.items())
        if key[0] < len(index)
    ]
    return cohorts, left_out


def _event_years(first: int, base: int, n: int, per: int) -> np.ndarray:
    """Whole years from the start of a cohort for each period (see ``event_years``); the
    periods between the base and the first (a straddling period) get no event time."""
    out = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    positions = np.arange(n)
    post = positions >= first
    out[post] = (positions[post] - first) // per
    pre = positions <= base
    out[pre] = -1 - (base - positions[pre]) // per
    return out


class _Panel:
    """The arrays every replicate reuses: y (places x periods), each place's group (0 never
    treated in the window; k for cohort k), and the groups that may serve as controls for
    cohort k at period t."""

    def __init__(self, y, weights, cohorts, columns, controls, log_scale):
        self.y = np.log(y) if log_scale else y
        self.log_scale = log_scale
        self.weights = weights
        self.cohorts = cohorts
        n, t = y.shape
        group = np.zeros(n, dtype=np.int64)
        position = {c: i for i, c in enumerate(columns)}
        for k, cohort in enumerate(cohorts, start=1):
            for place in cohort.places:
                group[position[place]] = k
        self.group = group
        self.n_groups = len(cohorts) + 1
        self.one_hot = np.zeros((n, self.n_groups))
        self.one_hot[np.arange(n), group] = 1.0
        first = np.array([c.first for c in cohorts])
        # usable[k, t, j]: group j is a control of cohort k at period t (never treated; or,
        # with not-yet-treated controls, treated only after both t and the cohort's base).
        usable = np.zeros((len(cohorts), t, self.n_groups), dtype=bool)
        usable[:, :, 0] = True
        if controls == "not-yet-treated":
            for k, cohort in enumerate(cohorts):
                for period in range(t):
                    latest = max(period, cohort.base)
                    usable[k, period, 1:] = first > latest
        for k in range(len(cohorts)):
            usable[k, :, k + 1] = False
        self.usable = usable

    def group_sums(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sum of w*y, sum of w) per group and period: shapes (groups, T) and (groups,)."""
        weighted = self.one_hot * w[:, None]
        return weighted.T @ self.y, weighted.sum(axis=0)

    def cells(self, w: np.ndarray):
        """Per cohort k and period t: (actual, counterfactual) on the ratio scale as totals,
        or on the log scale as the cohort's mean log and its counterfactual."""
        return self.cells_from(*self.group_sums(w))

    def cells_from(self, sums: np.ndarray, mass: np.ndarray):
        """``cells`` from the group sums (so replicates can share one product)."""
        k_count, t_count = len(self.cohorts), self.y.shape[1]
        actual = np.zeros((k_count, t_count))
        counterfactual = np.full((k_count, t_count), np.nan)
        for k, cohort in enumerate(self.cohorts):
            own = sums[k + 1]
            b = cohort.base
            control = self.usable[k] @ sums  # (T, T): row t = controls at t, every period
            control_at_t = np.diagonal(control)
            control_at_b = control[:, b]
            ok = self.usable[k] @ mass > 0
            if self.log_scale:
                own_mass = mass[k + 1]
                c_mass = self.usable[k] @ mass
                actual[k] = own / own_mass
                with np.errstate(invalid="ignore", divide="ignore"):
                    change = (control_at_t - control_at_b) / c_mass
                counterfactual[k] = np.where(ok, own[b] / own_mass + change, np.nan)
            else:
                actual[k] = own
                with np.errstate(invalid="ignore", divide="ignore"):
                    counterfactual[k] = np.where(ok, own[b] * control_at_t / control_at_b, np.nan)
        return actual, counterfactual


def _aggregate(panel: _Panel, actual, counterfactual, mask, mass) -> float:
    """log effect ratio over the cells in ``mask`` (cohorts x periods); ``mass`` is each
    group's total weight (cohort sizes for the log scale's average)."""
    if panel.log_scale:
        size = mass[1:][:, None] * np.ones_like(actual)
        gap = np.where(mask, actual - counterfactual, 0.0)
        return float((size * gap).sum() / (size * mask).sum())
    return float(np.log(actual[mask].sum() / counterfactual[mask].sum()))


def staggered_adoption(
    values: pd.DataFrame,
    starts: Mapping[str, dt.date],
    *,
    weights: pd.Series | None = None,
    scale: str = "ratio",
    controls: str = "not-yet-treated",
    level: float = 0.9,
    label: str = "",
    place: str = "",
    replicates: int = 999,
    permutations: int = 199,
    seed: int = 0,
) -> Evaluation:
    """The effect of strategies that began at different times in different places.

    Parameters
    ----------
    values : pandas.DataFrame
        Counts or rates per period (rows: integer years or month starts) and place
        (columns), every place the design may use: those in ``starts`` and the others.
    starts : mapping of str to datetime.date
        Where and when a strategy began. A place not listed never began one in the window;
        a place that began before the data (no period before its start) is left out.
    weights : pandas.Series, optional
        A weight per place (its population: figures per person then add up to totals).
    scale : {"ratio", "log"}
        "ratio": each cohort's total against its counterfactual total (counts, zeros
        allowed); "log": the mean change of the log figure (positive rates, as the
        difference-in-differences literature on rates does).
    controls : {"not-yet-treated", "never-treated"}
        Which places compare with a cohort at period t.
    level : float
        Coverage of the interval.
    replicates, permutations, seed : int
        Bootstrap replicates, placebo reassignments of the start dates, and their seed.

    Returns
    -------
    Evaluation
        ``effect_ratio`` over every cohort's periods from its start (actual over
        counterfactual; exp of the average log effect on the log scale), its interval and
        p-value from a bootstrap that resamples whole places (every correlation within a
        place allowed), ``placebo_rank`` among random reassignments of the same start dates
        to places. ``details``: ``event_study`` (by whole years since the start, the last
        year before it = 1), ``cohorts`` (each cohort's effect), ``controls`` (each cohort's
        comparison places and the last period each served) and ``twfe`` (the two-way
        fixed-effects estimate, for comparison).

    Notes
    -----
    Group-time average treatment effects (Callaway & Sant'Anna 2021, "Difference-in-
    differences with multiple time periods", J. Econometrics 225(2)) with a universal base
    period (each cohort's last period before its start), aggregated with weights
    proportional to cohort size; on the ratio scale each 2x2 cell is the Poisson
    difference in differences of totals (cohort total at t over the base, against the
    controls'). Inference by the weighted bootstrap over places (exponential weights; the
    multiplier bootstrap of Callaway & Sant'Anna, section 4), with a t reference on
    (treated places - 1) degrees of freedom; placebos by randomisation inference over the
    assignment of start dates (MacKinnon & Webb 2020).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> years = pd.RangeIndex(2000, 2012)
    >>> rate = np.exp(rng.normal(0, 0.1, len(years)))[:, None] * rng.uniform(50, 200, 30)
    >>> starts = {f"P{i}": dt.date(2005 + i % 4, 1, 1) for i in range(12)}
    >>> table = pd.DataFrame(rate, index=years, columns=[f"P{i}" for i in range(30)])
    >>> for p, s in starts.items():
    ...     table.loc[s.year :, p] *= 0.8
    >>> result = staggered_adoption(table.round(), starts, permutations=0, replicates=99)
    >>> round(result.effect_ratio, 1)
    0.8
    """
    if scale not in ("ratio", "log"):
        raise EvaluationError(f"scale must be 'ratio' or 'log', not {scale!r}")
    if controls not in ("not-yet-treated", "never-treated"):
        raise EvaluationError("controls must be 'not-yet-treated' or 'never-treated'")
    resolution = resolution_of(values.index)
    columns = [str(c) for c in values.columns]
    values = values.set_axis(columns, axis=1)
    starts = {str(k): v for k, v in starts.items()}
    unknown = sorted(set(starts) - set(columns))
    if unknown:
        raise EvaluationError(f"adoptions name places with no figures: {', '.join(unknown[:10])}")
    gaps = [c for c in columns if values[c].isna().any()]
    if gaps:
        raise EvaluationError(f"figures have gaps (unknown, not 0) for: {', '.join(gaps[:10])}")
    if (values.to_numpy() < 0).any():
        raise EvaluationError("figures must not be negative")
    if scale == "log" and (values.to_numpy() <= 0).any():
        raise EvaluationError("the log scale needs every figure above 0; use scale='ratio'")
    cohorts, left_out = cohorts_of(values.index, starts)
    if not cohorts:
        raise EvaluationError("no place began its strategy inside the data with a period before")
    keep = [c for c in columns if c not in left_out]
    values = values[keep]
    y = values.to_numpy(dtype=float).T  # places x periods
    w0 = np.ones(len(keep)) if weights is None else weights.reindex(keep).to_numpy(float)
    if not np.isfinite(w0).all() or (w0 <= 0).any():
        raise EvaluationError("weights must be given for every place, above 0")
    panel = _Panel(y, w0, cohorts, keep, controls, scale == "log")
    per = 12 if resolution == MONTH else 1
    n_t = y.shape[1]
    event = np.vstack([_event_years(c.first, c.base, n_t, per) for c in cohorts])
    post = event >= 0
    pre = (event < -1) & (event > np.iinfo(np.int64).min)
    _, mass0 = panel.group_sums(w0)
    actual, counterfactual = panel.cells(w0)
    usable = np.isfinite(counterfactual)
    if not (post & usable).any():
        raise EvaluationError(
            "no comparison places for any cohort after its start: every place began a "
            "strategy (give never-treated places, or use not-yet-treated controls)"
        )
    post &= usable
    pre &= usable
    estimate = _aggregate(panel, actual, counterfactual, post, mass0)

    # The event study shows the years since the start that enough treated places reach.
    size = np.array([len(c.places) for c in cohorts])
    shown = (post | pre | (event == -1)) & (event > np.iinfo(np.int64).min)
    bins = [
        e
        for e in sorted(set(event[shown].tolist()))
        if size[((event == e) & shown).any(axis=1)].sum() >= min(MIN_TREATED, size.sum())
    ]
    # Bootstrap over places: each replicate reweights whole places.
    rng = np.random.default_rng(seed)
    xi = w0 * rng.exponential(size=(replicates, len(w0)))
    sums_all = np.einsum("bn,ng,nt->bgt", xi, panel.one_hot, panel.y, optimize=True)
    mass_all = xi @ panel.one_hot
    draws = []
    for r in range(replicates):
        a, c = panel.cells_from(sums_all[r], mass_all[r])
        ok = np.isfinite(c)
        row = [_aggregate(panel, a, c, post & ok, mass_all[r])]
        for e in bins:
            cells = (event == e) & ok & shown
            row.append(_aggregate(panel, a, c, cells, mass_all[r]) if cells.any() else np.nan)
        for k in range(len(cohorts)):
            cells = np.zeros_like(post)
            cells[k] = post[k] & ok[k]
            row.append(_aggregate(panel, a, c, cells, mass_all[r]) if cells.any() else np.nan)
        draws.append(row)
    draws = np.array(draws) if draws else np.zeros((0, 1 + len(bins) + len(cohorts)))
    treated_count = sum(len(c.places) for c in cohorts)
    df = max(treated_count - 1, 1)
    q = stats.t.ppf(0.5 + level / 2, df)

    def interval(point: float, column: int) -> tuple[float, float, float]:
        spread = np.nanstd(draws[:, column], ddof=1) if len(draws) > 1 else np.nan
        if not np.isfinite(spread) or spread == 0:
            return float(np.exp(point)), np.nan, np.nan
        p = float(2 * stats.t.sf(abs(point) / spread, df))
        return float(np.exp(point - q * spread)), float(np.exp(point + q * spread)), p

    low, high, p_value = interval(estimate, 0)
    rows, leads = [], []
    for i, e in enumerate(bins, start=1):
        cells = (event == e) & shown
        point = _aggregate(panel, actual, counterfactual, cells, mass0) if cells.any() else np.nan
        lo, hi, _ = interval(point, i) if e != -1 else (1.0, 1.0, 1.0)
        rows.append(
            {
                "years_from_start": e,
                "ratio": float(np.exp(point)),
                "low": lo,
                "high": hi,
                "places": int(size[cells.any(axis=1)].sum()),
            }
        )
        if e < -1 and np.isfinite(point):
            leads.append(i)
    event_study = pd.DataFrame(rows)
    pre_trend_p = None
    if leads and len(draws) > len(leads) + 1:
        points = np.log(event_study["ratio"].to_numpy()[[i - 1 for i in leads]])
        cov = np.cov(draws[:, leads], rowvar=False).reshape(len(leads), len(leads))
        wald = float(points @ np.linalg.pinv(cov) @ points) / len(leads)
        pre_trend_p = float(stats.f.sf(wald, len(leads), df))

    cohort_rows = []
    for k, cohort in enumerate(cohorts):
        cells = np.zeros_like(post)
        cells[k] = post[k]
        if not cells.any():
            continue
        point = _aggregate(panel, actual, counterfactual, cells, mass0)
        lo, hi, _ = interval(point, 1 + len(bins) + k)
        if len(cohort.places) < MIN_TREATED:
            lo = hi = np.nan  # resampling places cannot see a lone place's own noise
        cohort_rows.append(
            {
                "start": cohort.start.isoformat(),
                "places": list(cohort.places),
                "effect_ratio": float(np.exp(point)),
                "ci_low": lo,
                "ci_high": hi,
                "periods_after": int(post[k].sum()),
            }
        )
    control_rows = _controls(panel, cohorts, keep, values.index, starts)

    # Randomisation inference: the same start dates given to other places at random.
    rank, placebo_p, placebo_count = None, None, 0
    if permutations:
        dates = [starts[p] for p in keep if p in starts]
        stats_placebo = []
        for _ in range(permutations):
            chosen = rng.permutation(len(keep))[: len(dates)]
            fake = {keep[i]: d for i, d in zip(chosen, dates, strict=True)}
            fake_cohorts, _ = cohorts_of(values.index, fake)
            if not fake_cohorts:
                continue
            fake_panel = _Panel(y, w0, fake_cohorts, keep, controls, scale == "log")
            a, c = fake_panel.cells(w0)
            ev = np.vstack([_event_years(f.first, f.base, n_t, per) for f in fake_cohorts])
            cells = (ev >= 0) & np.isfinite(c)
            if cells.any():
                _, fake_mass = fake_panel.group_sums(w0)
                stats_placebo.append(abs(_aggregate(fake_panel, a, c, cells, fake_mass)))
        placebo_count = len(stats_placebo)
        rank, placebo_p = placebo_standing(abs(estimate), np.array(stats_placebo))

    # The path for the picture: totals (or mean logs) by years since the start.
    path_rows = []
    for e in bins:
        cells = (event == e) & shown
        if scale == "log":
            act = float(np.exp(np.nanmean(actual[cells])))
            cf = float(np.exp(np.nanmean(counterfactual[cells])))
        else:
            act, cf = float(actual[cells].sum()), float(counterfactual[cells].sum())
        path_rows.append({"period": e, "actual": act, "counterfactual": cf, "post": e >= 0})
    path = pd.DataFrame(path_rows)
    ratios = event_study.set_index("years_from_start")
    path["low"] = np.where(
        path["post"], path["actual"] / ratios["high"].reindex(path["period"]).to_numpy(), np.nan
    )
    path["high"] = np.where(
        path["post"], path["actual"] / ratios["low"].reindex(path["period"]).to_numpy(), np.nan
    )
    path["low"] = path["low"].fillna(path["counterfactual"])
    path["high"] = path["high"].fillna(path["counterfactual"])
    pre_cells = pre | (event == -1)
    if scale == "log":
        pre_gap = (np.exp(actual) - np.exp(counterfactual))[pre_cells]
        pre_mean = np.exp(actual)[pre_cells].mean() if pre_cells.any() else np.nan
    else:
        pre_gap = (actual - counterfactual)[pre_cells]
        pre_mean = actual[pre_cells].mean() if pre_cells.any() else np.nan
    pre_fit = float(np.sqrt(np.mean(pre_gap**2)) / pre_mean) if pre_cells.any() else np.nan

    problems = []
    if treated_count < MIN_TREATED:
        problems.append(
            f"only {treated_count} treated place{'s' if treated_count > 1 else ''}: an "
            f"interval that resamples places needs at least {MIN_TREATED}"
        )
    effect_ratio = float(np.exp(estimate))
    claims, sentence = verdict(
        label=label,
        place=place,
        effect_ratio=effect_ratio,
        ci_low=low,
        ci_high=high,
        level=level,
        placebo_rank=rank,
        placebo_count=placebo_count,
        placebo_p=placebo_p,
        placebo_kind="reassignment",
        placebo_outcome=None,
        pre_trend_p=pre_trend_p,
        problems=tuple(problems),
    )
    twfe = two_way_fixed_effects(values, starts, weights=weights, scale=scale, level=level)
    return Evaluation(
        method="staggered",
        place=place,
        label=label,
        start=min(c.start for c in cohorts),
        resolution=resolution,
        effect_ratio=effect_ratio,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        level=level,
        pre_fit=pre_fit,
        pre_trend_p=pre_trend_p,
        placebo_rank=rank,
        placebo_count=placebo_count,
        placebo_p=placebo_p,
        placebo_outcome=None,
        assumptions=ASSUMPTIONS,
        claims_effect=claims,
        sentence=sentence,
        path=path,
        details={
            "event_study": event_study,
            "event_study_reference": "the last year before each start",
            "cohorts": cohort_rows,
            "controls": control_rows,
            "left_out": left_out,
            "scale": scale,
            "control_group": controls,
            "treated_places": treated_count,
            "twfe": twfe,
        },
    )


def _controls(panel: _Panel, cohorts, places, index, starts) -> list[dict]:
    """For each cohort, its comparison places and the last period each served (a place
    that begins its own strategy stops serving before its first treated period)."""
    out = []
    labels = [p.strftime("%Y-%m") if isinstance(p, pd.Timestamp) else str(p) for p in index]
    for k, cohort in enumerate(cohorts):
        served = {}
        for i, place in enumerate(places):
            periods = np.flatnonzero(panel.usable[k, :, panel.group[i]])
            if panel.group[i] == k + 1 or len(periods) == 0:
                continue
            served[place] = {
                "through": labels[int(periods[-1])],
                "began": starts[place].isoformat() if place in starts else None,
            }
        out.append({"start": cohort.start.isoformat(), "places": served})
    return out


def two_way_fixed_effects(
    values: pd.DataFrame,
    starts: Mapping[str, dt.date],
    *,
    weights: pd.Series | None = None,
    scale: str = "log",
    level: float = 0.9,
) -> dict:
    """The regression the staggered literature replaced: log figure (or a Poisson model of
    counts on the ratio scale) on place and period effects and one indicator for "this
    place's strategy has begun", weighted, with standard errors clustered by place.

    Returns a dict: ``effect_ratio`` (exp of the coefficient), ``ci_low``, ``ci_high``,
    ``p_value``, ``se``, ``clusters``.

    Notes
    -----
    As Cheng & Hoekstra (2013, J. Human Resources 48(3)) estimate the effect of castle-
    doctrine laws: weighted least squares of the log rate with state and year effects,
    weights the population, and the cluster-robust covariance (CR1: G/(G-1) (N-1)/(N-K))
    with a t reference on G - 1 degrees of freedom (Cameron & Miller 2015).
    """
    columns = [str(c) for c in values.columns]
    values = values.set_axis(columns, axis=1)
    begins = period_starts(values.index)
    n_t, n_p = values.shape
    treated = np.zeros((n_t, n_p))
    for j, place in enumerate(columns):
        if place in starts:
            treated[:, j] = np.asarray(begins >= pd.Timestamp(starts[place]), dtype=float)
    y = values.to_numpy(dtype=float).ravel()  # period-major
    d = treated.ravel()
    place_dummies = np.tile(np.eye(n_p), (n_t, 1))
    period_dummies = np.repeat(np.eye(n_t)[:, 1:], n_p, axis=0)
    x = np.column_stack([d, place_dummies, period_dummies])
    w = np.ones(len(y)) if weights is None else np.tile(weights.reindex(columns).to_numpy(), n_t)
    cluster = np.tile(np.arange(n_p), n_t)
    if scale == "log":
        z = np.log(y)
        xw = x * w[:, None]
        bread = np.linalg.pinv(xw.T @ x)
        beta = bread @ (xw.T @ z)
        scores = xw * (z - x @ beta)[:, None]
    else:
        fit = fit_quasi_poisson(x, y)
        beta, mu = fit.beta, fit.mu
        bread = np.linalg.pinv((x * mu[:, None]).T @ x)
        scores = x * (y - mu)[:, None]
    g = n_p
    summed = np.zeros((g, x.shape[1]))
    np.add.at(summed, cluster, scores)
    k = np.linalg.matrix_rank(x)
    correction = g / (g - 1) * (len(y) - 1) / (len(y) - k)
    cov = correction * bread @ (summed.T @ summed) @ bread
    se = float(np.sqrt(cov[0, 0]))
    q = stats.t.ppf(0.5 + level / 2, g - 1)
    return {
        "effect_ratio": float(np.exp(beta[0])),
        "coefficient": float(beta[0]),
        "se": se,
        "ci_low": float(np.exp(beta[0] - q * se)),
        "ci_high": float(np.exp(beta[0] + q * se)),
        "p_value": float(2 * stats.t.sf(abs(beta[0]) / se, g - 1)),
        "clusters": g,
    }
