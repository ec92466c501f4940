"""Using a fit: simulating the model it describes, and the risk surface for the next days."""

from __future__ import annotations

import numpy as np

from gvrs.analysis.contagion.result import ContagionFit
from gvrs.analysis.hotspots import Grid, kernel_density


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
    """Simulate the model by its branching structure (used by tests and benchmarks).

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
