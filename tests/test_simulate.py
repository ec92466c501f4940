"""The synthetic city: realised statistics match the parameters that generated them (within
sampling error), the same seed gives the same bytes, and its CSV imports cleanly."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from gvrs.data.simulate import SCENARIOS, simulate
from gvrs.data.simulate.output import FILES, write_city


@pytest.fixture(scope="module")
def city():
    """A large run: four Bakersfields over eleven years, partners enrolling 700 members."""
    scenario = dataclasses.replace(SCENARIOS["bakersfield-like"], partner_capacity=(400, 300))
    return simulate(
        scenario, years=(2015, 2025), seed=7, size=4, today=pd.Timestamp("2026-11-24").date()
    )


def within(observed: float, expected: float, se: float, k: float = 4.0) -> bool:
    return abs(observed - expected) <= k * se


def shootings_before_the_end(city, margin_days: float = 60.0) -> pd.DataFrame:
    """Shootings whose triggered children could all have happened before the data end."""
    ev = city.events
    return ev[(ev["trigger"] != "officer_involved") & (ev["t"] < ev["t"].max() - margin_days)]


def offspring(city, parents: pd.DataFrame, trigger: str) -> pd.Series:
    kids = city.events[city.events["trigger"] == trigger]
    return kids["parent"].value_counts().reindex(parents["event_id"], fill_value=0)


def test_branching_ratio_is_recovered_from_the_parent_links(city):
    s = city.scenario
    parents = shootings_before_the_end(city)
    untreated = parents[parents["near_repeat_mean"] == s.near_repeat_ratio]
    near = offspring(city, untreated, "near_repeat")
    assert within(near.mean(), s.near_repeat_ratio, np.sqrt(s.near_repeat_ratio / len(near)))
    group = untreated[untreated["group_involved"]]
    back = offspring(city, group, "retaliation")
    assert within(back.mean(), s.retaliation_ratio, np.sqrt(s.retaliation_ratio / len(back)))
    # Shootings not involving groups never trigger retaliation.
    assert offspring(city, untreated[~untreated["group_involved"]], "retaliation").sum() == 0


def test_triggered_shootings_follow_their_parents_in_time_and_space(city):
    ev = city.events.set_index("event_id")
    near = ev[ev["trigger"] == "near_repeat"]
    parent = ev.loc[near["parent"]]
    delay = near["t"].to_numpy() - parent["t"].to_numpy()
    assert (delay > 0).all()
    s = city.scenario
    assert within(delay.mean(), s.decay_days, s.decay_days / np.sqrt(len(delay)))
    distance = np.hypot(
        near["x"].to_numpy() - parent["x"].to_numpy(), near["y"].to_numpy() - parent["y"].to_numpy()
    )
    # Rayleigh distance of a 2-D Gaussian: median sigma * sqrt(2 ln 2), a little less at edges.
    assert (
        0.85 * s.spatial_scale_m * 1.1774 < np.median(distance) < 1.1 * s.spatial_scale_m * 1.1774
    )


def test_lethality_share(city):
    victims = city.victims.merge(city.events[["event_id", "trigger"]], on="event_id")
    shot = victims[victims["trigger"] != "officer_involved"]
    p = city.scenario.lethality
    assert within(shot["killed"].mean(), p, np.sqrt(p * (1 - p) / len(shot)))


def test_seasonal_amplitude_peaks_in_summer(city):
    s = city.scenario
    background = city.events[city.events["trigger"] == "background"]
    day = pd.Timestamp(city.start) + pd.to_timedelta(np.floor(background["t"]), unit="D")
    theta = 2 * np.pi * (day.dt.day_of_year - s.season_peak_day) / 365.25
    # For a rate proportional to 1 + a cos(theta), the mean of cos(theta) over events is a / 2.
    estimate = 2 * np.cos(theta).mean()
    assert within(estimate, s.season_amplitude, np.sqrt(2 / len(background)))


def test_group_involved_share_true_and_recorded(city):
    s = city.scenario
    background = city.events[city.events["trigger"] == "background"]
    p = s.background_group_share
    assert within(background["group_involved"].mean(), p, np.sqrt(p * (1 - p) / len(background)))
    recorded = city.incident_rows.drop_duplicates("source_id")["group_involvement"]
    q = s.recorded_unknown_share
    assert within((recorded == "unknown").mean(), q, np.sqrt(q * (1 - q) / len(recorded)))
    share = len(city.people.members) / sum(t.population for t in s.towns)
    assert share < 0.01  # well under 1% of residents in groups


def test_enrolled_members_are_victimised_less_than_matched_members(city):
    s, members, participants = city.scenario, city.people.members, city.people.participants
    settled = (
        pd.Timestamp(s.strategy_start) - pd.Timestamp(city.start)
    ).days + s.enrolment_window_days
    victims = city.victims.merge(city.events[["event_id", "t"]], on="event_id")
    after = victims[(victims["group_id"] >= 0) & (victims["t"] >= settled)]
    counts = after["person_id"].value_counts().reindex(members["person_id"], fill_value=0)
    risk = members.set_index("person_id")["risk"]
    enrolled = participants["person_id"]
    # Matched comparison: the next-highest-risk members the partners had no room for.
    ranked = members.sort_values("risk", ascending=False)
    matched = ranked[~ranked["person_id"].isin(enrolled)].head(len(enrolled))["person_id"]
    rate_enrolled = counts[enrolled].sum() / risk[enrolled].sum()
    rate_matched = counts[matched].sum() / risk[matched].sum()
    ratio = rate_enrolled / rate_matched
    se_log = np.sqrt(1 / counts[enrolled].sum() + 1 / counts[matched].sum())
    assert abs(np.log(ratio) - np.log(s.intervention_effect)) < 3 * se_log


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    def digest(seed: int, folder: str) -> dict[str, str]:
        city = simulate("small-town", years=(2019, 2023), seed=seed)
        paths = write_city(city, tmp_path / folder)
        return {name: hashlib.sha256(paths[name].read_bytes()).hexdigest() for name in FILES}

    first, again, other = digest(5, "a"), digest(5, "b"), digest(6, "c")
    assert first == again
    assert first["incidents.csv"] != other["incidents.csv"]
    truth = json.loads((tmp_path / "a" / "truth.json").read_text())
    assert truth["scenario"]["intervention_effect"] == 0.6 and truth["seed"] == 5


def test_bakersfield_like_has_about_40_to_60_homicides_a_year_before_the_strategy():
    city = simulate("bakersfield-like", years=(2015, 2021), seed=2)
    rows = city.incident_rows
    town = rows[rows["jurisdiction"].str.endswith("> Bakersfield-like")]
    per_year = town.groupby(town["occurred_at"].str[:4])["killed"].sum()
    assert 35 <= per_year.mean() <= 65


def test_nothing_is_simulated_in_the_future():
    city = simulate(
        "small-town", years=(2024, 2030), seed=1, today=pd.Timestamp("2026-11-24").date()
    )
    assert city.incident_rows["occurred_at"].max() < "2026-11-24"


def test_unknown_scenarios_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown scenario 'fresno'; valid: bakersfield-like"):
        simulate("fresno")


@pytest.mark.django_db
def test_the_simulated_csv_imports_with_zero_rejects(tmp_path):
    from gvrs.data.mapping import load_format
    from gvrs.incidents.importing import import_file
    from gvrs.incidents.models import Incident, Jurisdiction

    city = simulate("bakersfield-like", years=(2020, 2022), seed=4)
    paths = write_city(city, tmp_path)
    report = import_file(paths["incidents.csv"], load_format("gvrs"))
    assert report.ok and report.run.rows_rejected == 0
    assert Incident.objects.count() == len(city.events)
    assert Jurisdiction.objects.get(name="Bakersfield-like").parent.name == "Kern-like County"
    killed = sum(Incident.objects.values_list("killed", flat=True))
    assert killed == int(city.victims["killed"].sum())
