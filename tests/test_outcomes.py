"""The outcome comparison on simulator truth: enrolled members against matched members not
enrolled, where the simulator's true effect on the rate they are shot and shoot is 0.6."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from gvrs.analysis.outcomes import matched_comparison, simulator_involvements
from gvrs.data.simulate import SCENARIOS, simulate


def _compare(effect: float, seed: int = 1):
    scenario = replace(SCENARIOS["bakersfield-like"], intervention_effect=effect)
    city = simulate(
        scenario, years=(2015, 2025), seed=seed, today=pd.Timestamp("2026-01-01").date()
    )
    people, events = simulator_involvements(
        city.people.members, city.people.participants, city.events, city.victims, city.start
    )
    return matched_comparison(people, events, start=city.start, end=city.end, k=5, seed=seed)


def test_the_interval_covers_the_true_effect_and_excludes_no_effect():
    result = _compare(0.6)
    assert result.enrolled == 100 and result.controls == 500
    assert result.ci_low < 0.6 < result.ci_high
    assert result.ci_high < 1.0


def test_without_an_effect_the_interval_covers_one():
    result = _compare(1.0)
    assert result.ci_low < 1.0 < result.ci_high


def test_a_hand_checked_case():
    people = pd.DataFrame(
        {
            "person_id": [0, 1, 2],
            "score": [2.0, 1.9, 0.1],
            "enrolled_on": pd.to_datetime(["2022-01-01", None, None]),
        }
    )
    events = pd.DataFrame(
        {
            "person_id": [0, 0, 0, 1, 1, 1, 2],
            "day": pd.to_datetime(
                [
                    "2021-03-01",
                    "2021-04-01",
                    "2023-03-01",
                    "2021-05-01",
                    "2023-01-01",
                    "2023-06-01",
                    "2023-07-01",
                ]
            ),
        }
    )
    result = matched_comparison(
        people, events, start="2020-01-01", end="2024-12-31", k=1, bootstrap=0
    )
    # enrolled 2 before, 1 after; its match (person 1, not person 2) 1 before, 2 after
    assert (result.enrolled_before, result.enrolled_after) == (2, 1)
    assert (result.controls_before, result.controls_after) == (1, 2)
    assert result.estimate == pytest.approx((1 / 2) / (2 / 1))
    assert np.isnan(result.ci_low)
