"""Expected shootings summed per area: against a brute-force nearest-shooting assignment."""

from __future__ import annotations

import numpy as np
import pytest

from gvrs.analysis.arearisk import expected_by_area
from gvrs.analysis.hotspots import Grid


def test_each_cell_goes_to_the_area_of_the_nearest_shooting_as_brute_force_finds():
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 3000, 40), rng.uniform(0, 2000, 40)
    areas = rng.choice(["North", "South", "Park", ""], size=40)
    grid = Grid(-500.0, -500.0, 100.0, 40, 30)
    surface = rng.gamma(1.0, 0.01, size=grid.shape)
    got = expected_by_area(surface, grid, x, y, areas, max_distance_m=600)

    cx, cy = grid.centres()
    named = areas != ""
    d = np.hypot(cx.ravel()[:, None] - x[named], cy.ravel()[:, None] - y[named])
    owner = areas[named][d.argmin(axis=1)]
    near = d.min(axis=1) <= 600
    want = {a: surface.ravel()[near & (owner == a)].sum() for a in np.unique(owner[near])}
    assert set(got) == set(want)
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-12)
    # Nothing is lost: with no distance limit the areas hold the whole surface.
    everything = expected_by_area(surface, grid, x, y, areas, max_distance_m=np.inf)
    assert sum(everything.values()) == pytest.approx(surface.sum())


def test_mismatched_inputs_are_refused():
    grid = Grid(0.0, 0.0, 100.0, 2, 1)
    with pytest.raises(ValueError, match="one entry per shooting"):
        expected_by_area(np.zeros((1, 2)), grid, np.zeros(2), np.zeros(2), ["A"])
    with pytest.raises(ValueError, match="shape"):
        expected_by_area(np.zeros((2, 2)), grid, np.zeros(1), np.zeros(1), ["A"])
