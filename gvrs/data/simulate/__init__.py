"""A seeded synthetic county: shootings, groups, retaliation and intervention, with its truth.

Real incident files are public only in aggregate; who belongs to which group, who retaliated
against whom and which participants a partner serves are confidential. The simulator makes all
of it up, deterministically from a seed, with the generating parameters written beside the
data, so that every analysis can be demonstrated and checked against a known answer.

>>> city = simulate("small-town", years=(2020, 2021), seed=1)
>>> sorted(city.incident_rows.columns)[:3]
['area', 'circumstance', 'group_involvement']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gvrs.data.schema import CSV_COLUMNS
from gvrs.data.simulate.geography import Geography, build_geography, to_wgs84
from gvrs.data.simulate.people import People, build_people
from gvrs.data.simulate.process import NONE, RACE_SHARES, RACES, simulate_events
from gvrs.data.simulate.scenarios import SCENARIOS, Scenario

__all__ = ["SCENARIOS", "Scenario", "SimulatedCity", "simulate"]

_CIRCUMSTANCES = np.array(["personal_dispute", "domestic", "robbery", "other", "unknown"])
_CIRCUMSTANCE_SHARES = np.array([0.35, 0.10, 0.15, 0.10, 0.30])


@dataclass(frozen=True)
class SimulatedCity:
    scenario: Scenario
    seed: int
    start: dt.date
    end: dt.date
    geography: Geography
    people: People
    events: pd.DataFrame  # one row per shooting: the truth, with parent links
    victims: pd.DataFrame  # one row per person shot
    incident_rows: pd.DataFrame  # the canonical CSV (--format gvrs)
    populations: pd.DataFrame  # jurisdiction, year, population

    def truth(self) -> dict:
        """The generating parameters and what the run realised, for truth.json."""
        events = self.events
        shootings = events[events["trigger"] != "officer_involved"]
        children = events.loc[events["parent"] != NONE, "parent"].value_counts()
        offspring = children.reindex(shootings["event_id"], fill_value=0)
        return {
            "scenario": self.scenario.to_dict(),
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "county": self.scenario.county,
            "towns": [t.name for t in self.scenario.towns],
            "realised": {
                "incidents": len(events),
                "people_shot": len(self.victims),
                "killed": int(self.victims["killed"].sum()),
                "triggered_share": float((shootings["parent"] != NONE).mean()),
                "mean_offspring": float(offspring.mean()),
                "group_involved_share": float(shootings["group_involved"].mean()),
                "groups": len(self.people.groups),
                "group_members": len(self.people.members),
                "participants": len(self.people.participants),
            },
        }


def simulate(
    scenario: str | Scenario,
    *,
    years: tuple[int, int] = (2015, 2025),
    seed: int = 0,
    size: float = 1.0,
    today: dt.date | None = None,
) -> SimulatedCity:
    """Simulate ``scenario`` over whole ``years`` (inclusive), never past ``today``.

    Parameters
    ----------
    scenario : str or Scenario
        A preset name (``bakersfield-like``, ``stockton-like``, ``small-town``) or your own.
    years : (int, int)
        First and last year.
    seed : int
        Everything is drawn from ``numpy.random.default_rng(seed)``: same seed, same city.
    size : float
        Multiplies every town's residents (and so, about, the events).
    """
    if isinstance(scenario, str):
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; valid: {', '.join(SCENARIOS)}")
        scenario = SCENARIOS[scenario]
    if size != 1.0:
        scenario = scenario.scaled(size)
    first, last = years
    if last < first:
        raise ValueError(f"years {first}..{last} end before they start")
    today = today or dt.date.today()
    start = dt.date(first, 1, 1)
    end = min(dt.date(last, 12, 31), today - dt.timedelta(days=1))
    if end < start:
        raise ValueError(f"{first}..{last} is entirely in the future")
    if not start <= scenario.strategy_start <= end:
        scenario = replace(scenario, strategy_start=start + (end - start) / 2)
    rng = np.random.default_rng(seed)
    geography = build_geography(scenario, rng)
    people = build_people(scenario, geography, rng, start)
    events = simulate_events(scenario, geography, people, start, end, rng)
    victims = _victims(events, people, scenario, rng)
    events = _with_suspects(events, people, rng)
    rows = _incident_rows(events, victims, geography, scenario, seed, start, rng)
    populations = _populations(scenario, first, end.year)
    return SimulatedCity(
        scenario, seed, start, end, geography, people, events, victims, rows, populations
    )


def _with_suspects(events: pd.DataFrame, people: People, rng) -> pd.DataFrame:
    """Age and sex of each shooting's suspect: a member's own, or drawn for someone outside
    the groups (younger and more often male than victims, as case files show)."""
    n = len(events)
    suspect = events["suspect_person"].to_numpy()
    is_member = suspect != NONE
    age = rng.normal(24, 7, size=n).clip(12, 70).round().astype(int)
    sex = np.where(rng.random(n) < 0.92, "male", "female")
    members = people.members.set_index("person_id")
    age[is_member] = members.loc[suspect[is_member], "age"].to_numpy()
    sex[is_member] = members.loc[suspect[is_member], "sex"].to_numpy()
    return events.assign(suspect_age=age, suspect_sex=sex)


def _victims(events: pd.DataFrame, people: People, scenario: Scenario, rng) -> pd.DataFrame:
    """One row per person shot: the first victim of a group-involved shooting is a member of
    the victim group; the others are people outside groups."""
    n_hit = events["n_hit"].to_numpy()
    event_id = np.repeat(events["event_id"].to_numpy(), n_hit)
    first = np.r_[True, event_id[1:] != event_id[:-1]] if len(event_id) else np.zeros(0, bool)
    member = np.where(first, np.repeat(events["victim_person"].to_numpy(), n_hit), NONE)
    n = len(event_id)
    outsider_ids = len(people.members) + np.arange(n)
    members = people.members.set_index("person_id")
    is_member = member != NONE
    age = rng.normal(27, 10, size=n).clip(1, 90).round().astype(int)
    sex = np.where(rng.random(n) < 0.86, "male", "female")
    age[is_member] = members.loc[member[is_member], "age"].to_numpy()
    sex[is_member] = members.loc[member[is_member], "sex"].to_numpy()
    officer = np.repeat(events["trigger"].to_numpy() == "officer_involved", n_hit)
    lethality = np.where(officer, 0.4, scenario.lethality)
    return pd.DataFrame(
        {
            "event_id": event_id,
            "person_id": np.where(is_member, member, outsider_ids),
            "group_id": np.where(
                is_member,
                people.members["group_id"].to_numpy()[np.maximum(member, 0)]
                if len(people.members)
                else NONE,
                NONE,
            ),
            "age": age,
            "sex": sex,
            "race": RACES[rng.choice(len(RACES), size=n, p=RACE_SHARES)],
            "killed": rng.random(n) < lethality,
        }
    )


def _incident_rows(events, victims, geography, scenario, seed, start, rng) -> pd.DataFrame:
    """The canonical CSV rows: one per victim, one for a shooting nobody was hit in; group
    involvement as the police recorded it (a share left unknown), not as it was."""
    n = len(events)
    killed = victims.groupby("event_id")["killed"].sum().reindex(events["event_id"], fill_value=0)
    kind = np.where(
        killed.to_numpy() > 0,
        "homicide",
        np.where(events["n_hit"].to_numpy() > 0, "nonfatal_shooting", "shots_fired"),
    )
    kind = np.where(
        events["trigger"].to_numpy() == "officer_involved", "officer_involved_shooting", kind
    )
    unknown = rng.random(n) < scenario.recorded_unknown_share
    truth = events["group_involved"].to_numpy()
    recorded = np.where(unknown, "unknown", np.where(truth, "yes", "no"))
    circumstance = np.where(
        recorded == "yes",
        "group_conflict",
        _CIRCUMSTANCES[rng.choice(len(_CIRCUMSTANCES), size=n, p=_CIRCUMSTANCE_SHARES)],
    )
    when = pd.Timestamp(start) + pd.to_timedelta(events["t"].to_numpy(), unit="D")
    lat, lon = to_wgs84(events["x"].to_numpy(), events["y"].to_numpy())
    hoods = geography.neighborhoods
    town = hoods["town"].to_numpy()[events["hood"].to_numpy()]
    incident = pd.DataFrame(
        {
            "event_id": events["event_id"].to_numpy(),
            "source_id": [f"SIM{seed}-{i:07d}" for i in events["event_id"].to_numpy()],
            "kind": kind,
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
            "jurisdiction": [f"{scenario.county} > {t}" for t in town],
            "area": hoods["name"].to_numpy()[events["hood"].to_numpy()],
            "latitude": np.round(lat, 6),
            "longitude": np.round(lon, 6),
            "weapon": "firearm",
            "group_involvement": recorded,
            "circumstance": circumstance,
        }
    )
    person = victims.assign(
        killed=victims["killed"].astype(int), injured=(~victims["killed"]).astype(int)
    )
    hit = incident.merge(
        person[["event_id", "killed", "injured", "age", "sex", "race"]], on="event_id", how="inner"
    )
    missed = incident[events["n_hit"].to_numpy() == 0].assign(
        killed=0, injured=0, age=pd.NA, sex="", race=""
    )
    rows = pd.concat([hit, missed], ignore_index=True).sort_values(["event_id"], kind="stable")
    rows = rows.rename(columns={"age": "victim_age", "sex": "victim_sex", "race": "victim_race"})
    rows["victim_age"] = rows["victim_age"].astype("Int64")
    columns = list(CSV_COLUMNS)
    return rows[columns].reset_index(drop=True)


def _populations(scenario: Scenario, first: int, last: int) -> pd.DataFrame:
    rows = []
    for year in range(first, last + 1):
        growth = (1 + scenario.population_growth) ** (year - first)
        total = 0
        for town in scenario.towns:
            people = round(town.population * growth)
            total += people
            rows.append((f"{scenario.county} > {town.name}", year, people))
        rows.append((scenario.county, year, total))
    frame = pd.DataFrame(rows, columns=["jurisdiction", "year", "population"])
    frame["source"] = f"gvrs simulator, scenario {scenario.name}"
    return frame
