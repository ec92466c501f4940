"""The one place that turns registry querysets into DataFrames for analysis and output.

Reads are bulk (``values_list`` into columns), never row by row through model instances.
"""

from __future__ import annotations

import pandas as pd
from django.db.models import Exists, OuterRef

from gvrs.incidents.models import Incident, PersonInvolved
from gvrs.incidents.people import person_filter

INCIDENT_COLUMNS = {
    "source": "source",
    "source_id": "source_id",
    "kind": "kind",
    "occurred_on": "occurred_on",
    "occurred_time": "occurred_time",
    "jurisdiction": "jurisdiction__name",
    "area": "area__name",
    "latitude": "latitude",
    "longitude": "longitude",
    "weapon": "weapon",
    "killed": "killed",
    "injured": "injured",
    "group_involvement": "group_involvement",
    "circumstance": "circumstance",
}


def incidents_frame(queryset, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """Incidents as a DataFrame with the canonical column names (``occurred_on`` as dates)."""
    columns = columns or INCIDENT_COLUMNS
    rows = list(queryset.values_list(*columns.values()))
    frame = pd.DataFrame(rows, columns=list(columns))
    if "occurred_on" in frame:
        frame["occurred_on"] = pd.to_datetime(frame["occurred_on"])
    return frame


def incident_queryset(
    *,
    jurisdiction=None,
    kind: str | None = None,
    since=None,
    until=None,
    area: str | None = None,
    group_involvement: str | None = None,
    where: dict[str, list[str]] | None = None,
):
    """Incidents filtered by place (and the places inside it), kind, dates, area (by name,
    any case), group involvement, and the fields of their victims (``where``: incidents with
    at least one such victim, ``gvrs.incidents.people``)."""
    qs = Incident.objects.all()
    if jurisdiction is not None:
        qs = qs.in_jurisdiction(jurisdiction)
    if kind:
        qs = qs.filter(kind=kind)
    if area:
        qs = qs.filter(area__name__iexact=area)
    if group_involvement:
        qs = qs.filter(group_involvement=group_involvement)
    if where:
        people = PersonInvolved.objects.filter(
            person_filter(where), role=PersonInvolved.Role.VICTIM, incident=OuterRef("pk")
        )
        qs = qs.filter(Exists(people))
    return qs.between(since, until)
