"""Hot spots: grid counts, binned kernel density against a direct sum, and the hit rate,
PAI and PEI of a hand-made grid."""

from __future__ import annotations

import numpy as np
import pytest

from gvrs.analysis.hotspots import (
    Grid,
    grid_counts,
    kernel_density,
    prospective_surface,
    rolling_origin,
    score,
)


def test_pai_hit_rate_and_pei_on_a_hand_made_grid():
    # A 2 x 5 grid (10 cells). The map ranks cells 0 and 1 highest; next week's 10 events
    # fall 4 in cell 0, 1 in cell 1, 5 in cell 7.
    surface = np.array([[9, 8, 1, 1, 1], [1, 1, 1, 1, 1]], dtype=float)
    actual = np.array([[4, 1, 0, 0, 0], [0, 0, 5, 0, 0]], dtype=float)
    result = score(surface, actual, coverage=0.2)
    assert result.cells_flagged == 2
    assert result.hits == 5 and result.events == 10
    assert result.hit_rate == pytest.approx(0.5)  # 5 of 10 events
    assert result.pai == pytest.approx(0.5 / 0.2)  # hit rate / share of area = 2.5
    assert result.pei == pytest.approx(5 / 9)  # the best 2 cells would have caught 5 + 4


def test_grid_counts_put_points_in_the_right_cells():
    grid = Grid(0.0, 0.0, 100.0, 3, 2)
    counts = grid_counts(grid, np.array([10, 150, 150, 299, 500]), np.array([10, 50, 150, 199, 0]))
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 1]])  # (500, 0) is off the grid


def test_binned_kernel_density_matches_a_direct_kernel_sum():
    rng = np.random.default_rng(0)
    x, y = rng.normal(2000, 400, 3000), rng.normal(2000, 400, 3000)
    grid = Grid(0.0, 0.0, 20.0, 200, 200)
    bandwidth = 150.0
    fast = kernel_density(grid, x, y, bandwidth)
    cx, cy = grid.centres()
    sample = (slice(60, 140, 9), slice(60, 140, 9))
    px, py = cx[sample].ravel(), cy[sample].ravel()
    d2 = (px[:, None] - x[None, :]) ** 2 + (py[:, None] - y[None, :]) ** 2
    direct = np.exp(-d2 / (2 * bandwidth**2)).sum(axis=1) / (2 * np.pi * bandwidth**2) * 1e6
    np.testing.assert_allclose(fast[sample].ravel(), direct, rtol=0.03, atol=direct.max() * 0.01)


def test_prospective_weights_recent_and_near_events_most():
    grid = Grid(0.0, 0.0, 100.0, 10, 10)
    x, y = np.array([150.0, 850.0]), np.array([150.0, 850.0])
    t = np.array([55.0, 10.0])  # the first is 1 day old at day 56, the second 46 days old
    surface = prospective_surface(grid, x, y, t, now_days=56.0, bandwidth_m=300)
    assert surface[1, 1] == pytest.approx(1.0)  # weight 1 / (1 + 0 cells) / (1 + 0 weeks)
    assert surface[8, 8] == pytest.approx(1 / 7)  # 6 weeks old
    assert surface[1, 2] == pytest.approx(0.5)  # one cell away


def test_rolling_origin_scores_each_week_on_events_after_the_fit():
    rng = np.random.default_rng(1)
    hot = rng.normal(1000, 80, (400, 2))
    cold = rng.uniform(0, 4000, (400, 2))
    xy = np.vstack([hot, cold])
    t = rng.uniform(0, 400, 800)
    grid = Grid.around(xy[:, 0], xy[:, 1], cell_m=100)
    weekly = rolling_origin(
        grid, xy[:, 0], xy[:, 1], t, first_origin_days=200, last_origin_days=380, coverage=0.02
    )
    assert len(weekly) == 26
    assert weekly["pai"].mean() > 10  # half the events sit in a tiny hot spot
