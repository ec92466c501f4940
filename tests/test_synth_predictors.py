"""The synthetic control's optimisations at any scale, its predictors (Abadie, Diamond &
Hainmueller 2010) and its honesty on short series: checked against independent solvers and
brute force on the real Proposition 99 panel and on small cases made by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from gvrs.analysis.evaluation import difference_in_differences, synth_weights, synthetic_control
from gvrs.analysis.evaluation.weights import predictor_weights, scale_predictors
from tests.conftest import SHARED_DATA, require

BENCHMARKS = SHARED_DATA / "causal-benchmarks"
PROP99 = BENCHMARKS / "california_prop99.csv.gz"
SMOKING = BENCHMARKS / "smoking.csv.gz"


@pytest.fixture(scope="module")
def prop99_pre() -> pd.DataFrame:
    """Packs per person, 1970-1988, a column per state, as published (unscaled)."""
    frame = pd.read_csv(require(PROP99), sep=";")
    wide = frame.pivot(index="Year", columns="State", values="PacksPerCapita")
    return wide.loc[:1988]


def test_synth_weights_on_unscaled_levels_equal_the_scaled_fit(prop99_pre):
    target = prop99_pre["California"].to_numpy()
    donors = prop99_pre.drop(columns="California").to_numpy()
    levels = synth_weights(target, donors)
    scaled = synth_weights(target / 1000, donors / 1000)
    np.testing.assert_allclose(levels, scaled, atol=1e-10)
    rmse = np.sqrt(np.mean((target - donors @ levels) ** 2))
    # The optimum, not equal weights (pre-period RMSE 16.0 packs with equal weights).
    equal = np.sqrt(np.mean((target - donors.mean(axis=1)) ** 2))
    assert equal > 15 and rmse < 1.7
    # An independent solver on the scaled problem (SLSQP, where it works) finds no better.
    scale = donors.std()
    gram, linear = (donors / scale).T @ (donors / scale), (donors / scale).T @ (target / scale)
    n = donors.shape[1]
    reference = optimize.minimize(
        lambda w: w @ gram @ w - 2 * linear @ w,
        np.full(n, 1 / n),
        jac=lambda w: 2 * (gram @ w - linear),
        method="SLSQP",
        bounds=[(0, 1)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        options={"ftol": 1e-15, "maxiter": 2000},
    ).x
    assert rmse <= np.sqrt(np.mean((target - donors @ reference) ** 2)) + 1e-9
    assert levels.min() >= 0 and levels.sum() == pytest.approx(1)


@pytest.mark.parametrize("seed", range(6))
def test_synth_weights_equal_scipy_nnls_on_random_problems_at_any_scale(seed):
    rng = np.random.default_rng(seed)
    donors = rng.normal(size=(15, 25)) * 10.0 ** rng.uniform(-4, 6)
    target = donors @ rng.dirichlet(np.ones(25)) + rng.normal(size=15) * donors.std() * 0.3
    w = synth_weights(target, donors)
    # Reference: scipy's own NNLS on the same reduction.
    a = (target[:, None] - donors) / np.abs(target[:, None] - donors).max()
    u, _ = optimize.nnls(np.vstack([a, np.ones(25)]), np.r_[np.zeros(15), 1.0], maxiter=5000)
    np.testing.assert_allclose(
        np.linalg.norm(target - donors @ w), np.linalg.norm(target - donors @ (u / u.sum()))
    )


@pytest.fixture(scope="module")
def smoking() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's seven predictors (their Table 1 windows) and the pre-period outcome."""
    frame = pd.read_csv(require(SMOKING))
    frame["year"] = frame["year"].astype(int)
    places = ["California", *sorted(set(frame["state"]) - {"California"})]

    def mean(column, first, last):
        rows = frame[frame["year"].between(first, last)]
        return rows.groupby("state")[column].mean().reindex(places)

    x = pd.DataFrame(
        {
            "lnincome": mean("lnincome", 1980, 1988),
            "age15to24": mean("age15to24", 1980, 1988),
            "retprice": mean("retprice", 1980, 1988),
            "beer": mean("beer", 1984, 1988),
            "cigsale 1975": mean("cigsale", 1975, 1975),
            "cigsale 1980": mean("cigsale", 1980, 1980),
            "cigsale 1988": mean("cigsale", 1988, 1988),
        }
    ).T
    z = frame[frame["year"] < 1989].pivot(index="year", columns="state", values="cigsale")
    return x, z[places]


PAPER = {"Utah": 0.334, "Nevada": 0.234, "Montana": 0.199, "Colorado": 0.164, "Connecticut": 0.069}


def test_nested_fit_finds_the_papers_donors_and_beats_a_random_search(smoking):
    x, z = smoking
    fit = predictor_weights(x.to_numpy(), z.to_numpy())
    weights = pd.Series(fit.weights, index=x.columns[1:])
    for state, published in PAPER.items():
        assert weights[state] == pytest.approx(published, abs=0.05), state
    assert weights.drop(list(PAPER)).max() < 0.01
    # Brute force: 3,000 random importances (independent of the search) do no better.
    scaled = scale_predictors(x.to_numpy())
    z1, z0 = z.to_numpy()[:, 0], z.to_numpy()[:, 1:]
    rng = np.random.default_rng(1)
    best_random = min(
        np.mean((z1 - z0 @ synth_weights(scaled[:, 0], scaled[:, 1:], v)) ** 2)
        for v in rng.dirichlet(np.full(7, 0.3), size=3000)
    )
    assert fit.outcome_mse <= best_random + 1e-9
    # The published blend's own pre-period error is no better than ours.
    published = pd.Series(0.0, index=x.columns[1:])
    published[list(PAPER)] = list(PAPER.values())
    assert fit.outcome_mse <= np.mean((z1 - z0 @ published.to_numpy()) ** 2)


def annual_table(seed: int, places: int, years: range, effect: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.RangeIndex(years.start, years.stop)
    shock = np.exp(rng.normal(0, 0.1, len(index)))[:, None]
    rate = shock * rng.uniform(80, 400, places)
    table = pd.DataFrame(rng.poisson(rate), index=index, columns=[f"P{i}" for i in range(places)])
    return table


def test_a_fit_too_good_for_its_pre_periods_is_named_in_the_sentence_and_assumptions():
    # Six pre-years and 39 donors: the place lies inside their hull, and a blend of a few
    # passes within a fraction of the counts' noise of every pre-period point.
    table = annual_table(2, 40, range(2011, 2021))
    result = synthetic_control(table, "P0", dt.date(2017, 1, 1))
    assert result.details["fit_too_good"]
    assert result.pre_fit < 0.01
    assert "too good for 6 pre-periods and 39 donors" in result.sentence
    assert "noise" in result.sentence
    assert not result.claims_effect
    assert any(a.startswith("Caution: the pre-period fit") for a in result.assumptions)
    # Twenty pre-years and five donors: an honest fit, nothing said.
    honest = synthetic_control(annual_table(3, 6, range(1997, 2021)), "P0", dt.date(2017, 1, 1))
    assert honest.details["fit_too_good"] is None
    assert "too good" not in honest.sentence


def test_a_short_series_gets_a_finite_conformal_interval_or_says_why_not():
    # Eleven annual periods at 95%: eleven cyclic shifts cannot reach p < 0.05, so the iid
    # permutations (C(11, 4) = 330) are used and the interval is finite, not "0.00-inf".
    table = annual_table(4, 8, range(2010, 2021), effect=1.0)
    table.loc[2017:, "P0"] = (table.loc[2017:, "P0"] * 0.6).round()
    result = synthetic_control(table, "P0", dt.date(2017, 1, 1), level=0.95)
    assert result.details["conformal"] == "iid"
    assert 0 < result.ci_low < result.effect_ratio < result.ci_high < np.inf
    # Six periods with one after the start: six orderings, never below p = 1/6.
    tiny = annual_table(5, 8, range(2015, 2021))
    short = synthetic_control(tiny, "P0", dt.date(2020, 1, 1), level=0.9)
    assert np.isnan(short.ci_low) and np.isnan(short.ci_high)
    assert "6 periods are too few for a conformal interval at the 90% level" in short.sentence
    assert not short.claims_effect


def test_a_mid_year_start_keeps_the_last_whole_year_before_it_as_the_reference():
    table = annual_table(6, 6, range(2008, 2024))
    result = difference_in_differences(table, "P0", dt.date(2018, 10, 1))
    study = result.details["event_study"]
    years = list(study["years_from_start"])
    # 2018 straddles the start and is left out; 2017 is -1 (the reference), 2019 is 0.
    assert years == [*range(-10, -1), *range(0, 5)]
    assert result.details["event_study_reference"] == "2017, the last year before the start"
    monthly = pd.date_range("2016-01-01", "2021-12-01", freq="MS")
    rng = np.random.default_rng(2)
    months = pd.DataFrame(rng.poisson(40, (len(monthly), 4)), index=monthly, columns=list("ABCD"))
    result = difference_in_differences(months, "A", dt.date(2019, 7, 15))
    assert result.details["event_study_reference"] == (
        "2018-07 to 2019-06, the last 12 months before the start"
    )
