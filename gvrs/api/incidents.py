"""Incident records, for roles with restricted rights only (administrators and police
analysts): the API hands out records in bulk, which no disclosure rule can make safe for a
role that may see only suppressed figures. Paged, filtered as ``gvrs incidents`` filters,
and every read written to the audit log as the incident pages write theirs."""

from __future__ import annotations

import math

from django.db.models import F
from ninja import Query, Router
from ninja.errors import HttpError

from gvrs.accounts.audit import record
from gvrs.api import schemas
from gvrs.api.common import place_named, require
from gvrs.api.disclosure import RESTRICTED
from gvrs.api.schemas import Day
from gvrs.data.schema import Kind
from gvrs.incidents.frames import incident_queryset
from gvrs.incidents.models import Incident

router = Router(tags=["incidents"])

WHAT = "incident records through the API (administrators and police analysts may)"
COLUMNS = (
    "id",
    "source",
    "source_id",
    "kind",
    "weapon",
    "occurred_on",
    "occurred_time",
    "area_name",
    "jurisdiction_name",
    "killed",
    "injured",
    "group_involvement",
    "circumstance",
    "case_status",
    "latitude",
    "longitude",
    "block_address",
)


def _gate(request) -> None:
    require(request, "incidents.view_incident", WHAT)
    require(request, RESTRICTED, WHAT)


def _row(values: dict) -> dict:
    values["jurisdiction"] = values.pop("jurisdiction_name")
    values["area"] = values.pop("area_name")
    return values


@router.get("", response={200: schemas.IncidentPage, **schemas.ERRORS})
def incident_list(
    request,
    jurisdiction: str | None = Query(
        None, description="a place's name, slug or path; the places inside it included"
    ),
    kind: str | None = Query(None, description=", ".join(k.value for k in Kind)),
    source: str | None = None,
    since: Day | None = Query(None, description="first date"),
    until: Day | None = Query(None, description="last date"),
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(100, ge=1, le=1000),
):
    """Incidents, newest first, with their restricted fields (coordinates, block address)."""
    _gate(request)
    kinds = [k.value for k in Kind]
    if kind and kind not in kinds:
        raise HttpError(400, f"Unknown kind {kind!r}; kinds: {', '.join(kinds)}.")
    place = place_named(jurisdiction) if jurisdiction else None
    qs = incident_queryset(jurisdiction=place, kind=kind, since=since, until=until)
    if source:
        qs = qs.filter(source=source)
    count = qs.count()
    pages = max(1, math.ceil(count / page_size))
    rows = list(
        qs.order_by("-occurred_on", "-occurred_time", "-id")
        .annotate(jurisdiction_name=F("jurisdiction__name"), area_name=F("area__name"))
        .values(*COLUMNS)[(page - 1) * page_size : page * page_size]
    )
    filters = {
        k: v
        for k, v in {
            "jurisdiction": jurisdiction,
            "kind": kind,
            "source": source,
            "since": since,
            "until": until,
        }.items()
        if v
    }
    record(
        request.user,
        "api-list",
        None,
        f"{len(rows)} of {count} incidents (page {page}) through the API, with restricted "
        f"fields; filters {filters}",
        object_type="incidents.Incident",
    )
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "pages": pages,
        "results": [_row(r) for r in rows],
    }


@router.get("/{pk}", response={200: schemas.IncidentDetail, **schemas.ERRORS})
def incident_detail(request, pk: int):
    """One incident with the people involved, as its page shows it to these roles."""
    _gate(request)
    incident = (
        Incident.objects.select_related("jurisdiction", "area").filter(pk=pk).first()
        if 0 < pk < 2**63
        else None
    )
    if incident is None:
        raise HttpError(404, f"No incident {pk}.")
    record(request.user, "view", incident, "with restricted fields, through the API")
    values = {
        column: getattr(incident, column)
        for column in COLUMNS
        if column not in ("area_name", "jurisdiction_name")
    }
    values["jurisdiction"] = incident.jurisdiction.name
    values["area"] = incident.area.name if incident.area else None
    values["people"] = [
        {
            "role": p.role,
            "age": p.age,
            "age_group": p.age_group,
            "sex": p.sex,
            "race_ethnicity": p.race_ethnicity,
            "killed": p.killed,
            "injured": p.injured,
        }
        for p in incident.people.all()
    ]
    return values
