"""Small builders for the shooting review: a town with areas, shootings imported from a real
CSV file through the importer, groups designated through ``gvrs.reviews.actions``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Area, Incident, Jurisdiction
from gvrs.reviews import actions
from gvrs.reviews.models import Group
from tests.importing_helpers import row, write_csv

TOWN = "Kern-like County > Oakdale"


def shooting(source_id: str, day: str, area: str, kind: str = "nonfatal_shooting", **fields):
    """A canonical row: one victim shot (killed for a homicide) in ``area`` of Oakdale."""
    killed = "1" if kind == "homicide" else "0"
    base = row(
        source_id,
        kind=kind,
        occurred_at=f"{day}T22:40",
        jurisdiction=TOWN,
        area=area,
        killed=killed,
        injured="0" if killed == "1" else "1",
        group_involvement="unknown",
        circumstance="unknown",
        latitude="35.3712",
        longitude="-119.0187",
    )
    base.update(fields)
    return base


def import_rows(tmp_path: Path, rows: list[dict], name: str = "shootings.csv"):
    report = import_file(write_csv(tmp_path / name, rows), load_format("gvrs"), state="CA")
    assert report.ok, report.errors
    return report


def town() -> Jurisdiction:
    return Jurisdiction.objects.named("Oakdale")


def county() -> Jurisdiction:
    return Jurisdiction.objects.named("Kern-like County")


def area(name: str) -> Area:
    return Area.objects.get(jurisdiction=town(), name=name)


def incident(source_id: str) -> Incident:
    return Incident.objects.get(source_id=source_id)


def make_group(
    user, name: str, turf: str, designated_on: dt.date, expires_on: dt.date | None = None
) -> Group:
    group = actions.create_group(user, town(), name=name, areas=[area(turf)])
    actions.designate(
        user,
        group,
        criteria="Name, claimed area and a pattern of shootings",
        evidence="Three shootings in 2025 reviewed as confirmed",
        on=designated_on,
        expires_on=expires_on,
    )
    return group
