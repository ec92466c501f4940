"""The self-exciting model recovers known parameters, finds no contagion where there is none,
and finds the simulator's near-repeat shootings."""

from __future__ import annotations

import numpy as np
import pytest

from gvrs.analysis.contagion import ContagionError, fit_contagion, risk_surface, simulate_hawkes
from gvrs.analysis.hotspots import Grid

TRUE = {"theta": 0.3, "omega": 0.1, "sigma": 150.0}


def hawkes(seed: int, background: int = 2500, days: float = 3 * 365):
    rng = np.random.default_rng(seed)
    xb, yb = rng.uniform(0, 15_000, 4000), rng.uniform(0, 15_000, 4000)
    profile = (np.array([0.0, days]), np.array([1 / days]), days)
    return simulate_hawkes(
        {**TRUE, "mu": background},
        rng,
        x_bg=xb,
        y_bg=yb,
        w_bg=np.ones(4000),
        profile=profile,
        jitter_m=300,
    )


def test_intervals_cover_the_true_parameters_in_most_seeds():
    covered = {"branching_ratio": 0, "decay_days": 0, "spatial_scale_m": 0}
    truth = {
        "branching_ratio": TRUE["theta"],
        "decay_days": 1 / TRUE["omega"],
        "spatial_scale_m": TRUE["sigma"],
    }
    seeds = range(6)
    for seed in seeds:
        x, y, t, _ = hawkes(seed)
        fit = fit_contagion(x, y, t, bootstrap=20, seed=seed)
        assert fit.converged and fit.kernel_mass_captured > 0.99
        for name in covered:
            interval = fit.intervals[name]
            covered[name] += interval.low <= truth[name] <= interval.high
    assert all(count >= 4 for count in covered.values()), covered


def test_point_estimates_are_close_on_a_large_run():
    x, y, t, parent = hawkes(11, background=8000)
    fit = fit_contagion(x, y, t)
    assert fit.branching_ratio == pytest.approx(0.3, abs=0.03)
    assert fit.decay_days == pytest.approx(10, rel=0.12)
    assert fit.spatial_scale_m == pytest.approx(150, rel=0.08)
    # The per-event probability of having been triggered separates the two kinds of events.
    assert (
        fit.triggered_probability[parent >= 0].mean()
        > 2 * fit.triggered_probability[parent < 0].mean()
    )


def test_a_poisson_process_has_a_branching_ratio_near_zero():
    rng = np.random.default_rng(5)
    n = 4000
    fit = fit_contagion(
        rng.uniform(0, 20_000, n), rng.uniform(0, 20_000, n), rng.uniform(0, 1000, n)
    )
    assert fit.branching_ratio < 0.03


def test_the_simulators_near_repeat_shootings_are_found():
    from gvrs.data.simulate import simulate

    city = simulate("bakersfield-like", years=(2015, 2025), seed=3, size=2)
    ev = city.events[city.events["trigger"] != "officer_involved"]
    fit = fit_contagion(ev["x"].to_numpy(), ev["y"].to_numpy(), ev["t"].to_numpy())
    s = city.scenario
    # Near repeats (0.15, 7 days, 200 m) plus the few retaliations that land close by.
    assert s.near_repeat_ratio * 0.8 < fit.branching_ratio < s.near_repeat_ratio * 1.6
    assert 5 < fit.decay_days < 12
    assert 0.8 * s.spatial_scale_m < fit.spatial_scale_m < 1.3 * s.spatial_scale_m


def test_the_risk_surface_is_highest_where_shootings_just_happened():
    x, y, t, _ = hawkes(2)
    fit = fit_contagion(x, y, t)
    grid = Grid.around(x, y, cell_m=200)
    surface = risk_surface(fit, grid, horizon_days=7)
    latest = np.argmax(t)
    row, col, _ = grid.cell_of(x[latest : latest + 1], y[latest : latest + 1])
    assert surface[row[0], col[0]] > np.quantile(surface, 0.9)


def test_too_few_events_are_refused():
    with pytest.raises(ContagionError, match="at least 20 events"):
        fit_contagion(np.zeros(5), np.zeros(5), np.arange(5.0))
