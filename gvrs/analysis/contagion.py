"""A self-exciting space-time point process (Hawkes) for shootings, fitted by EM.

    lambda(t, x, y) = mu * h(t) * f(x, y)
                      + sum over earlier events i of  theta * omega * exp(-omega (t - t_i))
                                                      * N2((x, y) - (x_i, y_i); sigma)

The background is a spatial density f (weighted kernel density, leave-one-out) times a
temporal profile h (weighted monthly histogram: trend and season); triggering is exponential
in time and Gaussian in space. ``theta`` is the branching ratio: the share of shootings
triggered by earlier ones. EM alternates the probability that each event was triggered by
each candidate parent or arose in the background (stochastic declustering) with closed-form
parameter updates (Mohler et al. 2011, JASA; Veen & Schoenberg 2008).

Triggering is truncated at ``max_distance_m`` and ``max_lag_days``: candidate parent pairs are
found once with a k-d tree, so one EM iteration costs O(n x neighbours), not O(n^2). The share
of the fitted kernel inside the truncation is reported; keep it near 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from gvrs.analysis.hotspots import Grid, kernel_density


class ContagionError(ValueError):
    """Too few events or settings that make no sense."""


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class ContagionFit:
    branching_ratio: float  # theta
    decay_days: float  # 1 / omega: mean delay from a shooting to one it triggers
    spatial_scale_m: float  # sigma of the Gaussian triggering kernel
    background_events: float  # expected number of untriggered events
    triggered_probability: np.ndarray  # per event, P(triggered by an earlier one)
    iterations: int
    converged: bool
    log_likelihood: float
    kernel_mass_captured: float  # share of the triggering kernel inside the truncation
    n_events: int
    n_candidate_pairs: int
    max_distance_m: float
    max_lag_days: float
    intervals: dict[str, Interval] = field(default_factory=dict)  # from the bootstrap
    # Kept for the risk surface.
    background_bandwidth_m: float = 300.0
    _x: np.ndarray = field(default=None, repr=False)
    _y: np.ndarray = field(default=None, repr=False)
    _t: np.ndarray = field(default=None, repr=False)
    _background_weight: np.ndarray = field(default=None, repr=False)
    _profile: tuple = field(default=None, repr=False)


def _candidates(x, y, t, max_distance_m, max_lag_days):
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(max_distance_m, output_type="ndarray")
    a, b = pairs[:, 0], pairs[:, 1]
    # Orient each pair parent -> child (earlier -> later); simultaneous events cannot trigger.
    earlier = t[a] < t[b]
    parent = np.where(earlier, a, b)
    child = np.where(earlier, b, a)
    lag = t[child] - t[parent]
    keep = (lag > 0) & (lag <= max_lag_days)
    parent, child, lag = parent[keep], child[keep], lag[keep]
    d2 = (x[child] - x[parent]) ** 2 + (y[child] - y[parent]) ** 2
    return parent, child, lag, d2


def _time_profile(t, weights, t_end, bin_days):
    """Weighted histogram density of background times (integrates to 1 over [0, t_end])."""
    edges = np.arange(0.0, t_end + bin_days, bin_days)
    edges[-1] = max(edges[-1], t_end)
    hist, _ = np.histogram(t, bins=edges, weights=weights)
    widths = np.diff(edges)
    density = (hist + 1e-9) / widths
    density /= (density * widths).sum()
    return edges, density


def _spatial_density(grid, x, y, weights, bandwidth_m):
    """Background spatial density at each event, leaving the event's own kernel out."""
    dens = kernel_density(grid, x, y, bandwidth_m, weights) / 1e6  # per m^2
    row, col, _ = grid.cell_of(x, y)
    at = dens[row, col]
    # The binned kernel's own peak: weight x (kernel centre) per m^2.
    reach = max(1, math.ceil(4 * bandwidth_m / grid.cell_m))
    offsets = np.arange(-reach, reach + 1) * grid.cell_m
    g = np.exp(-0.5 * (offsets / bandwidth_m) ** 2)
    centre = 1.0 / (g.sum() ** 2) / grid.cell_m**2
    loo = np.maximum(at - weights * centre, 1e-15)
    return loo / max(weights.sum(), 1e-12)


def fit_contagion(
    x_m: np.ndarray,
    y_m: np.ndarray,
    t_days: np.ndarray,
    *,
    max_distance_m: float = 1_000.0,
    max_lag_days: float = 60.0,
    background_bandwidth_m: float = 300.0,
    time_bin_days: float = 30.0,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
    bootstrap: int = 0,
    seed: int = 0,
    init=(0.2, 0.1, 200.0),
    min_spatial_scale_m: float = 25.0,
) -> ContagionFit:
    """Fit the self-exciting model by EM.

    Parameters
    ----------
    x_m, y_m : array of float
        Projected coordinates in metres.
    t_days : array of float
        Event times in days (any origin).
    max_distance_m, max_lag_days : float
        Truncation of the triggering kernel (see the module docstring).
    background_bandwidth_m : float
        Bandwidth of the background spatial density.
    time_bin_days : float
        Width of the background's temporal bins (trend and season).
    max_iterations, tolerance : EM stopping rule, on the relative change of the likelihood.
    bootstrap : int
        Parametric bootstrap replicates for the intervals (0: none).
    seed : int
        Seed for the bootstrap.
    init : (theta, omega per day, sigma m)
    min_spatial_scale_m : float
        Floor of sigma. Records geocoded to block centroids put unrelated shootings on one
        point; a triggering scale below the geocoding precision cannot be told from that.

    Returns
    -------
    ContagionFit

    Notes
    -----
    Mohler, Short, Brantingham, Schoenberg & Tita (2011), Self-exciting point process
    modeling of crime, JASA 106(493); the EM updates of Veen & Schoenberg (2008).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 400
    >>> fit = fit_contagion(rng.uniform(0, 5e3, n), rng.uniform(0, 5e3, n),
    ...                     np.sort(rng.uniform(0, 730, n)))
    >>> fit.branching_ratio < 0.1
    True
    """
    x, y, t = (np.asarray(a, dtype=float) for a in (x_m, y_m, t_days))
    n = len(t)
    if n < 20:
        raise ContagionError(f"the contagion model needs at least 20 events, got {n}")
    if max_distance_m <= 0 or max_lag_days <= 0:
        raise ContagionError("truncation distance and lag must be positive")
    t = t - t.min()
    t_end = float(t.max()) + 1e-9
    grid = Grid.around(
        x, y, cell_m=max(25.0, background_bandwidth_m / 4), pad_m=4 * background_bandwidth_m
    )
    _parent, child, lag, d2 = _candidates(x, y, t, max_distance_m, max_lag_days)
    theta, omega, sigma = init
    p_background = np.ones(n)
    previous = -np.inf
    converged = False
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        f = _spatial_density(grid, x, y, p_background, background_bandwidth_m)
        edges, density = _time_profile(t, p_background, t_end, time_bin_days)
        h = density[np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(density) - 1)]
        mu = p_background.sum() * f * h
        g = (
            theta
            * omega
            * np.exp(-omega * lag)
            * np.exp(-d2 / (2 * sigma**2))
            / (2 * np.pi * sigma**2)
        )
        total = mu + np.bincount(child, weights=g, minlength=n)
        p_pair = g / total[child]
        p_background = mu / total
        # Likelihood (truncated kernel), for the stopping rule.
        space_mass = 1 - math.exp(-(max_distance_m**2) / (2 * sigma**2))
        time_mass = 1 - np.exp(-omega * np.minimum(t_end - t, max_lag_days))
        compensator = p_background.sum() + theta * space_mass * time_mass.sum()
        loglik = float(np.log(total).sum() - compensator)
        # M-step.
        triggered = p_pair.sum()
        omega = triggered / max((p_pair * lag).sum(), 1e-12)
        sigma = max(
            min_spatial_scale_m,
            math.sqrt(max((p_pair * d2).sum(), 1e-6) / (2 * max(triggered, 1e-12))),
        )
        space_mass = 1 - math.exp(-(max_distance_m**2) / (2 * sigma**2))
        time_mass = 1 - np.exp(-omega * np.minimum(t_end - t, max_lag_days))
        theta = triggered / max(space_mass * time_mass.sum(), 1e-12)
        if abs(loglik - previous) <= tolerance * abs(loglik):
            converged = True
            break
        previous = loglik
    captured = (1 - math.exp(-omega * max_lag_days)) * (
        1 - math.exp(-(max_distance_m**2) / (2 * sigma**2))
    )
    fit = ContagionFit(
        branching_ratio=float(theta),
        decay_days=float(1 / omega),
        spatial_scale_m=float(sigma),
        background_events=float(p_background.sum()),
        triggered_probability=1 - p_background,
        iterations=iteration,
        converged=converged,
        log_likelihood=loglik,
        kernel_mass_captured=float(captured),
        n_events=n,
        n_candidate_pairs=len(lag),
        max_distance_m=max_distance_m,
        max_lag_days=max_lag_days,
        background_bandwidth_m=background_bandwidth_m,
        _x=x,
        _y=y,
        _t=t,
        _background_weight=p_background,
        _profile=(edges, density, t_end),
    )
    if bootstrap:
        fit = _with_intervals(
            fit,
            bootstrap,
            seed,
            dict(
                max_distance_m=max_distance_m,
                max_lag_days=max_lag_days,
                background_bandwidth_m=background_bandwidth_m,
                time_bin_days=time_bin_days,
                max_iterations=max_iterations,
                tolerance=tolerance,
                min_spatial_scale_m=min_spatial_scale_m,
            ),
        )
    return fit


def simulate_hawkes(
    fit_or_params,
    rng: np.random.Generator,
    *,
    x_bg=None,
    y_bg=None,
    w_bg=None,
    profile=None,
    jitter_m: float = 300.0,
):
    """Simulate the model by its branching structure (used by the bootstrap and tests).

    ``fit_or_params`` is a ContagionFit, whose background is resampled from its events
    weighted by their background probability (with Gaussian jitter), or a dict with
    theta, omega, sigma, mu, t_end and background arrays.
    """
    if isinstance(fit_or_params, ContagionFit):
        fit = fit_or_params
        theta, omega, sigma = fit.branching_ratio, 1 / fit.decay_days, fit.spatial_scale_m
        mu = fit.background_events
        x_bg, y_bg, w_bg = fit._x, fit._y, fit._background_weight
        edges, density, t_end = fit._profile
        jitter_m = fit.background_bandwidth_m
    else:
        p = fit_or_params
        theta, omega, sigma, mu = p["theta"], p["omega"], p["sigma"], p["mu"]
        edges, density, t_end = profile
    n0 = rng.poisson(mu)
    bins = rng.choice(len(density), size=n0, p=density * np.diff(edges))
    t = edges[bins] + rng.random(n0) * np.diff(edges)[bins]
    pick = rng.choice(len(x_bg), size=n0, p=w_bg / w_bg.sum())
    x = x_bg[pick] + rng.normal(0, jitter_m, n0)
    y = y_bg[pick] + rng.normal(0, jitter_m, n0)
    parent = np.full(n0, -1)
    xs, ys, ts, ps = [x], [y], [t], [parent]
    first = 0
    while len(t):
        k = rng.poisson(theta, size=len(t))
        src = np.repeat(np.arange(len(t)), k)
        t_new = t[src] + rng.exponential(1 / omega, size=len(src))
        keep = t_new < t_end
        x = x[src][keep] + rng.normal(0, sigma, keep.sum())
        y = y[src][keep] + rng.normal(0, sigma, keep.sum())
        parent = (first + src)[keep]
        first += len(t)
        t = t_new[keep]
        xs.append(x), ys.append(y), ts.append(t), ps.append(parent)
    return (np.concatenate(xs), np.concatenate(ys), np.concatenate(ts), np.concatenate(ps))


def _with_intervals(fit: ContagionFit, replicates: int, seed: int, settings: dict) -> ContagionFit:
    """90% bias-corrected (basic) intervals from a parametric bootstrap: simulate the fitted
    model, refit, repeat (Davison & Hinkley 1997, section 5.2)."""
    rng = np.random.default_rng(seed)
    draws = []
    init = (fit.branching_ratio, 1 / fit.decay_days, fit.spatial_scale_m)
    for _ in range(replicates):
        x, y, t, _ = simulate_hawkes(fit, rng)
        if len(t) < 20:
            continue
        refit = fit_contagion(x, y, t, init=init, **settings)
        draws.append((refit.branching_ratio, refit.decay_days, refit.spatial_scale_m))
    if not draws:
        return fit
    values = np.array(draws)
    names = ("branching_ratio", "decay_days", "spatial_scale_m")
    point = np.array((*init[:1], fit.decay_days, fit.spatial_scale_m))
    intervals = {}
    for k, name in enumerate(names):
        # Basic (reverse percentile) bootstrap interval: it corrects the bias of the EM
        # estimate that the refits show, so it need not contain the point estimate.
        lo, hi = np.quantile(values[:, k], [0.05, 0.95])
        intervals[name] = Interval(float(max(2 * point[k] - hi, 0.0)), float(2 * point[k] - lo))
    from dataclasses import replace

    return replace(fit, intervals=intervals)


def risk_surface(fit: ContagionFit, grid: Grid, horizon_days: float) -> np.ndarray:
    """Expected shootings per cell over the next ``horizon_days`` after the last event:
    background (its recent level) plus what the recent events are still triggering."""
    x, y, t = fit._x, fit._y, fit._t
    _, density, t_end = fit._profile
    recent_rate = fit.background_events * density[-1]  # background events per day, now
    background = (
        kernel_density(grid, x, y, fit.background_bandwidth_m, fit._background_weight)
        * (grid.cell_m / 1000) ** 2
    )
    background *= recent_rate * horizon_days / max(fit._background_weight.sum(), 1e-12)
    omega = 1 / fit.decay_days
    age = t_end - t
    weight = fit.branching_ratio * (np.exp(-omega * age) - np.exp(-omega * (age + horizon_days)))
    active = weight > 1e-6
    triggered = (
        kernel_density(grid, x[active], y[active], fit.spatial_scale_m, weight[active])
        * (grid.cell_m / 1000) ** 2
    )
    return background + triggered
