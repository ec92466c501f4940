"""The EM fit of the self-exciting model, at a background bandwidth given or chosen by
likelihood."""

from __future__ import annotations

import numpy as np

from gvrs.analysis.contagion.background import (
    Background,
    _area_density,
    _spatial_density,
    _time_bins,
)
from gvrs.analysis.contagion.information import _observed_information_intervals, log_likelihood
from gvrs.analysis.contagion.pairs import candidate_pairs
from gvrs.analysis.contagion.result import ContagionError, ContagionFit
from gvrs.analysis.contagion.retaliation import Triggers, TurfLinks, TurfTrigger, retaliation_fit
from gvrs.analysis.contagion.trigger import SpaceTimeTrigger
from gvrs.analysis.hotspots import Grid
from gvrs.analysis.parallel import using_threads


def fit_contagion(
    x_m: np.ndarray,
    y_m: np.ndarray,
    t_days: np.ndarray,
    *,
    max_distance_m: float = 1_000.0,
    max_lag_days: float = 60.0,
    background_bandwidth_m: float | None = None,
    time_bin_days: float = 30.0,
    max_iterations: int = 500,
    tolerance: float = 1e-5,
    init=(0.2, 0.1, 200.0),
    min_spatial_scale_m: float = 25.0,
    turf: TurfLinks | None = None,
    turf_init=(0.2, 0.1),
    background_spatial: str | None = None,
    threads: int | None = None,
) -> ContagionFit:
    """Fit the self-exciting model by EM, with 90% observed-information intervals.

    Parameters
    ----------
    x_m, y_m : array of float
        Projected coordinates in metres.
    t_days : array of float
        Event times in days (any origin).
    max_distance_m, max_lag_days : float
        Truncation of the triggering kernel (see the module docstring).
    background_bandwidth_m : float, optional
        Bandwidth of the background's kernel density. Default: the bandwidth that maximises
        the likelihood (see `_bandwidth_by_likelihood`). A fixed bandwidth biases the
        estimates by an amount that depends on how dense the events are: on simulations with
        a true branching ratio of 0.3, 300 m gave 0.29 with 2,000 events over 225 km^2 (the
        background's density at each event then holds some of the clustering) and 0.30 with
        20,000; 1,000 m gave 0.31 with 2,000.
    time_bin_days : float
        Width of the background's temporal bins (trend and season).
    max_iterations, tolerance : int, float
        EM stops when no parameter (nu, theta, omega, sigma) changes by more than
        ``tolerance`` relative to its value in one iteration. The rule does not depend on the
        number of events (a likelihood-relative rule loosens as n grows); ``converged`` says
        whether it was met within ``max_iterations``.
    init : (theta, omega per day, sigma m)
    min_spatial_scale_m : float
        Floor of sigma. Records geocoded to block centroids put unrelated shootings on one
        point; a triggering scale below the geocoding precision cannot be told from that.
    turf : TurfLinks, optional
        Each event's area and its rival's turf (`gvrs.analysis.contagion.retaliation`): adds the
        second kernel, retaliation on the rival's turf, whose estimate is ``retaliation``.
        Without it the space-time kernel alone takes whatever triggering it can see.
    turf_init : (theta, omega per day)
        Starting values of the second kernel.
    background_spatial : "kernel" or "areas", optional
        The background's spatial density: a kernel density (``background_bandwidth_m``), or
        a step function over the areas of ``turf`` (each area's share of background events
        over its size). Default: "areas" with turf links, "kernel" without. A kernel density
        smooths each area's level into its neighbours; the turf kernel, uniform over an
        area, would then stand in for the difference (on the simulator with no retaliation
        at all it reported a retaliation branching ratio of 0.16-0.33), so the two kernels
        are fitted over a background by areas.
    threads : int, optional
        Threads for the compiled loops (the candidate pairs, the E-step's sums per event, the
        background's kernel density); default every core (`gvrs.analysis.parallel`). Each
        event's and each cell's sums are taken in one order whatever the count, so the fit
        does not depend on it.

    Returns
    -------
    ContagionFit

    Notes
    -----
    Mohler, Short, Brantingham, Schoenberg & Tita (2011), Self-exciting point process
    modeling of crime, JASA 106(493); the EM updates of Veen & Schoenberg (2008). Intervals
    are Wald intervals on the log scale from the observed information (Efron & Hinkley 1978),
    with the background's rate in every time bin a parameter of the information matrix and
    its spatial shape held at its fit.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 400
    >>> fit = fit_contagion(rng.uniform(0, 5e3, n), rng.uniform(0, 5e3, n),
    ...                     np.sort(rng.uniform(0, 730, n)))
    >>> fit.branching_ratio < 0.1, fit.converged
    (True, True)
    """
    x, y, t = (np.asarray(a, dtype=float) for a in (x_m, y_m, t_days))
    n = len(t)
    if n < 20:
        raise ContagionError(f"the contagion model needs at least 20 events, got {n}")
    if max_distance_m <= 0 or max_lag_days <= 0:
        raise ContagionError("truncation distance and lag must be positive")
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(t).all()):
        raise ContagionError("coordinates and times must be finite numbers")
    settings = dict(
        max_distance_m=max_distance_m,
        max_lag_days=max_lag_days,
        time_bin_days=time_bin_days,
        max_iterations=max_iterations,
        tolerance=tolerance,
        min_spatial_scale_m=min_spatial_scale_m,
        turf=turf,
        turf_init=turf_init,
        background_spatial=background_spatial,
    )
    by_areas = background_spatial == "areas" or (background_spatial is None and turf is not None)
    if by_areas and background_bandwidth_m is None:
        # The kernel density is then only the fallback for events outside every area.
        background_bandwidth_m = BANDWIDTH_START_M
    with using_threads(threads):
        if background_bandwidth_m is not None:
            return _fit(
                x, y, t, background_bandwidth_m=background_bandwidth_m, init=init, **settings
            )
        return _bandwidth_by_likelihood(x, y, t, init, settings)


BANDWIDTH_START_M = 300.0
BANDWIDTH_STEP = 2**0.25  # 19% per step: finer than the likelihood can tell at 2,000 events
BANDWIDTH_RANGE_M = (50.0, 5_000.0)
# The rungs are compared at this tolerance (checked against 1e-5 on the coverage bench's
# simulations: the same rung in 20 of 20 at 2,000 events and 7 of 8 at 20,000, where the
# other pick was the next rung up, θ 0.290 against 0.288).
SCOUTING_TOLERANCE = 3e-3


def _bandwidth_by_likelihood(x, y, t, init, settings) -> ContagionFit:
    """The fit at the background bandwidth of largest likelihood, climbing a ladder of
    bandwidths ``BANDWIDTH_STEP`` apart from ``BANDWIDTH_START_M`` until the likelihood falls.

    Each event's background density leaves the event out, so this is likelihood
    cross-validation of the background's smoothing, done on the whole model's likelihood.
    It balances the two ways the background's kernel density biases the triggering: too
    narrow, it follows the clusters (its value at a triggered event holds the event's
    parent and siblings) and takes their events from the triggering; too wide for the
    events' density, its noise and smoothing leave events unexplained that the triggering
    then claims. On simulations of known parameters (bench/risk_bench.py --coverage) it cut
    the branching ratio's bias at 2,000 events from -4.3% (fixed 300 m) to -1.7% and at
    300 events from -7.9% to -1.4%; at 20,000 events, where 300 m was unbiased, it chose
    210-250 m and left -1.8% (the left-out likelihood still rewards a background that
    follows the clusters a little). Each step starts EM at the best fit so far: on the New
    York and Philadelphia files the likelihood has two modes at narrow bandwidths (a spatial
    scale at its floor, or at its upper bound), and EM started afresh at 126 m and 89 m
    found the lower one (log-likelihood 1,332 and 109 below the warm start's).
    """
    lo, hi = BANDWIDTH_RANGE_M
    fits: dict[int, ContagionFit] = {}

    def at(step: int) -> ContagionFit:
        if step not in fits:
            best = max(fits.values(), key=lambda f: f.log_likelihood, default=None)
            start = (
                init
                if best is None
                # (a branching ratio of zero would stay zero under EM)
                else (max(best.branching_ratio, 1e-3), 1 / best.decay_days, best.spatial_scale_m)
            )
            bandwidth = BANDWIDTH_START_M * BANDWIDTH_STEP**step
            fits[step] = _fit(x, y, t, background_bandwidth_m=bandwidth, init=start, **scouting)
        return fits[step]

    # The rungs are compared at a looser tolerance (EM's last iterations move the likelihood
    # far less than a rung does); the chosen one is then fitted to the requested tolerance.
    scouting = {**settings, "tolerance": max(settings["tolerance"], SCOUTING_TOLERANCE)}
    # One search for the candidate pairs serves every rung (a third of a rung's time at
    # 100,000 events).
    pairs = candidate_pairs(x, y, t - t.min(), settings["max_distance_m"], settings["max_lag_days"])
    scouting["pairs"] = pairs

    def inside(step: int) -> bool:
        return lo <= BANDWIDTH_START_M * BANDWIDTH_STEP**step <= hi

    direction = 1 if at(1).log_likelihood > at(0).log_likelihood else -1
    step = 1 if direction == 1 else 0
    while (
        inside(step + direction) and at(step + direction).log_likelihood > at(step).log_likelihood
    ):
        step += direction
    chosen = at(step)
    if scouting["tolerance"] == settings["tolerance"]:
        return chosen
    start = (max(chosen.branching_ratio, 1e-3), 1 / chosen.decay_days, chosen.spatial_scale_m)
    bandwidth = BANDWIDTH_START_M * BANDWIDTH_STEP**step
    return _fit(x, y, t, background_bandwidth_m=bandwidth, init=start, pairs=pairs, **settings)


def _fit(
    x: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    *,
    max_distance_m: float,
    max_lag_days: float,
    background_bandwidth_m: float,
    time_bin_days: float,
    max_iterations: int,
    tolerance: float,
    init,
    min_spatial_scale_m: float,
    turf: TurfLinks | None,
    turf_init,
    background_spatial: str | None,
    pairs=None,
) -> ContagionFit:
    """`fit_contagion` at one background bandwidth; ``pairs``: the candidate pairs, when the
    caller has them already (they do not depend on the bandwidth)."""
    n = len(t)
    t = t - t.min()
    t_end = float(t.max()) + 1e-9
    grid = Grid.around(
        x, y, cell_m=max(25.0, background_bandwidth_m / 4), pad_m=4 * background_bandwidth_m
    )
    row, col, _ = grid.cell_of(x, y)
    edges, bin_of_event = _time_bins(t, t_end, time_bin_days)
    widths = np.diff(edges)
    space_time = SpaceTimeTrigger(
        pairs if pairs is not None else candidate_pairs(x, y, t, max_distance_m, max_lag_days),
        np.minimum(t_end - t, max_lag_days),
        max_distance_m,
        max_lag_days,
        min_spatial_scale_m,
    )
    kernel, init = space_time, tuple(init)
    if background_spatial is None:
        background_spatial = "kernel" if turf is None else "areas"
    if background_spatial not in ("kernel", "areas"):
        raise ContagionError(f"background_spatial {background_spatial!r}; valid: kernel, areas")
    if background_spatial == "areas" and turf is None:
        raise ContagionError("a background by areas needs each event's area (turf links)")
    if turf is not None and len(turf.area) != n:
        raise ContagionError(f"turf links for {len(turf.area)} events, not {n}")
    # Without a shooting that has a rival turf the second kernel has nothing to estimate.
    with_turf = turf is not None and any(len(ts) for ts in turf.targets)
    if with_turf:
        second = TurfTrigger.build(t, t_end, turf, max_lag_days)
        kernel = Triggers((space_time, second), ("", "retaliation_"))
        init = (*init, *turf_init)

    def background(p_background: np.ndarray, nu: float) -> Background:
        # M-step of the background: its events' weighted histogram over time bins (the
        # exact maximiser for a piecewise-constant rate) and weighted kernel density in space.
        per_bin = np.bincount(bin_of_event, weights=p_background, minlength=len(widths))
        mass = per_bin + 1e-9 * widths
        mass *= nu / mass.sum()
        spatial = _spatial_density(grid, x, y, p_background, background_bandwidth_m, (row, col))
        if background_spatial == "areas":
            spatial = _area_density(turf, p_background, spatial)
        return Background(spatial, bin_of_event, widths, mass)

    params = tuple(float(v) for v in init)
    nu = float(n)
    p_background = np.ones(n)
    converged = False
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        mu = background(p_background, nu).intensity()
        sums = kernel.sums(params)
        total = mu + sums[0]
        p_background = mu / total
        new_nu = float(p_background.sum())
        new_params = kernel.m_step(sums @ (1 / total), params)
        change = max(
            abs(new - old) / max(abs(old), 1e-12)
            for new, old in zip((new_nu, *new_params), (nu, *params), strict=True)
        )
        nu, params = new_nu, new_params
        if change <= tolerance:
            converged = True
            break
    # The final E-step: the probabilities and the likelihood at the parameters reported.
    bg = background(p_background, nu)
    p_background = bg.intensity() / (bg.intensity() + kernel.sums(params)[0])
    loglik = log_likelihood(kernel, params, bg)
    intervals, notes = _observed_information_intervals(kernel, params, bg)
    retaliation = None
    if with_turf:
        retaliation, intervals, notes = retaliation_fit(kernel, params, bg, intervals, notes)
        params = kernel.split(params)[0]
    theta, omega, sigma = params
    return ContagionFit(
        branching_ratio=float(theta),
        decay_days=float(1 / omega),
        spatial_scale_m=float(sigma),
        background_events=nu,
        triggered_probability=1 - p_background,
        iterations=iteration,
        converged=converged,
        log_likelihood=loglik,
        kernel_mass_captured=float(space_time.mass_captured(params)),
        n_events=n,
        n_candidate_pairs=len(space_time.pairs),
        max_distance_m=max_distance_m,
        max_lag_days=max_lag_days,
        intervals=intervals,
        interval_notes=notes,
        background_bandwidth_m=background_bandwidth_m,
        _x=x,
        _y=y,
        _t=t,
        _background_weight=p_background,
        _profile=(edges, bg.mass / nu / widths, t_end),
        retaliation=retaliation,
    )
