"""Groups, their members, rivalries and alliances, and the partners' participants.

Who belongs to which group is exactly what real sources keep confidential; here it is made up,
with a known truth, so that the group conflict network and the evaluation can be tested.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gvrs.data.simulate.geography import Geography
from gvrs.data.simulate.scenarios import Scenario

_GROUP_WORDS = (
    "Eastside",
    "Westside",
    "Northside",
    "Southside",
    "Valley",
    "Park",
    "Avenue",
    "Corner",
    "Hill",
    "Court",
    "Block",
    "Row",
)


@dataclass(frozen=True)
class People:
    groups: pd.DataFrame  # group_id, name, town, turf_id (neighborhood id)
    members: pd.DataFrame  # person_id, group_id, risk, age, sex (sorted by group_id)
    conflicts: pd.DataFrame  # group_a, group_b, relation ("rivalry" | "alliance"), since
    participants: pd.DataFrame  # person_id, group_id, organization, enrolled_on

    def rivals(self) -> dict[int, np.ndarray]:
        rivalry = self.conflicts[self.conflicts["relation"] == "rivalry"]
        pairs = pd.concat(
            [
                rivalry[["group_a", "group_b"]],
                rivalry.rename(columns={"group_a": "group_b", "group_b": "group_a"})[
                    ["group_a", "group_b"]
                ],
            ]
        )
        return {int(g): rows["group_b"].to_numpy() for g, rows in pairs.groupby("group_a")}


def build_people(
    scenario: Scenario, geography: Geography, rng: np.random.Generator, start: dt.date
) -> People:
    hoods = geography.neighborhoods
    groups = []
    for town in scenario.towns:
        share = (
            scenario.group_member_share
            if town.group_member_share is None
            else town.group_member_share
        )
        n_groups = max(2, round(town.population * share / scenario.members_per_group))
        local = hoods[hoods["town"] == town.name]
        weight = (local["population"] * local["risk"]).to_numpy(dtype=float)
        turfs = rng.choice(local["id"].to_numpy(), size=n_groups, p=weight / weight.sum())
        for turf in turfs:
            street = local.loc[local["id"] == turf, "name"].iloc[0].split()[0]
            word = _GROUP_WORDS[rng.integers(len(_GROUP_WORDS))]
            groups.append(
                {
                    "group_id": len(groups),
                    "name": f"{street} {word} {len(groups)}",
                    "town": town.name,
                    "turf_id": int(turf),
                }
            )
    groups = pd.DataFrame(groups)
    sizes = rng.poisson(scenario.members_per_group, size=len(groups)).clip(5)
    group_of = np.repeat(groups["group_id"].to_numpy(), sizes)
    members = pd.DataFrame(
        {
            "person_id": np.arange(len(group_of)),
            "group_id": group_of,
            # A few members carry most of the risk (a heavy tail, as problem analyses find).
            "risk": rng.lognormal(0.0, 1.0, size=len(group_of)),
            "age": rng.normal(22, 5, size=len(group_of)).clip(14, 45).round().astype(int),
            "sex": np.where(rng.random(len(group_of)) < 0.93, "male", "female"),
        }
    )
    # Each group has 1 + Binomial(k, density) rivals among up to k = 10 neighbours in its
    # town (sparse, so a state-sized simulation stays linear in the number of groups).
    conflicts = []
    for _, local in groups.groupby("town"):
        ids = local["group_id"].to_numpy()
        if len(ids) < 2:
            continue
        k = min(len(ids) - 1, 10)
        for position, a in enumerate(ids):
            others = np.delete(ids, position)
            near = others[rng.permutation(len(others))[:k]]
            n_rivals = 1 + rng.binomial(k - 1, scenario.rivalry_density) if k > 1 else 1
            n_allies = rng.binomial(k - n_rivals, scenario.alliance_density) if k > n_rivals else 0
            conflicts += [(min(a, b), max(a, b), "rivalry") for b in near[:n_rivals]]
            conflicts += [
                (min(a, b), max(a, b), "alliance") for b in near[n_rivals : n_rivals + n_allies]
            ]
    conflicts = pd.DataFrame(conflicts, columns=["group_a", "group_b", "relation"])
    conflicts = conflicts.drop_duplicates(["group_a", "group_b"])
    conflicts["since"] = start.isoformat()
    return People(groups, members, conflicts, _enrol(scenario, groups, members, rng))


def _enrol(
    scenario: Scenario, groups: pd.DataFrame, members: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Partners enrol the highest-risk members, up to their capacity, in the months after
    the strategy starts, only in the towns where the strategy runs."""
    capacity = sum(scenario.partner_capacity)
    outside = {t.name for t in scenario.towns if not t.strategy}
    if outside:
        members = members[
            ~members["group_id"].isin(groups.loc[groups["town"].isin(outside), "group_id"])
        ]
    chosen = members.sort_values("risk", ascending=False).head(capacity)
    organizations = np.repeat(
        [f"Partner {chr(65 + i)}" for i in range(len(scenario.partner_capacity))],
        scenario.partner_capacity,
    )[: len(chosen)]
    offsets = rng.integers(0, scenario.enrolment_window_days, size=len(chosen))
    enrolled = pd.to_datetime(scenario.strategy_start) + pd.to_timedelta(offsets, unit="D")
    return pd.DataFrame(
        {
            "person_id": chosen["person_id"].to_numpy(),
            "group_id": chosen["group_id"].to_numpy(),
            "organization": organizations,
            "enrolled_on": enrolled.date,
        }
    ).sort_values("person_id", ignore_index=True)
