"""The one place the group audit turns into what ``gvrs.analysis`` takes: conflicts as
``gvrs.analysis.conflicts.Conflict`` and reviewed shootings as a DataFrame.

Only groups designated on the day asked about take part: an expired designation drops its
group, its conflicts and its side of every shooting out of the network, the figures and the
alerts alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from gvrs.incidents.models import Jurisdiction
from gvrs.reviews.models import Conflict, Group, Review


def county_of(jurisdiction: Jurisdiction) -> Jurisdiction:
    """The place whose groups a shooting's review looks at: the highest place above it below
    the state (groups and rivalries cross town lines inside a county, rarely beyond)."""
    node = jurisdiction
    while node.parent_id is not None and node.parent.level != Jurisdiction.Level.STATE:
        node = node.parent
    return node


def area_key(area) -> str:
    """An area's name as the analysis sees it, unique inside a county ("Oak Park (Town)")."""
    return f"{area.name} ({area.jurisdiction.name})"


@dataclass(frozen=True)
class NetworkInputs:
    groups: dict[str, Group]  # name -> group, designated on the day
    group_areas: dict[str, list[str]]  # name -> area keys
    conflicts: list  # gvrs.analysis.conflicts.Conflict
    shootings: pd.DataFrame  # date, groups (tuple of names), area, incident_id


def network_inputs(place: Jurisdiction, on: dt.date) -> NetworkInputs:
    from gvrs.analysis.conflicts import Conflict as NetworkConflict

    places = place.descendant_ids()
    groups = {
        g.name: g
        for g in Group.objects.designated(on)
        .filter(jurisdiction_id__in=places)
        .prefetch_related("areas__jurisdiction")
    }
    ids = {g.pk for g in groups.values()}
    group_areas = {name: [area_key(a) for a in g.areas.all()] for name, g in groups.items()}
    conflicts = [
        NetworkConflict(c.group_a.name, c.group_b.name, c.started_on, c.ended_on, c.kind)
        for c in Conflict.objects.filter(group_a_id__in=ids, group_b_id__in=ids).select_related(
            "group_a", "group_b"
        )
    ]
    rows = []
    reviews = (
        Review.objects.done()
        .filter(incident__jurisdiction_id__in=places, incident__occurred_on__lte=on)
        .select_related("incident__area__jurisdiction")
        .prefetch_related("victim_groups", "suspect_groups")
    )
    for review in reviews:
        named = sorted(
            {g.name for g in review.victim_groups.all() if g.pk in ids}
            | {g.name for g in review.suspect_groups.all() if g.pk in ids}
        )
        if named:
            area = review.incident.area
            rows.append(
                {
                    "date": review.incident.occurred_on,
                    "groups": tuple(named),
                    "area": area_key(area) if area else "",
                    "incident_id": review.incident_id,
                }
            )
    shootings = pd.DataFrame(rows, columns=["date", "groups", "area", "incident_id"])
    shootings["date"] = pd.to_datetime(shootings["date"])
    return NetworkInputs(groups, group_areas, conflicts, shootings)
