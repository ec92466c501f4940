"""Who was shot, for the pages: a metric's people in a window, per value of a person field,
shown as the disclosure policy lets the reader see them.

A reader who may read incident records sees the counts; anyone else sees the window snapped
to whole calendar months and each count perturbed by the cell-key method
(``gvrs.analysis.disclosure.Policy.grouped``): the same people always give the same figure,
and no combination of figures pins a small count. Fixed publications (the council report,
the public page) suppress small cells instead, from the exact counts ``groups`` gives.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from gvrs.analysis.disclosure import Audience, Policy, Records, Window
from gvrs.data.metrics import Metric
from gvrs.incidents.models import Area, ImportRun, Incident, Jurisdiction, PersonInvolved
from gvrs.incidents.people import (
    CANONICAL,
    NOT_RECORDED,
    PersonField,
    counted,
    order,
    person_field,
    person_filter,
    value_label,
)
from gvrs.reports.series import covered_incidents

# The fields the overview offers (and those a source adds, where the registry holds them).
OFFERED = ("victim_sex", "victim_age_group", "victim_race", "victim_ethnicity")


@dataclass(frozen=True)
class Groups:
    """The records a breakdown counts: each record's id and group (an index into
    ``values``), and how a record is named for the policy's keys ("person" or "incident")."""

    field: PersonField
    values: list[str]
    ids: np.ndarray
    groups: np.ndarray
    kind: str

    def counts(self) -> np.ndarray:
        return np.bincount(self.groups, minlength=len(self.values)).astype(np.int64)


def groups(
    metric: Metric,
    jurisdiction: Jurisdiction,
    field: str,
    start: dt.date,
    end: dt.date,
    *,
    area: Area | None = None,
    where: dict[str, list[str]] | None = None,
) -> Groups | None:
    """The people ``metric`` counts in the place from ``start`` to ``end`` (inside its
    sources' coverage), grouped by ``field``; a metric of incidents counts each incident
    once per value of its victims. None: no data."""
    person = person_field(field)
    covered = covered_incidents(metric, jurisdiction, area=area)
    if covered is None:
        return None
    incidents, first, last = covered
    incidents = incidents.filter(
        occurred_on__gte=max(start, first), occurred_on__lte=min(end, last)
    )
    people = PersonInvolved.objects.filter(
        counted(metric),
        person_filter(dict(metric.victims)) & person_filter(where or {}),
        role=PersonInvolved.Role.VICTIM,
        incident__in=incidents,
    ).annotate(group=person.expression())
    if metric.count == "incidents":
        rows = list(people.values_list("incident_id", "group").distinct())
        kind = "incident"
    else:
        rows = list(people.values_list("pk", "group"))
        kind = "person"
    labels = [value_label(person, g) for _, g in rows]
    values = order(person, sorted(set(labels)))
    index = {v: i for i, v in enumerate(values)}
    return Groups(
        person,
        values,
        np.array([pk for pk, _ in rows], dtype=np.int64),
        np.array([index[v] for v in labels], dtype=np.intp),
        kind,
    )


@dataclass(frozen=True)
class Breakdown:
    """A breakdown as one reader may see it: the window answered, each value's figure."""

    metric: Metric
    field: PersonField
    window: Window
    rows: list[tuple[str, int]]
    exact: bool
    offered: list[tuple[str, str]]  # (field, label) the reader may choose from
    figure: dict
    note: str


def offered_fields(jurisdiction: Jurisdiction) -> list[tuple[str, str]]:
    """The person fields to offer for a place: the canonical ones, and those the shipped
    formats of its incident sources add (read from the import runs, not from every person:
    a page view never scans the people)."""
    from gvrs.data.mapping import MappingError, available_formats, load_format

    out = [(name, CANONICAL[name].label) for name in OFFERED]
    sources = (
        Incident.objects.filter(jurisdiction_id__in=jurisdiction.descendant_ids())
        .order_by()
        .values_list("source", flat=True)
        .distinct()
    )
    formats = set(
        ImportRun.objects.filter(source__in=list(sources)).values_list("format", flat=True)
    ) & set(available_formats())
    keys = set()
    for name in formats:
        try:
            keys |= set(load_format(name).victim_fields)
        except MappingError:
            continue
    return out + [(f"victim_{k}", k.replace("_", " ").capitalize()) for k in sorted(keys)]


def for_reader(
    metric: Metric,
    jurisdiction: Jurisdiction,
    field: str,
    since: dt.date,
    until: dt.date,
    audience: Audience,
    policy: Policy,
    *,
    area: Area | None = None,
) -> Breakdown | None:
    """The breakdown the overview shows ``audience``: exact for a reader of incident records,
    otherwise over whole months with perturbed figures."""
    window = policy.window(audience, since, until, Records.INCIDENTS)
    exact = policy.exact(audience, Records.INCIDENTS)
    if window.empty:
        return None
    found = groups(metric, jurisdiction, field, window.start, window.end, area=area)
    if found is None:
        return None
    _, figures = policy.grouped(
        audience, Records.INCIDENTS, found.kind, found.ids, found.groups, len(found.values)
    )
    rows = list(zip(found.values, (int(f) for f in figures), strict=True))
    span = f"{window.start:%-d %b %Y} to {window.end:%-d %b %Y}"
    if exact:
        note = f"{metric.label}, {span}, as the police recorded each person."
    else:
        note = (
            f"{metric.label}, {span} (whole months). Each figure is moved by a small fixed "
            "amount so that no one can be picked out; the same people always give the same "
            "figure (docs/disclosure.md)."
        )
    if metric.count == "incidents":
        note += " An incident with victims of several values counts under each."
    return Breakdown(
        metric,
        found.field,
        window,
        rows,
        exact,
        offered_fields(jurisdiction),
        _figure(metric, found.field, rows, span),
        note,
    )


def _figure(metric: Metric, field: PersonField, rows, span: str) -> dict:
    labels = [v for v, _ in rows]
    figure = go.Figure(
        go.Bar(
            x=[n for _, n in rows],
            y=labels,
            orientation="h",
            marker_color=["#9aa3b2" if v == NOT_RECORDED else "#2f5d8a" for v in labels],
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": f"By {field.label.lower()}<br><sub>{span}</sub>"},
        margin={"t": 56, "l": 10, "r": 10},
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"rangemode": "tozero", "tickformat": ",d"},
        height=120 + 28 * len(rows),
    )
    return json.loads(figure.to_json())
