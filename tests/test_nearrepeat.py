"""The Knox test against a brute-force O(n^2) reference, its false-positive rate, and the
simulator's contagious city."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gvrs.analysis.nearrepeat import KnoxError, knox_test

SPACE, TIME = (100.0, 200.0, 400.0), (7.0, 14.0, 28.0)


def brute_force_table(x, y, t, space=SPACE, time=TIME, manhattan=False, edges="right"):
    """Every pair, by the book: bands [0, e0], (e0, e1], ... ("right") or [0, e0), [e0, e1),
    ... ("left"), with a last row and column for pairs beyond the last band."""
    table = np.zeros((len(space) + 1, len(time) + 1), dtype=int)

    def band(value, bands):
        inside = (value <= e if edges == "right" else value < e for e in bands)
        return next((k for k, yes in enumerate(inside) if yes), len(bands))

    for i, j in itertools.combinations(range(len(t)), 2):
        dx, dy = abs(x[i] - x[j]), abs(y[i] - y[j])
        d = dx + dy if manhattan else (dx * dx + dy * dy) ** 0.5
        table[band(d, space), band(abs(t[i] - t[j]), time)] += 1
    return table


def observed(result):
    return np.array([c.observed for c in result.cells]).reshape(len(SPACE), len(TIME))


def full_observed(result):
    """The bands' cells and the "More than" row and column in one table."""
    cells = (*result.cells, *result.outer_cells)
    space = sorted({c.space_from_m for c in cells})
    time = sorted({c.time_from_days for c in cells})
    table = np.zeros((len(space), len(time)), dtype=int)
    for c in cells:
        table[space.index(c.space_from_m), time.index(c.time_from_days)] = c.observed
    return table


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_observed_pairs_equal_the_brute_force_count(metric):
    rng = np.random.default_rng(4)
    n = 300
    # Integer metres and days put many pairs exactly on band edges.
    x, y = rng.integers(0, 1500, n).astype(float), rng.integers(0, 1500, n).astype(float)
    t = rng.integers(0, 120, n).astype(float)
    x[:2], y[:2], t[:2] = (0.0, 100.0), (0.0, 0.0), (0.0, 7.0)  # exactly 100 m and 7 days apart
    for edges in ("left", "right"):
        result = knox_test(x, y, t, permutations=9, metric=metric, band_edges=edges)
        brute = brute_force_table(x, y, t, manhattan=metric == "manhattan", edges=edges)
        np.testing.assert_array_equal(observed(result), brute[:-1, :-1])
        np.testing.assert_array_equal(full_observed(result), brute)


def test_p_values_agree_with_a_brute_force_permutation_test_within_monte_carlo_error():
    rng = np.random.default_rng(8)
    n = 150
    x, y, t = rng.uniform(0, 1200, n), rng.uniform(0, 1200, n), rng.uniform(0, 90, n)
    x[:30], y[:30] = rng.normal(600, 60, 30), rng.normal(600, 60, 30)  # a cluster...
    t[:30] = rng.uniform(0, 10, 30)  # ...close in time too
    ours = knox_test(x, y, t, permutations=499, seed=2, band_edges="right")
    base = brute_force_table(x, y, t)[:-1, :-1]
    other = np.random.default_rng(99)
    tables = np.array([brute_force_table(x, y, other.permutation(t))[:-1, :-1] for _ in range(199)])
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
        ({"band_edges": "middle"}, "unknown band edges"),
        ({"method": "fortran"}, "unknown method"),
    ],
)
def test_bands_that_make_no_sense_are_refused(kwargs, message):
    with pytest.raises(KnoxError, match=message):
        knox_test(np.zeros(5), np.zeros(5), np.arange(5.0), **kwargs)


def test_too_few_events_are_refused():
    with pytest.raises(KnoxError, match="at least 3 events"):
        knox_test(np.zeros(2), np.zeros(2), np.zeros(2))


def test_compiled_loop_gives_the_numpy_references_answer():
    """Same permutations, counted by the compiled one-pass loop and by the numpy reference:
    the same tables, expectations and p-values, under both edge conventions."""
    rng = np.random.default_rng(3)
    n = 600
    x, y = rng.integers(0, 3000, n).astype(float), rng.integers(0, 3000, n).astype(float)
    t = rng.integers(0, 365, n).astype(float)  # whole days: many pairs on the edges
    for edges in ("left", "right"):
        kwargs = dict(permutations=199, seed=4, band_edges=edges, time_bands_days=(1, 7, 14, 28))
        compiled = knox_test(x, y, t, **kwargs)
        reference = knox_test(x, y, t, method="numpy", workers=2, **kwargs)
        assert compiled == reference
    assert knox_test(x, y, t, permutations=19, seed=1) != knox_test(
        x, y, t, permutations=19, seed=2
    )


def test_the_permutations_are_uniform():
    """Where each of 5 times lands over 20,000 shuffles: every position equally likely."""
    from gvrs.analysis.nearrepeat import _permuted

    t = np.arange(5.0)
    seeds = np.random.SeedSequence(7).generate_state(20_000, dtype=np.uint32)
    counts = np.zeros((5, 5))
    for s in seeds:
        counts[np.arange(5), _permuted(t, s).astype(int)] += 1
    # Each cell is binomial(20,000, 1/5): 4,000 +- 57; allow 5 standard deviations.
    assert np.abs(counts - 4000).max() < 5 * np.sqrt(20_000 * 0.2 * 0.8)


def test_tables_are_unchanged_by_the_edge_convention_where_no_pair_is_on_an_edge():
    rng = np.random.default_rng(12)
    n = 800
    x, y, t = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n), rng.uniform(0, 365, n)
    left = knox_test(x, y, t, permutations=99, seed=3, band_edges="left")
    right = knox_test(x, y, t, permutations=99, seed=3, band_edges="right")
    pairs = zip((*left.cells, *left.outer_cells), (*right.cells, *right.outer_cells), strict=True)
    for a, b in pairs:
        assert (a.observed, a.expected, a.p_value) == (b.observed, b.expected, b.p_value)
    assert left.n_close_pairs == right.n_close_pairs


def test_dates_without_times_against_a_hand_counted_table():
    """Five shootings on whole days, with space bands 100, 200 m and time bands 7, 14 days.

    event  x    y   day      pairs (distance m, days apart):
      A    0    0    0       A-B (100, 7)    A-C (148.7, 14)  A-D (200, 3)   A-E (1000, 7)
      B    0  100    7       B-C (64.0, 7)   B-D (223.6, 4)   B-E (1005, 0)
      C   50  140   14       C-D (205.2, 11) C-E (960.3, 7)
      D  200    0    3       D-E (800, 4)
      E 1000    0    7

    Right edges, (lower, upper]:          Left edges, [lower, upper) (the calculator's):
                 <=7  (7,14]  >14                     <7  [7,14)  >=14
      <=100        2     0     0          <100         0     1      0     B-C
      (100,200]    1     1     0          [100,200)    0     1      1     A-B; A-C
      >200         5     1     0          >=200        4     3      0
    """
    x = np.array([0.0, 0.0, 50.0, 200.0, 1000.0])
    y = np.array([0.0, 100.0, 140.0, 0.0, 0.0])
    t = np.array([0.0, 7.0, 14.0, 3.0, 7.0])
    by_hand = {
        "right": [[2, 0, 0], [1, 1, 0], [5, 1, 0]],
        "left": [[0, 1, 0], [0, 1, 1], [4, 3, 0]],
    }
    for edges, table in by_hand.items():
        result = knox_test(
            x,
            y,
            t,
            space_bands_m=(100, 200),
            time_bands_days=(7, 14),
            permutations=19,
            band_edges=edges,
        )
        assert full_observed(result).tolist() == table, edges
        assert result.n_close_pairs == (4 if edges == "right" else 3)


def test_the_near_repeat_calculator_layout():
    rng = np.random.default_rng(2)
    n = 300
    x, y, t = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n), rng.integers(0, 90, n) * 1.0
    result = knox_test(
        x, y, t, space_bands_m=(1, 100, 200, 300), time_bands_days=(7, 14, 21), permutations=19
    )
    tables = result.nrc_tables()
    assert list(tables) == ["Observed over mean expected frequencies", "Statistical significance"]
    ratios = tables["Observed over mean expected frequencies"]
    assert list(ratios.index) == [
        "Same location",
        "1 to 100 meters",
        "101 to 200 meters",
        "201 to 300 meters",
        "More than 300 meters",
    ]
    assert list(ratios.columns) == [
        "0 to 7 days",
        "8 to 14 days",
        "15 to 21 days",
        "More than 21 days",
    ]
    cell = next(c for c in result.cells if (c.space_from_m, c.time_from_days) == (100, 7))
    assert ratios.loc["101 to 200 meters", "8 to 14 days"] == cell.knox_ratio
    assert ("8 to 14 days", "[7, 14) days") in result.nrc_legend()
    # Every pair is counted once: the full table adds up to n (n - 1) / 2.
    assert full_observed(result).sum() == n * (n - 1) // 2
