"""The Knox test against a brute-force O(n^2) reference, its false-positive rate, and the
simulator's contagious city."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gvrs.analysis.nearrepeat import KnoxError, knox_test

SPACE, TIME = (100.0, 200.0, 400.0), (7.0, 14.0, 28.0)


def brute_force_table(x, y, t, space=SPACE, time=TIME, manhattan=False):
    """Every pair, by the book: bands [0, e0], (e0, e1], ..."""
    table = np.zeros((len(space), len(time)), dtype=int)
    for i, j in itertools.combinations(range(len(t)), 2):
        dx, dy = abs(x[i] - x[j]), abs(y[i] - y[j])
        d = dx + dy if manhattan else (dx * dx + dy * dy) ** 0.5
        dt = abs(t[i] - t[j])
        s = next((k for k, edge in enumerate(space) if d <= edge), None)
        k = next((k for k, edge in enumerate(time) if dt <= edge), None)
        if s is not None and k is not None:
            table[s, k] += 1
    return table


def observed(result):
    return np.array([c.observed for c in result.cells]).reshape(len(SPACE), len(TIME))


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_observed_pairs_equal_the_brute_force_count(metric):
    rng = np.random.default_rng(4)
    n = 300
    # Integer metres and days put many pairs exactly on band edges.
    x, y = rng.integers(0, 1500, n).astype(float), rng.integers(0, 1500, n).astype(float)
    t = rng.integers(0, 120, n).astype(float)
    x[:2], y[:2], t[:2] = (0.0, 100.0), (0.0, 0.0), (0.0, 7.0)  # exactly 100 m and 7 days apart
    result = knox_test(x, y, t, permutations=9, metric=metric)
    np.testing.assert_array_equal(
        observed(result), brute_force_table(x, y, t, manhattan=metric == "manhattan")
    )


def test_p_values_agree_with_a_brute_force_permutation_test_within_monte_carlo_error():
    rng = np.random.default_rng(8)
    n = 150
    x, y, t = rng.uniform(0, 1200, n), rng.uniform(0, 1200, n), rng.uniform(0, 90, n)
    x[:30], y[:30] = rng.normal(600, 60, 30), rng.normal(600, 60, 30)  # a cluster...
    t[:30] = rng.uniform(0, 10, 30)  # ...close in time too
    ours = knox_test(x, y, t, permutations=499, seed=2)
    base = brute_force_table(x, y, t)
    other = np.random.default_rng(99)
    tables = np.array([brute_force_table(x, y, other.permutation(t)) for _ in range(199)])
    reference = (1 + (tables >= base).sum(axis=0)) / 200
    for cell, ref in zip(ours.cells, reference.ravel(), strict=True):
        se = np.sqrt(max(ref * (1 - ref), 0.01) * (1 / 200 + 1 / 500))
        assert abs(cell.p_value - ref) <= 4 * se + 0.01
    assert ours.cells[0].p_value < 0.01 and ours.cells[0].knox_ratio > 1.5


def test_the_false_positive_rate_is_about_5_percent_without_interaction():
    rejections = []
    for seed in range(200):
        rng = np.random.default_rng(1000 + seed)
        n = 120
        x, y, t = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n), rng.uniform(0, 365, n)
        result = knox_test(
            x, y, t, space_bands_m=(300,), time_bands_days=(30,), permutations=99, seed=seed
        )
        rejections.append(result.cells[0].p_value <= 0.05)
    rate = np.mean(rejections)
    assert 0.05 - 3 * np.sqrt(0.05 * 0.95 / 200) <= rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 200)


def test_the_simulated_contagious_city_shows_near_repeats():
    from gvrs.data.simulate import simulate

    city = simulate("bakersfield-like", years=(2018, 2022), seed=3)
    ev = city.events[city.events["trigger"] != "officer_involved"]
    result = knox_test(
        ev["x"].to_numpy(), ev["y"].to_numpy(), ev["t"].to_numpy(), permutations=199, seed=1
    )
    first = result.cells[0]
    assert first.knox_ratio > 1.5 and first.p_value < 0.01
    assert result.table().shape == (3, 3)


def test_the_same_seed_gives_the_same_p_values():
    rng = np.random.default_rng(1)
    x, y, t = rng.uniform(0, 3000, 500), rng.uniform(0, 3000, 500), rng.uniform(0, 200, 500)
    a = knox_test(x, y, t, permutations=99, seed=5, workers=1)
    b = knox_test(x, y, t, permutations=99, seed=5, workers=2)
    assert a == b


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"space_bands_m": (200, 100)}, "space bands must be positive and increasing"),
        ({"time_bands_days": (-7, 14)}, "time bands must be positive and increasing"),
        ({"space_bands_m": ()}, "give at least one space band"),
        ({"metric": "chebyshev"}, "unknown distance"),
    ],
)
def test_bands_that_make_no_sense_are_refused(kwargs, message):
    with pytest.raises(KnoxError, match=message):
        knox_test(np.zeros(5), np.zeros(5), np.arange(5.0), **kwargs)


def test_too_few_events_are_refused():
    with pytest.raises(KnoxError, match="at least 3 events"):
        knox_test(np.zeros(2), np.zeros(2), np.zeros(2))
