"""The one place that turns registry querysets into DataFrames for analysis and output.

Reads are bulk (``values_list`` into columns), never row by row through model instances.
"""

from __future__ import annotations

import pandas as pd

from gvrs.incidents.models import Incident

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


def incident_queryset(*, jurisdiction=None, kind: str | None = None, since=None, until=None):
    qs = Incident.objects.all()
    if jurisdiction is not None:
        qs = qs.in_jurisdiction(jurisdiction)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.between(since, until)
