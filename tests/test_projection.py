"""Year-end projection: sensible on steady data, calibrated on simulated seasonal data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gvrs.analysis.narrative import projection_sentence
from gvrs.analysis.projection import project_year_end


def seasonal_days(rng, years, base=0.12, amplitude=0.4):
    days = pd.date_range(f"{years[0]}-01-01", f"{years[-1]}-12-31")
    phase = 2 * np.pi * (days.day_of_year - 196) / 365.25  # summer peak in mid-July
    return pd.Series(rng.poisson(base * (1 + amplitude * np.cos(phase))), index=days)


def test_a_steady_one_a_day_series_projects_about_a_day_a_day():
    days = pd.date_range("2019-01-01", "2024-06-30")
    result = project_year_end(pd.Series(1, index=days), dt.date(2024, 6, 30))
    assert result.ytd_count == 182
    assert 340 < result.projected < 390
    assert result.low < result.projected < result.high
    assert result.prior_years == (2019, 2020, 2021, 2022, 2023)


def test_the_90_percent_interval_covers_the_real_total_about_90_percent_of_the_time():
    rng = np.random.default_rng(11)
    hits = trials = 0
    for _ in range(150):
        daily = seasonal_days(rng, list(range(2016, 2025)))
        as_of = dt.date(2024, int(rng.integers(2, 11)), 15)
        truth = int(daily.loc["2024"].sum())
        seen = daily.loc[: pd.Timestamp(as_of)]
        p = project_year_end(seen, as_of, draws=4000, seed=int(rng.integers(1e9)))
        hits += p.low <= truth <= p.high
        trials += 1
    coverage = hits / trials
    # 150 trials: 3 standard errors of a 90% proportion is about 0.07.
    assert 0.83 <= coverage <= 0.99


def overdispersed_days(rng, years, base=0.5):
    """Daily counts whose level moves from year to year (sd 25% on the log scale), whose
    second half of a year drifts from its first (sd 15%), whose summer peak varies, and
    whose days come in clusters (several people shot in one incident)."""
    out = []
    for y in years:
        days = pd.date_range(f"{y}-01-01", f"{y}-12-31")
        level = base * np.exp(rng.normal(0, 0.25))
        drift = np.where(days.month > 6, np.exp(rng.normal(0, 0.15)), 1.0)
        amplitude = rng.uniform(0.1, 0.6)
        phase = 2 * np.pi * (days.day_of_year - 196) / 365.25
        rate = level * drift * (1 + amplitude * np.cos(phase))
        incidents = rng.poisson(rate / 1.3)
        victims = incidents + rng.binomial(incidents, 0.3)  # about 1.3 victims an incident
        out.append(pd.Series(victims, index=days))
    return pd.concat(out)


def test_the_interval_holds_on_simulated_overdispersed_series():
    """The overdispersed model's 90% interval holds about 90% of the time where the level
    and the seasonal shares vary from year to year; the Poisson model's does not."""
    rng = np.random.default_rng(20261125)
    held = {"overdispersed": 0, "poisson": 0}
    trials = 160
    for _ in range(trials):
        n_prior = int(rng.integers(3, 9))
        years = list(range(2024 - n_prior, 2025))
        daily = overdispersed_days(rng, years)
        as_of = dt.date(2024, int(rng.integers(1, 12)), 28)
        truth = int(daily.loc["2024"].sum())
        seen = daily.loc[: pd.Timestamp(as_of)]
        seed = int(rng.integers(1e9))
        for model in held:
            p = project_year_end(seen, as_of, draws=3000, seed=seed, model=model)
            held[model] += p.low <= truth <= p.high
    # 160 trials: 3 standard errors of a 90% proportion is about 0.07.
    assert 0.83 <= held["overdispersed"] / trials <= 0.97
    assert held["poisson"] / trials < 0.80


def test_projection_is_reproducible_and_states_its_assumptions():
    rng = np.random.default_rng(2)
    daily = seasonal_days(rng, list(range(2018, 2024))).loc[:"2023-05-31"]
    a = project_year_end(daily, dt.date(2023, 5, 31), seed=5)
    b = project_year_end(daily, dt.date(2023, 5, 31), seed=5)
    assert a == b
    sentence = projection_sentence("Homicides", a)
    assert sentence.startswith(f"{a.ytd_count} homicides so far in 2023 (to 31 May)")
    assert "assumes 2023 follows the seasonal pattern of 2018–2022" in sentence
