"""Write a simulated county to a folder: the canonical incident CSV (importable with
``gvrs import --format gvrs``), populations (``gvrs populations``), neighborhoods GeoJSON,
groups, memberships, conflicts, participants, and the truth (events with their parent links,
every victim, and ``truth.json``). Same seed, same bytes."""

from __future__ import annotations

import json
from pathlib import Path

from gvrs.data.csvsafe import write_frame
from gvrs.data.simulate import SimulatedCity

FILES = {
    "incidents.csv": "canonical incident rows, one per victim (import with --format gvrs)",
    "populations.csv": "residents per jurisdiction and year (gvrs populations)",
    "neighborhoods.geojson": "neighborhood boundaries (WGS84) with populations",
    "groups.csv": "groups and their turf neighborhood",
    "memberships.csv": "group members (confidential in a real city)",
    "conflicts.csv": "rivalries and alliances between groups",
    "participants.csv": "members enrolled by partner organizations, and when",
    "events.csv": "truth: every shooting with its trigger type and parent shooting",
    "victims.csv": "truth: every person shot, with their group",
    "truth.json": "the generating parameters and realised statistics",
}


def write_city(city: SimulatedCity, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in FILES}
    write_frame(city.incident_rows, paths["incidents.csv"])
    write_frame(city.populations, paths["populations.csv"])
    paths["neighborhoods.geojson"].write_text(
        json.dumps(city.geography.geojson(), sort_keys=True) + "\n"
    )
    hoods = city.geography.neighborhoods.set_index("id")["name"]
    groups = city.people.groups.assign(turf=lambda g: hoods.loc[g["turf_id"]].to_numpy())
    write_frame(groups, paths["groups.csv"])
    write_frame(city.people.members.round({"risk": 6}), paths["memberships.csv"])
    write_frame(city.people.conflicts, paths["conflicts.csv"])
    write_frame(city.people.participants, paths["participants.csv"])
    events = city.events.round(
        {"t": 6, "x": 2, "y": 2, "near_repeat_mean": 6, "retaliation_mean": 6}
    )
    write_frame(events, paths["events.csv"])
    write_frame(city.victims, paths["victims.csv"])
    paths["truth.json"].write_text(json.dumps(city.truth(), indent=2, sort_keys=True) + "\n")
    return paths
