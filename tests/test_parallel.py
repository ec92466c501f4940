"""The compiled risk kernels give the same answer on one thread and on two (bit for bit), and
thread counts are read and refused as documented (gvrs.analysis.parallel)."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.ndimage import correlate1d

from gvrs.analysis.contagion import fit_contagion
from gvrs.analysis.contagion.background import _separable_blur
from gvrs.analysis.contagion.pairs import candidate_pairs
from gvrs.analysis.nearrepeat import knox_test
from gvrs.analysis.parallel import (
    ThreadsError,
    max_threads,
    parse_threads,
    using_threads,
)

two_cores = pytest.mark.skipif(max_threads() < 2, reason="numba has one thread here")


def clustered(n: int, seed: int):
    """Events in a few tight clusters in space and time, so that close pairs abound."""
    rng = np.random.default_rng(seed)
    centre = rng.integers(0, 20, n)
    x = rng.uniform(0, 4000, 20)[centre] + rng.normal(0, 150, n)
    y = rng.uniform(0, 4000, 20)[centre] + rng.normal(0, 150, n)
    t = np.sort(rng.uniform(0, 365, 20)[centre] + rng.exponential(10, n))
    return x, y, t


@two_cores
@pytest.mark.parametrize("edges", ["left", "right"])
def test_knox_is_the_same_on_one_thread_and_two(edges):
    x, y, t = clustered(800, 1)
    kwargs = dict(permutations=101, seed=7, band_edges=edges)
    one = knox_test(x, y, t, threads=1, **kwargs)
    two = knox_test(x, y, t, threads=2, **kwargs)
    assert one == two
    # ... and the same as the numpy reference, which draws each permutation on its own.
    assert one == knox_test(x, y, t, method="numpy", workers=1, **kwargs)
    assert one.cells[0].observed > 0


@two_cores
def test_the_contagion_fit_is_the_same_on_one_thread_and_two():
    x, y, t = clustered(600, 2)
    one = fit_contagion(x, y, t, threads=1)
    two = fit_contagion(x, y, t, threads=2)
    for name in (
        "branching_ratio",
        "decay_days",
        "spatial_scale_m",
        "background_events",
        "iterations",
        "log_likelihood",
        "background_bandwidth_m",
        "intervals",
    ):
        assert getattr(one, name) == getattr(two, name), name
    assert np.array_equal(one.triggered_probability, two.triggered_probability)
    assert one.n_candidate_pairs > 1000


@two_cores
def test_candidate_pairs_are_the_same_on_one_thread_and_two():
    x, y, t = clustered(2000, 3)
    with using_threads(1):
        one = candidate_pairs(x, y, t, 500.0, 30.0, with_parent=True)
    with using_threads(2):
        two = candidate_pairs(x, y, t, 500.0, 30.0, with_parent=True)
    for a, b in zip(
        (one.offsets, one.lag_days, one.distance2_m2, one.parent),
        (two.offsets, two.lag_days, two.distance2_m2, two.parent),
        strict=True,
    ):
        assert np.array_equal(a, b)


def test_the_background_blur_is_scipys_correlation_twice():
    rng = np.random.default_rng(4)
    counts = rng.poisson(0.3, (37, 53)).astype(float)
    g = np.exp(-0.5 * np.linspace(-3, 3, 13) ** 2)
    g /= g.sum()
    reference = correlate1d(
        correlate1d(counts, g, axis=0, mode="constant"), g, axis=1, mode="constant"
    )
    np.testing.assert_allclose(_separable_blur(counts, g), reference, rtol=0, atol=1e-14)
    # A kernel wider than the grid: every tap that falls off an edge counts zero.
    wide = np.ones(81) / 81
    reference = correlate1d(
        correlate1d(counts, wide, axis=0, mode="constant"), wide, axis=1, mode="constant"
    )
    np.testing.assert_allclose(_separable_blur(counts, wide), reference, rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    ("raw", "name", "expected"),
    [
        ("1", "--threads", 1),
        (" 1 ", "GVRS_THREADS", 1),
        (1, "threads", 1),
        ("all", "--threads", None),
        ("ALL", "GVRS_THREADS", None),
        ("", "GVRS_THREADS", None),
        (None, "GVRS_THREADS", None),
    ],
)
def test_thread_counts_are_read(raw, name, expected):
    assert parse_threads(raw, name) == expected


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        ("0", "--threads", "--threads 0: give at least 1 thread"),
        ("-3", "GVRS_THREADS", "GVRS_THREADS='-3': give at least 1 thread"),
        ("two", "--threads", "--threads two: not a whole number"),
        ("1.5", "GVRS_THREADS", "GVRS_THREADS='1.5': not a whole number"),
        ("100000", "--threads", "--threads 100000: more than the .* cores numba can use"),
    ],
)
def test_bad_thread_counts_are_refused_naming_where_they_came_from(raw, name, message):
    with pytest.raises(ThreadsError, match=message):
        parse_threads(raw, name)


def test_a_fit_asked_for_more_threads_than_cores_is_refused():
    x, y, t = clustered(100, 5)
    with pytest.raises(ThreadsError, match="more than the"):
        knox_test(x, y, t, permutations=9, threads=max_threads() + 1)
    with pytest.raises(ThreadsError, match="at least 1"):
        fit_contagion(x, y, t, threads=0)


def test_the_thread_count_is_put_back_after_the_block():
    before = numba.get_num_threads()
    with using_threads(1) as count:
        assert count == 1 and numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with using_threads(None) as count:
        assert count == max_threads()
