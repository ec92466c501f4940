"""Exact intervals and tests against the published figures and scipy-independent checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from gvrs.analysis.inference import (
    binomial_interval,
    binomial_two_sided_p,
    compare_counts,
    poisson_interval,
)


def test_sixty_to_thirty_eight_is_a_37_percent_fall_with_exact_p_0_0334():
    result = compare_counts(60, 38)
    assert result.change == -22
    assert result.change_pct == pytest.approx(-36.67, abs=0.01)
    assert result.p_value == pytest.approx(0.0334, abs=5e-5)


def test_732_to_344_is_a_53_percent_fall():
    assert compare_counts(732, 344).change_pct == pytest.approx(-53.0, abs=0.05)


def test_three_to_zero_is_within_ordinary_variation():
    result = compare_counts(3, 0)
    assert result.p_value == pytest.approx(0.25)
    assert result.change_pct == -100.0


def test_zero_to_zero_has_no_evidence_and_an_undefined_percent():
    result = compare_counts(0, 0)
    assert result.p_value == 1.0
    assert result.change_pct is None


def test_exact_interval_for_38_and_for_0():
    iv = poisson_interval(38)
    assert (round(iv.low, 2), round(iv.high, 2)) == (26.89, 52.16)
    zero = poisson_interval(0)
    assert zero.low == 0.0 and round(zero.high, 2) == 3.69


def test_interval_bounds_are_where_the_tail_probabilities_equal_alpha_over_2():
    # Independent check by definition: P(X >= k | low) = P(X <= k | high) = 0.025.
    for k in (1, 5, 38, 400):
        iv = poisson_interval(k)
        assert poisson.sf(k - 1, iv.low) == pytest.approx(0.025, rel=1e-6)
        assert poisson.cdf(k, iv.high) == pytest.approx(0.025, rel=1e-6)


def test_rates_scale_by_exposure():
    iv = poisson_interval(38, exposure=4.0)
    assert iv.high == pytest.approx(poisson_interval(38).high / 4)


def test_unequal_exposure_tests_rates_not_counts():
    # Same rate in a population twice as large: no evidence of a difference.
    assert compare_counts(20, 40, exposure_a=1.0, exposure_b=2.0).p_value == pytest.approx(1.0)


@settings(max_examples=15, deadline=None)
@given(mean=st.floats(min_value=0.5, max_value=200))
def test_intervals_cover_the_true_mean_at_least_95_percent_of_the_time(mean):
    rng = np.random.default_rng(int(mean * 1000))
    draws = rng.poisson(mean, size=2000)
    covered = np.mean([(iv := poisson_interval(int(k))).low <= mean <= iv.high for k in draws])
    # Exact intervals are conservative: coverage >= 95% up to Monte Carlo error (3 s.e.).
    assert covered >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / 2000)


@pytest.mark.parametrize("n", [*range(1, 40), 97, 1000, 25_013])
@pytest.mark.parametrize("p", [0.5, 0.3, 0.01, 0.99, 1 / 3, 0.0, 1.0])
def test_the_exact_test_written_on_scipy_special_equals_scipy_stats_binomtest(n, p):
    """inference computes the two-sided binomial test without importing scipy.stats (half a
    second of every command's start-up); it must give scipy.stats.binomtest's p-values."""
    from scipy.stats import binomtest

    ks = range(n + 1) if n < 100 else np.linspace(0, n, 60).round().astype(int)
    for k in ks:
        expected = binomtest(int(k), n, p).pvalue
        assert binomial_two_sided_p(int(k), n, p) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_the_interval_quantiles_equal_scipy_stats():
    from scipy.stats import beta, chi2

    for count in range(0, 300):
        interval = poisson_interval(count)
        low = 0.0 if count == 0 else chi2.ppf(0.025, 2 * count) / 2
        assert interval.low == pytest.approx(low, rel=1e-13)
        assert interval.high == pytest.approx(chi2.ppf(0.975, 2 * count + 2) / 2, rel=1e-13)
    for successes in range(1, 60):
        assert binomial_interval(successes, 60).low == pytest.approx(
            beta.ppf(0.025, successes, 61 - successes), rel=1e-12
        )
