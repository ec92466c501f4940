"""The contagion model's second kernel, retaliation on the rival's turf: its candidate pairs,
its likelihood's curvature, and what it finds in the simulated county against the truth the
simulator records (which shootings were retaliation, and where)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gvrs.analysis.contagion import (
    Background,
    ContagionError,
    SpaceTimeTrigger,
    _time_bins,
    candidate_pairs,
    fit_contagion,
    log_likelihood,
    log_likelihood_derivatives,
)
from gvrs.analysis.contagion.retaliation import Triggers, TurfLinks, TurfTrigger, turf_pairs
from gvrs.data.simulate import SCENARIOS, simulate
from gvrs.data.simulate.contagion_truth import (
    contagion_truth,
    shooting_incidents,
    trigger_paths,
    turf_links,
)


def random_links(rng, n, areas=12):
    area = rng.integers(-1, areas, n)  # -1: an event whose area is not known
    targets = tuple(
        np.array(sorted(set(rng.integers(0, areas, rng.integers(0, 3)).tolist())), np.int64)
        for _ in range(n)
    )
    return TurfLinks(area, targets, rng.uniform(1e6, 3e6, areas))


def test_turf_pairs_are_every_parent_whose_targets_hold_the_child_within_the_lag():
    rng = np.random.default_rng(1)
    n = 600
    t = rng.integers(0, 300, n).astype(float)  # whole days: ties and lags of exactly 60
    links = random_links(rng, n)
    pairs = turf_pairs(t, links, 60.0)
    expected = {
        (j, i)
        for i in range(n)
        for j in range(n)
        if links.area[i] >= 0
        and 0 < t[i] - t[j] <= 60
        and links.area[i] in links.targets[j].tolist()
    }
    found = set(zip(pairs.parent.tolist(), pairs.child().tolist(), strict=True))
    assert found == expected
    np.testing.assert_allclose(pairs.lag_days, t[pairs.child()] - t[pairs.parent])
    sizes = np.array([links.area_m2[links.targets[j]].sum() for j in pairs.parent])
    np.testing.assert_allclose(pairs.density_per_m2, 1 / sizes)


def test_the_two_kernel_information_is_the_curvature_of_the_likelihood():
    """Analytic gradient and Hessian, cross terms between the kernels included, against
    central finite differences."""
    rng = np.random.default_rng(3)
    n = 500
    x, y = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n)
    t = np.sort(rng.uniform(0, 400, n))
    end = t.max() + 1e-9
    edges, bins = _time_bins(t, end, 30.0)
    background = Background(
        rng.uniform(1e-8, 3e-8, n), bins, np.diff(edges), rng.uniform(5, 15, len(edges) - 1)
    )
    space_time = SpaceTimeTrigger(
        candidate_pairs(x, y, t, 1000.0, 60.0), np.minimum(end - t, 60.0), 1000.0, 60.0
    )
    links = random_links(rng, n)
    kernel = Triggers((space_time, TurfTrigger.build(t, end, links, 60.0)), ("", "retaliation_"))
    params = (0.3, 0.12, 140.0, 0.25, 0.08)
    k = len(background.mass)

    def loglik(v):
        mass = replace(background, mass=np.exp(v[:k]))
        return log_likelihood(kernel, tuple(np.exp(v[k:])), mass)

    v0 = np.r_[np.log(background.mass), np.log(params)]
    gradient, hessian = log_likelihood_derivatives(kernel, params, background)
    h = 1e-4
    checked = [0, 5, k, k + 1, k + 2, k + 3, k + 4]
    for a in checked:
        ea = np.eye(len(v0))[a] * h
        assert gradient[a] == pytest.approx((loglik(v0 + ea) - loglik(v0 - ea)) / (2 * h), rel=1e-5)
        for b in checked:
            eb = np.eye(len(v0))[b] * h
            numeric = (
                loglik(v0 + ea + eb)
                - loglik(v0 + ea - eb)
                - loglik(v0 - ea + eb)
                + loglik(v0 - ea - eb)
            ) / (4 * h * h)
            assert hessian[a, b] == pytest.approx(numeric, rel=1e-3, abs=1e-3)


def test_turf_links_name_the_event_whose_area_has_no_size():
    with pytest.raises(ContagionError, match=r"event 1: target area 'Nowhere' has no size"):
        TurfLinks.from_names(["A", "B"], [[], ["Nowhere"]], {"A": 1e6, "B": 1e6})
    with pytest.raises(ContagionError, match="positive size"):
        TurfLinks.from_names(["A"], [[]], {"A": 0.0})
    with pytest.raises(ContagionError, match="valid: kernel, areas"):
        fit_contagion(np.zeros(30), np.zeros(30), np.arange(30.0), background_spatial="x")


def test_trigger_paths_follow_parents_through_shootings_not_selected():
    import pandas as pd

    events = pd.DataFrame(
        {
            "parent": [-1, 0, 1, 2, 0, 4, -1],
            "trigger": [
                "background",
                "near_repeat",
                "retaliation",
                "near_repeat",
                "retaliation",
                "retaliation",
                "background",
            ],
        }
    )
    selected = np.array([True, False, True, True, False, True, False])
    # 2 <- (1 not selected) <- 0: a near repeat then a retaliation: one retaliation link.
    # 3 <- 2: a near repeat. 5 <- (4) <- 0: two retaliations.
    paths, ancestor = trigger_paths(events, selected, with_ancestor=True)
    assert paths.tolist() == ["background", "retaliation", "near_repeat", "other"]
    assert ancestor.tolist() == [-1, 0, 1, 0]  # positions among the selected


def simulated(scenario="bakersfield-like", *, seed=2, hit_only=True, **changes):
    city = simulate(replace(SCENARIOS[scenario], **changes), years=(2015, 2025), seed=seed)
    selected = shooting_incidents(city, hit_only=hit_only)
    links = turf_links(city, selected)
    events = city.events[selected]
    xyt = (events["x"].to_numpy(), events["y"].to_numpy(), events["t"].to_numpy())
    return city, selected, links, xyt


def test_without_retaliation_the_turf_kernel_finds_none():
    """With a kernel density for the background the turf kernel stood in for the areas'
    levels (0.16-0.33 here); over a background by areas it finds what is there: nothing."""
    _, _, links, xyt = simulated(seed=1, hit_only=False, retaliation_ratio=0.0)
    fit = fit_contagion(*xyt, turf=links)
    assert fit.retaliation.branching_ratio < 0.03
    assert fit.branching_ratio == pytest.approx(0.15, abs=0.03)


def test_the_turf_kernel_recovers_retaliation_when_it_is_all_there_is():
    city, selected, links, xyt = simulated(seed=1, hit_only=False, near_repeat_ratio=0.0)
    truth = contagion_truth(city, selected, links)
    fit = fit_contagion(*xyt, turf=links)
    r = fit.retaliation
    assert r.intervals["branching_ratio"].low <= truth.retaliation_per_eligible
    assert truth.retaliation_per_eligible <= r.intervals["branching_ratio"].high
    assert 7 < r.decay_days < 14  # the simulator's mean delay is 10 days
    assert fit.branching_ratio < 0.02
    assert r.eligible_events == truth.eligible
    # Retaliatory shootings are told from the rest by their probability.
    paths = trigger_paths(city.events, selected)
    p = r.triggered_probability
    assert p[paths == "retaliation"].mean() > 3 * p[paths == "background"].mean()


def coverage(seeds, hit_only=True):
    """Per seed: does each 90% interval hold the realised truth it estimates?"""
    rows = []
    for seed in seeds:
        city, selected, links, xyt = simulated(seed=seed, hit_only=hit_only)
        truth = contagion_truth(city, selected, links)
        one = fit_contagion(*xyt)
        two = fit_contagion(*xyt, turf=links)

        def holds(interval, value):
            return interval.low <= value <= interval.high

        rows.append(
            {
                "one kernel: near repeats": holds(
                    one.intervals["branching_ratio"], truth.near_repeat_share
                ),
                "two kernels: near repeats": holds(
                    two.intervals["branching_ratio"], truth.near_repeat_share
                ),
                "two kernels: retaliation": holds(
                    two.retaliation.intervals["branching_ratio"], truth.retaliation_per_eligible
                ),
            }
        )
    return {k: sum(r[k] for r in rows) for k in rows[0]}


@pytest.mark.slow
def test_intervals_cover_the_component_each_claims_over_eight_seeds_of_the_demo_county():
    """The demo's scenario, recorded shooting incidents (the command's default metric).
    Measured over seeds 1-10: the single kernel's interval held the realised near-repeat
    share 10 times in 10, the turf kernel's the realised retaliation per shooting with a
    rival turf 10 in 10, and the space-time kernel beside it 8 in 10 (it reads 10-15% low
    over a background by areas; see docs/conflicts-and-alerts.md)."""
    held = coverage(range(1, 9))
    assert held["one kernel: near repeats"] >= 7, held
    assert held["two kernels: retaliation"] >= 7, held
    assert held["two kernels: near repeats"] >= 6, held


def test_the_retaliation_still_owed_is_counted_from_recent_shootings_on_their_rivals_turf():
    _, _, links, xyt = simulated(seed=1, hit_only=False, near_repeat_ratio=0.0)
    fit = fit_contagion(*xyt, turf=links)
    from gvrs.analysis.contagion.retaliation import expected_retaliation_by_area

    owed = expected_retaliation_by_area(fit, links, 14)
    r = fit.retaliation
    _, _, t_end = fit._profile
    age = t_end - fit._t
    # By hand: every shooting's share of theta still to come in the next 14 days, on its
    # rival's turf (one area each here).
    expected: dict[int, float] = {}
    for j, targets in enumerate(links.targets):
        if len(targets):
            w = r.branching_ratio * (
                np.exp(-age[j] / r.decay_days) - np.exp(-(age[j] + 14) / r.decay_days)
            )
            expected[int(targets[0])] = expected.get(int(targets[0]), 0.0) + w
    assert set(owed) <= set(expected)
    for a, v in expected.items():
        assert owed.get(a, 0.0) == pytest.approx(v, rel=1e-6, abs=1e-8)
    assert sum(owed.values()) > 0.01  # the last weeks' shootings still owe some
