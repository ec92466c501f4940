"""The shootings: a space-time self-exciting process simulated by its branching structure.

Untriggered ("background") shootings arrive by neighborhood and day with a seasonal, weekly
and yearly profile; every shooting then triggers, independently, near-repeat shootings close
in space and time and, when group-involved, retaliations against the rival group on its turf.
Each generation of triggered shootings is drawn at once with numpy (no loop over events), so a
million incidents take seconds. Parent links are kept: they are the ground truth that the
contagion model (Mohler et al. 2011) should recover.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gvrs.data.simulate.geography import Geography
from gvrs.data.simulate.people import People
from gvrs.data.simulate.scenarios import Scenario

# Relative chance of a shooting by hour of day: most happen in the evening and at night.
HOUR_WEIGHTS = np.array(
    [8, 7, 6, 4, 3, 2, 1.5, 1.5, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 9.5, 9],
    dtype=float,
)
RACES = np.array(["Hispanic", "Black", "White", "Asian"])
RACE_SHARES = np.array([0.52, 0.30, 0.14, 0.04])
BACKGROUND, NEAR_REPEAT, RETALIATION, OFFICER = 0, 1, 2, 3
TRIGGERS = np.array(["background", "near_repeat", "retaliation", "officer_involved"])
NONE = -1


class _Context:
    """Arrays the generations share: neighborhoods, groups, members and enrolment dates."""

    def __init__(
        self, scenario: Scenario, geography: Geography, people: People, start: dt.date
    ) -> None:
        self.scenario = scenario
        hoods = geography.neighborhoods
        self.hood_rect = hoods[["x0", "y0", "x1", "y1"]].to_numpy(dtype=float)
        self.hood_town = pd.factorize(hoods["town"])[0]
        towns = hoods.groupby(self.hood_town)
        self.town_box = np.array(
            [[g["x0"].min(), g["y0"].min(), g["x1"].max(), g["y1"].max()] for _, g in towns]
        )
        self.town_first_hood = np.array([g["id"].min() for _, g in towns])
        self.town_ny = np.array([t.grid[1] for t in scenario.towns])
        self.town_cell = np.array([t.cell_m for t in scenario.towns])
        self.group_turf = people.groups["turf_id"].to_numpy()
        self.group_town = self.hood_town[self.group_turf]
        members = people.members
        self.member_group = members["group_id"].to_numpy()
        self.cum_risk = np.cumsum(members["risk"].to_numpy())
        bounds = np.searchsorted(self.member_group, np.arange(len(people.groups) + 1))
        self.group_lo, self.group_hi = bounds[:-1], bounds[1:]
        enrolled = np.full(len(members), np.inf)
        days = (pd.to_datetime(people.participants["enrolled_on"]) - pd.Timestamp(start)).dt.days
        enrolled[people.participants["person_id"].to_numpy()] = days.to_numpy(dtype=float)
        self.enrolled_day = enrolled
        rivals = people.rivals()
        width = max((len(v) for v in rivals.values()), default=1)
        self.rival_table = np.full((len(people.groups), width), NONE)
        self.rival_count = np.zeros(len(people.groups), dtype=int)
        for g, values in rivals.items():
            self.rival_table[g, : len(values)] = values
            self.rival_count[g] = len(values)

    def neighborhood_at(self, town: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        box = self.town_box[town]
        cell = self.town_cell[town]
        i = np.floor((x - box[:, 0]) / cell).astype(int)
        j = np.floor((y - box[:, 1]) / cell).astype(int)
        nx = np.round((box[:, 2] - box[:, 0]) / cell).astype(int)
        ny = self.town_ny[town]
        i, j = np.clip(i, 0, nx - 1), np.clip(j, 0, ny - 1)
        return self.town_first_hood[town] + i * ny + j

    def uniform_in(self, hood: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        rect = self.hood_rect[hood]
        u, v = rng.random(len(hood)), rng.random(len(hood))
        return rect[:, 0] + u * (rect[:, 2] - rect[:, 0]), rect[:, 1] + v * (
            rect[:, 3] - rect[:, 1]
        )

    def pick_members(self, group: np.ndarray, t: np.ndarray, rng) -> np.ndarray:
        """One member of each group, chosen in proportion to risk, with enrolled members'
        weight multiplied by the intervention effect once enrolled (exactly, by rejection)."""
        chosen = np.full(len(group), NONE)
        todo = np.flatnonzero(group != NONE)
        effect = self.scenario.intervention_effect
        while len(todo):
            g = group[todo]
            lo = np.where(self.group_lo[g] > 0, self.cum_risk[self.group_lo[g] - 1], 0.0)
            hi = self.cum_risk[self.group_hi[g] - 1]
            pick = np.searchsorted(self.cum_risk, lo + rng.random(len(todo)) * (hi - lo), "right")
            pick = np.minimum(pick, self.group_hi[g] - 1)
            enrolled = self.enrolled_day[pick] <= t[todo]
            keep = ~enrolled | (rng.random(len(todo)) < effect)
            chosen[todo[keep]] = pick[keep]
            todo = todo[~keep]
        return chosen

    def rival_of(self, group: np.ndarray, rng) -> np.ndarray:
        count = self.rival_count[group]
        idx = (rng.random(len(group)) * np.maximum(count, 1)).astype(int)
        return np.where(count > 0, self.rival_table[group, idx], NONE)


def _profile(scenario: Scenario, days: pd.DatetimeIndex, first_year: int) -> np.ndarray:
    """Relative rate per day: season x weekday x population growth x citywide trend."""
    season = 1 + scenario.season_amplitude * np.cos(
        2 * np.pi * (days.day_of_year.to_numpy() - scenario.season_peak_day) / 365.25
    )
    weekend = days.day_of_week.to_numpy() >= 5
    wf = scenario.weekend_factor
    weekday = np.where(weekend, wf, 1.0) / ((5 + 2 * wf) / 7)
    years = days.year.to_numpy()
    growth = (1 + scenario.population_growth) ** (years - first_year)
    trend = (1 + scenario.trend_per_year) ** np.clip(years - scenario.trend_start_year + 1, 0, None)
    return season * weekday * growth * trend


def _background(ctx: _Context, geography: Geography, days: pd.DatetimeIndex, rng) -> dict:
    scenario = ctx.scenario
    hoods = geography.neighborhoods
    weight = (hoods["population"] * hoods["risk"]).to_numpy(dtype=float)
    per_town = {t.name: t for t in scenario.towns}
    base = np.empty(len(hoods))
    for town_name, rows in hoods.groupby("town").groups.items():
        town = per_town[town_name]
        target = scenario.background_per_100k / 1e5 * town.population * town.risk / 365.25
        base[rows] = target * weight[rows] / weight[rows].sum()
    profile = _profile(scenario, days, days[0].year)
    rate = np.outer(profile, base)  # days x neighborhoods
    if scenario.citywide_effect != 1.0:
        town = scenario.effect_town or scenario.towns[0].name
        after = days >= pd.Timestamp(scenario.strategy_start)
        rate[np.ix_(after, (hoods["town"] == town).to_numpy())] *= scenario.citywide_effect
    counts = rng.poisson(rate)
    day_idx, hood = np.nonzero(counts)
    repeat = counts[day_idx, hood]
    day_idx, hood = np.repeat(day_idx, repeat), np.repeat(hood, repeat)
    n = len(hood)
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    t = day_idx + (hours + rng.random(n)) / 24
    town = ctx.hood_town[hood]
    group_involved = rng.random(n) < scenario.background_group_share
    victim_group = np.full(n, NONE)
    if group_involved.any():
        # The victim's group is one of the town's groups; most such shootings happen on its turf.
        for town_id in np.unique(town[group_involved]):
            local = np.flatnonzero(ctx.group_town == town_id)
            rows = np.flatnonzero(group_involved & (town == town_id))
            if len(local):
                victim_group[rows] = local[rng.integers(len(local), size=len(rows))]
    shooter_group = np.where(
        victim_group != NONE, ctx.rival_of(np.maximum(victim_group, 0), rng), NONE
    )
    group_involved &= shooter_group != NONE
    victim_group = np.where(group_involved, victim_group, NONE)
    shooter_group = np.where(group_involved, shooter_group, NONE)
    on_turf = group_involved & (rng.random(n) < 0.6)
    hood = np.where(on_turf, ctx.group_turf[np.maximum(victim_group, 0)], hood)
    x, y = ctx.uniform_in(hood, rng)
    return {
        "t": t,
        "x": x,
        "y": y,
        "town": town,
        "hood": hood,
        "trigger": np.full(n, BACKGROUND),
        "parent": np.full(n, NONE),
        "group_involved": group_involved,
        "victim_group": victim_group,
        "shooter_group": shooter_group,
    }


def _realise(ctx: _Context, batch: dict, rng) -> dict:
    """Outcome, victims and suspect of each shooting, and how many it triggers."""
    s = ctx.scenario
    n = len(batch["t"])
    hit = rng.random(n) >= s.shots_fired_share
    batch["n_hit"] = np.where(hit, 1 + rng.poisson(s.extra_victim_rate, size=n), 0)
    batch["victim_person"] = np.where(
        hit, ctx.pick_members(batch["victim_group"], batch["t"], rng), NONE
    )
    batch["suspect_person"] = ctx.pick_members(batch["shooter_group"], batch["t"], rng)
    involved_enrolled = (
        (batch["victim_person"] != NONE)
        & (ctx.enrolled_day[np.maximum(batch["victim_person"], 0)] <= batch["t"])
    ) | (
        (batch["suspect_person"] != NONE)
        & (ctx.enrolled_day[np.maximum(batch["suspect_person"], 0)] <= batch["t"])
    )
    multiplier = np.where(involved_enrolled, s.intervention_effect, 1.0)
    batch["near_repeat_mean"] = s.near_repeat_ratio * multiplier
    batch["retaliation_mean"] = np.where(
        batch["group_involved"], s.retaliation_ratio * multiplier, 0.0
    )
    return batch


def _children(ctx: _Context, parents: dict, first_id: int, horizon: float, rng) -> dict:
    s = ctx.scenario
    near = rng.poisson(parents["near_repeat_mean"])
    back = rng.poisson(parents["retaliation_mean"])
    ids = first_id + np.arange(len(parents["t"]))
    # Near repeats: same conflict, close in space (Gaussian) and time (exponential).
    p = np.repeat(np.arange(len(near)), near)
    t_near = parents["t"][p] + rng.exponential(s.decay_days, size=len(p))
    town_near = parents["town"][p]
    box = ctx.town_box[town_near]
    x_near = np.clip(
        parents["x"][p] + rng.normal(0, s.spatial_scale_m, len(p)), box[:, 0], box[:, 2] - 1e-6
    )
    y_near = np.clip(
        parents["y"][p] + rng.normal(0, s.spatial_scale_m, len(p)), box[:, 1], box[:, 3] - 1e-6
    )
    # Retaliations: the victim's group strikes the shooter's group, on its turf.
    r = np.repeat(np.arange(len(back)), back)
    new_victim = parents["shooter_group"][r]
    hood_back = ctx.group_turf[new_victim]
    x_back, y_back = ctx.uniform_in(hood_back, rng)
    t_back = parents["t"][r] + rng.exponential(s.retaliation_decay_days, size=len(r))
    out = {
        "t": np.concatenate([t_near, t_back]),
        "x": np.concatenate([x_near, x_back]),
        "y": np.concatenate([y_near, y_back]),
        "town": np.concatenate([town_near, ctx.hood_town[hood_back]]),
        "hood": np.concatenate([ctx.neighborhood_at(town_near, x_near, y_near), hood_back]),
        "trigger": np.concatenate([np.full(len(p), NEAR_REPEAT), np.full(len(r), RETALIATION)]),
        "parent": np.concatenate([ids[p], ids[r]]),
        "group_involved": np.concatenate(
            [parents["group_involved"][p], np.ones(len(r), dtype=bool)]
        ),
        "victim_group": np.concatenate([parents["victim_group"][p], new_victim]),
        "shooter_group": np.concatenate([parents["shooter_group"][p], parents["victim_group"][r]]),
    }
    keep = out["t"] < horizon
    return {k: v[keep] for k, v in out.items()}


def _officer_involved(ctx: _Context, geography: Geography, days: pd.DatetimeIndex, rng) -> dict:
    s = ctx.scenario
    residents = sum(t.population for t in s.towns)
    n = rng.poisson(s.officer_involved_per_100k / 1e5 * residents * len(days) / 365.25)
    hoods = geography.neighborhoods
    weight = (hoods["population"] * hoods["risk"]).to_numpy(dtype=float)
    hood = rng.choice(len(hoods), size=n, p=weight / weight.sum())
    x, y = ctx.uniform_in(hood, rng)
    batch = {
        "t": rng.random(n) * len(days),
        "x": x,
        "y": y,
        "town": ctx.hood_town[hood],
        "hood": hood,
        "trigger": np.full(n, OFFICER),
        "parent": np.full(n, NONE),
        "group_involved": np.zeros(n, dtype=bool),
        "victim_group": np.full(n, NONE),
        "shooter_group": np.full(n, NONE),
        "n_hit": (rng.random(n) < 0.5).astype(int),
        "victim_person": np.full(n, NONE),
        "suspect_person": np.full(n, NONE),
        "near_repeat_mean": np.zeros(n),
        "retaliation_mean": np.zeros(n),
    }
    return batch


def simulate_events(
    scenario: Scenario, geography: Geography, people: People, start: dt.date, end: dt.date, rng
) -> pd.DataFrame:
    """Every shooting from ``start`` to ``end``, one row each, sorted by time, with its parent."""
    ctx = _Context(scenario, geography, people, start)
    days = pd.date_range(start, end, freq="D")
    horizon = float(len(days))
    batches = []
    batch = _realise(ctx, _background(ctx, geography, days, rng), rng)
    next_id = 0
    while len(batch["t"]):
        batches.append(batch)
        children = _children(ctx, batch, next_id, horizon, rng)
        next_id += len(batch["t"])
        batch = _realise(ctx, children, rng) if len(children["t"]) else children
    batches.append(_officer_involved(ctx, geography, days, rng))
    columns = batches[0].keys()
    events = pd.DataFrame({k: np.concatenate([b[k] for b in batches]) for k in columns})
    events["provisional_id"] = np.arange(len(events))
    events = events.sort_values("t", kind="stable", ignore_index=True)
    # Renumber in time order and point parents at the new numbers.
    renumber = np.empty(len(events), dtype=np.int64)
    renumber[events["provisional_id"].to_numpy()] = np.arange(len(events))
    has_parent = events["parent"].to_numpy() != NONE
    events["parent"] = np.where(has_parent, renumber[np.maximum(events["parent"], 0)], NONE)
    events["event_id"] = np.arange(len(events))
    events["trigger"] = TRIGGERS[events["trigger"].to_numpy()]
    return events.drop(columns="provisional_id")
