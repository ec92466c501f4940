"""What the contagion model should find in a simulated county: its inputs (points, times,
each shooting's area and its rival's turf) and the truth its two kernels estimate.

The model sees only the shootings selected (the registry's default, shooting incidents: a
homicide or nonfatal shooting, nobody-hit shootings and officer-involved ones left out). A
selected shooting's nearest selected ancestor is what the model can call its parent; the
path between them (through shootings not selected) says which kernel should take it:

- ``near_repeat``: every link a near repeat (the space-time kernel);
- ``retaliation``: one link a retaliation, the others near repeats (the turf kernel: the
  retaliation landed on the rival's turf, and near repeats around it stay close);
- ``other``: two retaliations or more (back on the first group's turf; neither kernel);
- ``background``: no selected ancestor within its family (an untriggered shooting, or the
  child of one that was not selected, which the model can only see as background).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gvrs.analysis.contagion.retaliation import TurfLinks
from gvrs.data.simulate import SimulatedCity
from gvrs.data.simulate.process import NONE


def shooting_incidents(city: SimulatedCity, *, hit_only: bool = True) -> np.ndarray:
    """Boolean mask over ``city.events``: the shootings the contagion model is given
    (``hit_only``: the default metric, shooting incidents; else every shooting)."""
    events = city.events
    mask = (events["trigger"] != "officer_involved").to_numpy()
    if hit_only:
        mask = mask & (events["n_hit"].to_numpy() > 0)
    return mask


def trigger_paths(
    events: pd.DataFrame, selected: np.ndarray, *, with_ancestor: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Per selected event (in order), the kind of path to its nearest selected ancestor
    (and, ``with_ancestor``, that ancestor's position among the selected, -1 if none).

    Walks all selected events up their parent links at once, one generation per step."""
    parent = events["parent"].to_numpy()
    trigger = events["trigger"].to_numpy()
    idx = np.flatnonzero(selected)
    n = len(idx)
    retaliations = np.zeros(n, dtype=int)
    resolved = np.zeros(n, dtype=bool)
    found = np.zeros(n, dtype=bool)
    at = idx.copy()
    while not resolved.all():
        open_ = ~resolved
        kind = trigger[at[open_]]
        retaliations[open_] += kind == "retaliation"
        up = parent[at[open_]]
        rows = np.flatnonzero(open_)
        root = up == NONE
        resolved[rows[root]] = True
        hit = ~root & selected[np.maximum(up, 0)]
        found[rows[hit]] = True
        resolved[rows[hit]] = True
        at[rows[~root]] = up[~root]
    position = np.full(len(selected), -1)
    position[idx] = np.arange(n)
    ancestor = np.where(found, position[at], -1)
    out = np.full(n, "background", dtype=object)
    out[found & (retaliations == 0)] = "near_repeat"
    out[found & (retaliations == 1)] = "retaliation"
    out[found & (retaliations > 1)] = "other"
    return (out, ancestor) if with_ancestor else out


def turf_links(city: SimulatedCity, selected: np.ndarray, *, known: str = "truth") -> TurfLinks:
    """Each selected shooting's neighbourhood, and as its target the turf of the suspect's
    group (where the victim's group strikes back), by neighbourhood id.

    ``known``: "truth" gives every group-involved shooting its groups; "recorded" only
    those the police recorded as group-involved (the review's starting point)."""
    events = city.events[selected]
    hoods = city.geography.neighborhoods
    area_m2 = {int(h.id): (h.x1 - h.x0) * (h.y1 - h.y0) for h in hoods.itertuples()}
    turf = city.people.groups["turf_id"].to_numpy()
    shooter = events["shooter_group"].to_numpy()
    if known == "recorded":
        recorded = city.incident_rows.drop_duplicates("source_id")["group_involvement"]
        shooter = np.where(recorded.to_numpy()[selected] == "yes", shooter, NONE)
    elif known != "truth":
        raise ValueError(f"known={known!r}; valid: truth, recorded")
    targets = [[int(turf[g])] if g != NONE else [] for g in shooter]
    return TurfLinks.from_names(events["hood"].astype(int).tolist(), targets, area_m2)


@dataclass(frozen=True)
class ContagionTruth:
    """Realised triggering among the selected shootings."""

    near_repeat_share: float  # selected shootings whose path is near repeats only
    # Retaliation paths from a shooting with a rival turf, per such shooting (a retaliation
    # whose parent's groups are not known is background to the model).
    retaliation_per_eligible: float
    retaliation_share: float  # retaliation paths (from any shooting) per selected shooting
    triggered_share: float  # any path to a selected ancestor
    eligible: int


def contagion_truth(city: SimulatedCity, selected: np.ndarray, links: TurfLinks):
    paths, ancestor = trigger_paths(city.events, selected, with_ancestor=True)
    has_target = np.array([len(t) > 0 for t in links.targets])
    eligible = int(has_target.sum())
    from_eligible = (paths == "retaliation") & has_target[np.maximum(ancestor, 0)]
    retaliation = int(from_eligible.sum())
    return ContagionTruth(
        near_repeat_share=float((paths == "near_repeat").mean()),
        retaliation_per_eligible=retaliation / eligible if eligible else float("nan"),
        retaliation_share=float((paths == "retaliation").mean()),
        triggered_share=float((paths != "background").mean()),
        eligible=eligible,
    )
