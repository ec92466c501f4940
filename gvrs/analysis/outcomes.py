"""Outcome comparison: enrolled participants against matched people who were not enrolled.

The measure is the rate at which a person is involved in shootings (shot, or the shooter).
Each enrolled person is matched to the ``k`` not-enrolled people nearest in a matching score
(on simulator truth, the person's true risk), without replacement; each control takes its
match's enrolment date. The estimate is a ratio of rate ratios (difference in differences on
the log scale): (enrolled after / enrolled before) / (controls after / controls before), so
what matching leaves unbalanced in the level of risk cancels, and a citywide trend that
touches both groups cancels too. The interval is a percentile bootstrap over matched sets
(each enrolled person with their controls), which keeps people's heterogeneity in it.

This is an observational comparison, not a trial: it assumes enrolled people and their
controls would have followed the same trend without the program, and that the program does
not change its controls' rates (in the simulator it does: a shooter who spares an enrolled
member picks one of the same group, so controls in the same groups are shot more and the
estimate is pushed below the true effect).

Notes
-----
Matched difference-in-differences, Stuart (2010), "Matching methods for causal inference",
Statistical Science 25(1); bootstrap over matched sets, Austin & Small (2014), Statistics in
Medicine 33(24).

Examples
--------
>>> import pandas as pd
>>> people = pd.DataFrame({"person_id": [0, 1], "score": [2.0, 1.9],
...                        "enrolled_on": pd.to_datetime(["2022-01-01", None])})
>>> events = pd.DataFrame({"person_id": [0, 0, 1, 1, 1], "day": pd.to_datetime(
...     ["2021-03-01", "2023-03-01", "2021-05-01", "2023-01-01", "2023-06-01"])})
>>> r = matched_comparison(people, events, start="2020-01-01", end="2024-12-31", k=1,
...                        bootstrap=0)
>>> round(r.estimate, 2)
0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class MatchedComparison:
    estimate: float  # ratio of rate ratios (enrolled after/before over controls after/before)
    ci_low: float
    ci_high: float
    level: float
    enrolled: int
    controls: int
    enrolled_before: int  # events of enrolled people before their enrolment
    enrolled_after: int
    controls_before: int
    controls_after: int
    method: str = (
        "matched difference in differences of involvement rates (shot or shooting), "
        "percentile bootstrap over matched sets"
    )


def _counts(events: pd.DataFrame, persons: np.ndarray, dates: np.ndarray):
    """Events of each person before and on/after their date."""
    frame = pd.DataFrame({"person_id": persons, "cut": dates})
    joined = events.merge(frame, on="person_id", how="inner")
    after = joined["day"].to_numpy() >= joined["cut"].to_numpy()
    index = pd.Index(persons)
    before_n = joined[~after].groupby("person_id").size().reindex(index, fill_value=0)
    after_n = joined[after].groupby("person_id").size().reindex(index, fill_value=0)
    return before_n.to_numpy(), after_n.to_numpy()


def matched_comparison(
    people: pd.DataFrame,
    events: pd.DataFrame,
    *,
    start,
    end,
    k: int = 5,
    bootstrap: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> MatchedComparison:
    """Compare enrolled people with their ``k`` nearest not-enrolled matches.

    Parameters
    ----------
    people : DataFrame
        ``person_id``, ``score`` (what people are matched on) and ``enrolled_on``
        (NaT for people never enrolled).
    events : DataFrame
        ``person_id`` and ``day``: one row per shooting a person was involved in.
    start, end : date-like
        The period the events cover (both groups are followed over all of it).
    k : int
        Controls per enrolled person, matched without replacement, nearest score first.
    bootstrap : int
        Bootstrap resamples of matched sets for the interval (0: no interval).
    level : float
        Interval coverage.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    MatchedComparison
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    events = events[(events["day"] >= start) & (events["day"] <= end)]
    enrolled = people[people["enrolled_on"].notna()].sort_values("score", ascending=False)
    pool = people[people["enrolled_on"].isna()][["person_id", "score"]].to_numpy()
    available = np.ones(len(pool), dtype=bool)
    treated, controls, control_set, control_dates = [], [], [], []
    for position, row in enumerate(enrolled.itertuples()):
        distance = np.where(available, np.abs(pool[:, 1] - row.score), np.inf)
        nearest = np.argsort(distance, kind="stable")[:k]
        nearest = nearest[np.isfinite(distance[nearest])]
        available[nearest] = False
        treated.append(row.person_id)
        controls.extend(pool[nearest, 0].astype(int))
        control_set.extend([position] * len(nearest))
        control_dates.extend([row.enrolled_on] * len(nearest))
    dates = enrolled["enrolled_on"].to_numpy()
    e_before, e_after = _counts(events, np.array(treated, dtype=int), dates)
    c_before, c_after = _counts(
        events, np.array(controls, dtype=int), np.array(control_dates, dtype="datetime64[ns]")
    )
    n_sets = len(treated)
    sets = np.array(control_set, dtype=int)
    # Per matched set: the four counts, so that the bootstrap resamples whole sets.
    per_set = np.zeros((n_sets, 4))
    per_set[:, 0], per_set[:, 1] = e_before, e_after
    np.add.at(per_set[:, 2], sets, c_before)
    np.add.at(per_set[:, 3], sets, c_after)

    def ratio(totals: np.ndarray) -> np.ndarray:
        eb, ea, cb, ca = totals.T
        with np.errstate(divide="ignore", invalid="ignore"):
            return (ea / eb) / (ca / cb)

    estimate = float(ratio(per_set.sum(axis=0)[None, :])[0])
    low = high = float("nan")
    if bootstrap and n_sets:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, n_sets, size=(bootstrap, n_sets))
        totals = per_set[draws].sum(axis=1)
        values = ratio(totals)
        values = values[np.isfinite(values)]
        tail = (1 - level) / 2
        low, high = (float(v) for v in np.quantile(values, [tail, 1 - tail]))
    return MatchedComparison(
        estimate,
        low,
        high,
        level,
        n_sets,
        len(controls),
        int(e_before.sum()),
        int(e_after.sum()),
        int(c_before.sum()),
        int(c_after.sum()),
    )


def simulator_involvements(
    members: pd.DataFrame,
    participants: pd.DataFrame,
    events: pd.DataFrame,
    victims: pd.DataFrame,
    start,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """People (score: true risk) and involvements (shot or shooter) from the simulator's
    ``memberships.csv``, ``participants.csv``, ``events.csv`` and ``victims.csv``."""
    start = pd.Timestamp(start)
    day = start + pd.to_timedelta(events.set_index("event_id")["t"], unit="D")
    shot = victims[victims["person_id"] < len(members)]
    shot = pd.DataFrame(
        {"person_id": shot["person_id"], "day": day.loc[shot["event_id"]].to_numpy()}
    )
    shooters = events[events["suspect_person"] >= 0]
    shooting = pd.DataFrame(
        {"person_id": shooters["suspect_person"], "day": day.loc[shooters["event_id"]].to_numpy()}
    )
    enrolled = participants.set_index("person_id")["enrolled_on"]
    people = pd.DataFrame(
        {
            "person_id": members["person_id"],
            "score": members["risk"],
            "enrolled_on": pd.to_datetime(members["person_id"].map(enrolled)),
        }
    )
    return people, pd.concat([shot, shooting], ignore_index=True)
