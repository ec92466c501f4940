"""The one place that turns registry querysets into DataFrames for analysis and output.

Reads are bulk (``values_list`` into columns), never row by row through model instances.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
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


EPOCH = dt.date(1970, 1, 1)


def linkage_frame(source: str, place_ids, first: dt.date, last: dt.date) -> pd.DataFrame:
    """One source's incidents in the places, first..last, as ``link_incidents`` reads them
    (one query)."""
    qs = Incident.objects.filter(source=source, occurred_on__gte=first, occurred_on__lte=last)
    if place_ids is not None:
        qs = qs.filter(jurisdiction_id__in=place_ids)
    columns = ["pk", "source_id", "occurred_on", "occurred_time", "jurisdiction_id", "latitude",
               "longitude", "killed", "injured"]  # fmt: skip
    frame = pd.DataFrame(list(qs.order_by().values_list(*columns)), columns=columns)
    days = np.array([(d - EPOCH).days for d in frame["occurred_on"]], dtype=np.int64)
    minutes = np.array(
        [np.nan if t is None else t.hour * 60 + t.minute for t in frame["occurred_time"]],
        dtype=float,
    )
    return pd.DataFrame(
        {
            "pk": frame["pk"].astype(np.int64),
            "source_id": frame["source_id"].astype(str),
            "year": [d.year for d in frame["occurred_on"]],
            "day": days,
            "minute": days * 1440.0 + minutes,
            "place": frame["jurisdiction_id"].astype(np.int64),
            "lat": frame["latitude"].astype(float),
            "lon": frame["longitude"].astype(float),
            "killed": frame["killed"].astype(np.int64),
            "injured": frame["injured"].astype(np.int64),
        }
    )
