"""The evaluation designs: known answers by hand and by brute force, the sentence rule, and
the simulator's truth on a few seeds (the 50-seed sweep is bench/evaluation_bench.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from gvrs.analysis.evaluation import (
    EvaluationError,
    difference_in_differences,
    interrupted_time_series,
    select_donors,
    synth_weights,
    synthetic_control,
)
from gvrs.analysis.evaluation._core import PlaceboOutcome, fit_quasi_poisson, verdict
from gvrs.data.simulate import SCENARIOS, simulate
from gvrs.data.simulate.output import write_city
from gvrs.data.simulate.tables import counts_by_town, populations_by_town

START = dt.date(2022, 1, 1)
MONTHS = pd.date_range("2015-01-01", "2025-12-01", freq="MS")


def planted_step(seed: int, ratio: float = 0.7) -> pd.Series:
    """Monthly counts with a season, a gentle decline and a step of ``ratio`` from START."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(MONTHS)) / 12
    mean = 30 * np.exp(-0.03 * t) * (1 + 0.3 * np.cos(2 * np.pi * (MONTHS.month - 7) / 12))
    mean = np.where(pd.Timestamp(START) <= MONTHS, mean * ratio, mean)
    return pd.Series(rng.poisson(mean), index=MONTHS)


def test_its_recovers_a_planted_step_of_0_7_within_its_interval():
    result = interrupted_time_series(planted_step(11), START, label="shootings")
    assert result.ci_low <= 0.7 <= result.ci_high
    assert abs(result.effect_ratio - 0.7) < 0.1
    assert result.ci_high < 1  # 30% on ~30 a month for four years is plainly visible
    assert result.method == "its" and result.resolution == "month"
    assert result.path["post"].sum() == 48 and len(result.path) == len(MONTHS)


def test_its_level_only_on_annual_counts_matches_the_closed_form():
    # Without trend or season terms beyond a constant slope of zero, a level-only model's
    # ratio is the ratio of the fitted means; check against a direct Poisson fit by scipy.
    years = pd.RangeIndex(2005, 2023)
    counts = pd.Series([50, 61, 55, 48, 52, 58, 49, 60, 57, 51, 54, 53, 36, 41, 38, 35, 40, 37])
    counts.index = years
    result = interrupted_time_series(counts, dt.date(2017, 1, 1), slope_change=False)
    t = years.to_numpy() - 2017 + 0.5
    post = (years >= 2017).astype(float)
    x = np.column_stack([np.ones(len(t)), t, post])
    y = counts.to_numpy(float)

    def negloglik(b):
        eta = x @ b
        return float(np.exp(eta).sum() - y @ eta)

    brute = optimize.minimize(negloglik, np.array([np.log(50), 0, 0]), method="BFGS").x
    assert result.effect_ratio == pytest.approx(np.exp(brute[2]), rel=1e-4)


def test_quasi_poisson_matches_a_brute_force_fit_and_scales_by_the_pearson_dispersion():
    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(200), rng.normal(size=200)])
    y = rng.negative_binomial(5, 5 / (5 + np.exp(2 + 0.4 * x[:, 1])))
    fit = fit_quasi_poisson(x, y)

    def negloglik(b):
        eta = x @ b
        return float(np.exp(eta).sum() - y @ eta)

    brute = optimize.minimize(negloglik, np.zeros(2), method="BFGS").x
    np.testing.assert_allclose(fit.beta, brute, rtol=1e-4)
    mu = np.exp(x @ brute)
    pearson = ((y - mu) ** 2 / mu).sum() / (200 - 2)
    assert fit.dispersion == pytest.approx(pearson, rel=1e-3)
    assert fit.dispersion > 1.5  # negative binomial counts are overdispersed
    naive = np.linalg.inv((x * mu[:, None]).T @ x)
    np.testing.assert_allclose(fit.cov, naive * pearson, rtol=1e-3)


def test_donor_weights_equal_the_hand_solution():
    # Target inside the donors' hull: the blend itself.
    donors = np.array([[10.0, 20.0, 40.0], [12.0, 18.0, 30.0], [14.0, 22.0, 26.0]])
    np.testing.assert_allclose(
        synth_weights(donors @ [0.5, 0.3, 0.2], donors), [0.5, 0.3, 0.2], atol=1e-6
    )
    # Target outside the segment between two donors: by hand, w* = clip(((b - a2).(a1 - a2))
    # / |a1 - a2|^2, 0, 1) for weights (w*, 1 - w*).
    a1, a2, b = np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0, 2.0]), np.array([2.0, 2.0, 1.0])
    d = a1 - a2
    hand = np.clip((b - a2) @ d / (d @ d), 0, 1)  # (−1,1,−1)·(−2,1,1)/6 = 2/6
    assert hand == pytest.approx(1 / 3)
    np.testing.assert_allclose(
        synth_weights(b, np.column_stack([a1, a2])), [hand, 1 - hand], atol=1e-6
    )
    # A target beyond every donor puts all the weight on the nearest one.
    np.testing.assert_allclose(
        synth_weights(a1 * 2, np.column_stack([a1, a2])), [1.0, 0.0], atol=1e-6
    )


def shared_shock_table(seed: int, effect: float, pre_trend: float = 0.0) -> pd.DataFrame:
    """Annual counts of six places sharing year shocks; place A gets ``effect`` from 2018 and,
    optionally, a trend of its own before it."""
    rng = np.random.default_rng(seed)
    years = pd.RangeIndex(2004, 2024)
    shock = np.exp(rng.normal(0, 0.15, len(years)))[:, None]
    rate = shock * np.array([300.0, 250, 200, 350, 280, 320])
    rate[:, 0] *= np.exp(pre_trend * np.minimum(years.to_numpy() - 2018, 0))
    rate[years >= 2018, 0] *= effect
    return pd.DataFrame(rng.poisson(rate), index=years, columns=list("ABCDEF"))


def test_did_recovers_the_effect_despite_shared_shocks_that_fool_its():
    table = shared_shock_table(5, 0.7)
    did = difference_in_differences(table, "A", dt.date(2018, 1, 1), label="homicides")
    assert did.ci_low <= 0.7 <= did.ci_high
    assert abs(did.effect_ratio - 0.7) < 0.06
    study = did.details["event_study"]
    assert -1 not in set(study["years_from_start"])  # the reference year
    leads = study[study["years_from_start"] < 0]
    assert ((leads["low"] <= 1) & (leads["high"] >= 1)).mean() >= 0.8
    assert did.pre_trend_p > 0.1
    assert did.placebo_count == 5 and did.placebo_rank == 1


def test_did_pre_trend_test_catches_a_treated_place_already_diverging():
    table = shared_shock_table(5, 1.0, pre_trend=0.08)
    did = difference_in_differences(table, "A", dt.date(2018, 1, 1))
    assert did.pre_trend_p < 0.01


def test_synthetic_control_recovers_the_effect_and_shows_its_weights():
    table = shared_shock_table(8, 0.7)
    result = synthetic_control(table, "A", dt.date(2018, 1, 1))
    assert result.ci_low <= 0.7 <= result.ci_high
    weights = result.details["weights"]
    assert set(weights) == set("BCDEF") and sum(weights.values()) == pytest.approx(1)
    assert result.placebo_count == 5 and len(result.details["in_space_placebos"]) == 5
    assert result.details["in_time_placebos"]


def test_donor_selection_filters_by_size_and_pre_period_path():
    table = shared_shock_table(2, 1.0)
    table["tiny"] = 3
    table["giant"] = table["A"] * 10
    pool = select_donors(table, "A", dt.date(2018, 1, 1), max_donors=3)
    assert "tiny" in pool.excluded and "giant" in pool.excluded
    assert "size" in pool.excluded["giant"]
    assert len(pool.donors) == 3 and set(pool.donors) <= set("BCDEF")
    assert sum("further" in reason for reason in pool.excluded.values()) == 2


def test_bad_tables_are_refused_with_a_reason():
    table = shared_shock_table(1, 1.0).astype(float)
    with pytest.raises(EvaluationError, match="periods before 2006-01-01; this design needs"):
        interrupted_time_series(table["A"], dt.date(2006, 1, 1))
    with pytest.raises(EvaluationError, match="no data from the start date"):
        interrupted_time_series(table["A"], dt.date(2030, 1, 1))
    gappy = table.copy()
    gappy.iloc[3, 2] = np.nan
    with pytest.raises(EvaluationError, match="gaps"):
        difference_in_differences(gappy, "A", dt.date(2018, 1, 1))
    with pytest.raises(EvaluationError, match="'Z' is not a column"):
        synthetic_control(table, "Z", dt.date(2018, 1, 1))
    with pytest.raises(EvaluationError, match="integer years or by the first day"):
        interrupted_time_series(pd.Series([1, 2], index=["a", "b"]), START)


@pytest.mark.parametrize(
    ("low", "high", "rank", "count", "p", "outcome", "claims", "fragment"),
    [
        (0.6, 0.8, 1, 19, 0.05, None, True, "Consistent with an effect of −30%"),
        (0.6, 1.1, 1, 19, 0.05, None, False, "the interval includes no effect"),
        (0.6, 0.8, 5, 19, 0.25, None, False, "placebos do not single it out"),
        (0.6, 0.8, 1, 5, 1 / 6, None, False, "too few placebos (5)"),
        (
            0.6,
            0.8,
            1,
            19,
            0.05,
            PlaceboOutcome("violent crime other than homicide", 0.72, 0.65, 0.8),
            False,
            "violent crime other than homicide moved the same way",
        ),
        (
            0.6,
            0.8,
            1,
            19,
            0.05,
            PlaceboOutcome("violent crime other than homicide", 1.0, 0.9, 1.1),
            True,
            "Consistent with an effect",
        ),
    ],
)
def test_the_sentence_claims_an_effect_only_when_interval_and_placebos_agree(
    low, high, rank, count, p, outcome, claims, fragment
):
    said, sentence = verdict(
        label="homicides",
        place="Bakersfield",
        effect_ratio=0.7,
        ci_low=low,
        ci_high=high,
        level=0.9,
        placebo_rank=rank,
        placebo_count=count,
        placebo_p=p,
        placebo_kind="in-space",
        placebo_outcome=outcome,
    )
    assert said is claims
    assert fragment in sentence
    if not claims:
        assert sentence.startswith("No evidence either way from this data")


# --- Simulator truth ------------------------------------------------------------------------


def evaluation_county(seed: int, effect: float):
    scenario = replace(SCENARIOS["evaluation"], citywide_effect=effect)
    city = simulate(scenario, years=(2015, 2025), seed=seed, today=dt.date(2026, 1, 1))
    counts = counts_by_town(city)
    return counts, populations_by_town(city, counts.index)


def all_three(counts, people):
    treated = "Treated City"
    return [
        interrupted_time_series(counts[treated], START, populations=people[treated]),
        difference_in_differences(counts, treated, START, populations=people),
        synthetic_control(counts, treated, START, populations=people),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_method_covers_the_simulated_citywide_effect(seed):
    counts, people = evaluation_county(seed, 0.7)
    for result in all_three(counts, people):
        assert result.ci_low <= 0.7 <= result.ci_high, (result.method, result.sentence)
        assert result.ci_high < 1.05, result.method


@pytest.mark.parametrize("seed", [1, 2])
def test_no_method_claims_an_effect_the_simulator_did_not_plant(seed):
    counts, people = evaluation_county(seed, 1.0)
    for result in all_three(counts, people):
        assert result.ci_low <= 1.0 <= result.ci_high, result.method
        assert not result.claims_effect
        assert result.sentence.startswith("No evidence either way from this data")


def test_the_evaluation_scenario_plants_its_effect_in_the_treated_city_only():
    with_effect, _ = evaluation_county(4, 0.7)
    without, _ = evaluation_county(4, 1.0)
    after = with_effect.index >= pd.Timestamp(START)

    def change(table, columns):
        return (
            table.loc[after, columns].to_numpy().sum() / table.loc[~after, columns].to_numpy().sum()
        )

    treated = change(with_effect, ["Treated City"]) / change(without, ["Treated City"])
    assert treated == pytest.approx(0.7, abs=0.06)
    others = [c for c in with_effect.columns if c != "Treated City"]
    assert change(with_effect, others) / change(without, others) == pytest.approx(1, abs=0.04)


# The older scenarios' files, byte for byte, as before the evaluation scenario was added, but
# for the line ends: every CSV gvrs writes now ends its rows in CRLF (RFC 4180, the one CSV
# writer), so the digest is taken over the text with CRLF read as LF.
PINNED = {
    "small-town": "1fd5dd8626da7e6ab61cdd4406c6103d02e982d8ee00e0dca01bf4995eee9d9b",
    "bakersfield-like": "cdac43280cc564fc800920dbe0d033527eb71262fb0c3bdbf80cc8b030db9a71",
    "stockton-like": "bdefe26676435a6c9b7a2fb15f5e265e7cb522c49f02820ccc536385019d3e86",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_existing_scenarios_write_the_same_bytes_as_before(tmp_path, name):
    city = simulate(name, years=(2019, 2023), seed=3, today=dt.date(2026, 1, 1))
    paths = write_city(city, tmp_path)
    digest = hashlib.sha256()
    for key in sorted(paths):
        digest.update(paths[key].read_bytes().replace(b"\r\n", b"\n"))
    assert digest.hexdigest() == PINNED[name]
    assert "citywide_effect" not in json.loads(paths["truth.json"].read_text())["scenario"]
