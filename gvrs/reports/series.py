"""Build ``CountSeries`` from the registry: one bulk, grouped query each, never a Python loop
over incidents. Incidents are counted per day in the database, one incident source at a time
(two sources over one city would count its shootings twice); published counts are read per
source, children rolled up into their parent."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
from django.db.models import Count, F, Q, QuerySet, Sum

from gvrs.analysis.counts import CountSeries
from gvrs.analysis.linkage import link_incidents
from gvrs.data.metrics import Metric
from gvrs.incidents.coverage import SourceCoverage, merge_spans, place_coverage
from gvrs.incidents.frames import linkage_frame
from gvrs.incidents.models import (
    Area,
    Incident,
    Jurisdiction,
    PersonInvolved,
    Population,
    PrimarySource,
    PublishedCount,
)
from gvrs.incidents.people import counted, order, person_field, person_filter, value_label

INCIDENTS = "incidents"

_AGGREGATE = {
    "incidents": Count("id"),
    "victims": Sum(F("killed") + F("injured")),
    "killed": Sum("killed"),
    "injured": Sum("injured"),
    # Every victim recorded, hurt or not (a NIBRS firearm assault's victim may be neither).
    "people": Count("people", filter=Q(people__role="victim")),
}


def metric_filter(metric: Metric) -> Q:
    q = Q()
    if metric.kinds:
        q &= Q(kind__in=metric.kinds)
    if metric.weapons:
        q &= Q(weapon__in=metric.weapons)
    if metric.group_involvement:
        q &= Q(group_involvement__in=metric.group_involvement)
    if metric.circumstances:
        q &= Q(circumstance__in=metric.circumstances)
    return q


def populations(jurisdiction: Jurisdiction) -> dict[int, int]:
    return dict(
        Population.objects.filter(jurisdiction=jurisdiction).values_list("year", "population")
    )


def coverage_gaps(covering, first: dt.date, last: dt.date) -> tuple[tuple[dt.date, dt.date], ...]:
    """The spans inside first..last that no covering source covers (outside its span, or
    in one of its gaps)."""
    days = pd.date_range(first, last, freq="D")
    covered = pd.Series(False, index=days)
    for c in covering:
        covered.loc[pd.Timestamp(c.first) : pd.Timestamp(c.last)] = True
        for a, b in c.gaps:
            covered.loc[pd.Timestamp(a) : pd.Timestamp(b)] = False
    if covered.all():
        return ()
    missing = ~covered.to_numpy()
    edges = np.flatnonzero(np.diff(np.r_[0, missing.astype(int), 0]))
    return tuple(
        (days[a].date(), days[b - 1].date()) for a, b in zip(edges[::2], edges[1::2], strict=True)
    )


def incident_sources(metric: Metric, jurisdiction: Jurisdiction) -> list[SourceCoverage]:
    """The incident sources that record the metric's kinds in this place, the primary one
    first: the one set for the place and metric (``PrimarySource``: ``gvrs places
    set-primary`` or the admin), else the one whose coverage of the place is widest (days
    covered, gaps left out; ties by name). Each is a series of its own, never summed."""
    covering = place_coverage(jurisdiction.descendant_ids(), metric.kinds)
    if not covering:
        return []
    ordered = sorted(covering, key=lambda c: (-_covered_days(c), c.source))
    chosen = primary_choice(jurisdiction, metric)
    if chosen is not None:
        ordered.sort(key=lambda c: c.source != chosen)
    return ordered


def incident_source_names(metric: Metric, jurisdiction: Jurisdiction) -> list[str]:
    """The names of ``incident_sources``, the primary one first."""
    return [c.source for c in incident_sources(metric, jurisdiction)]


def _covered_days(coverage: SourceCoverage) -> int:
    days = (coverage.last - coverage.first).days + 1
    return days - sum((b - a).days + 1 for a, b in coverage.gaps)


def primary_choice(jurisdiction: Jurisdiction, metric: Metric) -> str | None:
    """The incident source set as primary for this place and metric (or for every metric of
    the place), if any."""
    rows = dict(
        PrimarySource.objects.filter(
            jurisdiction=jurisdiction, metric__in=[metric.name, ""]
        ).values_list("metric", "source")
    )
    return rows.get(metric.name) or rows.get("")


def primary_basis(metric: Metric, jurisdiction: Jurisdiction, source: str) -> str:
    """Why ``source`` leads this place's figures: "set as primary" or "widest coverage"."""
    if primary_choice(jurisdiction, metric) == source:
        return "set as the primary source"
    return "the widest coverage of this place"


def incident_source(
    metric: Metric, jurisdiction: Jurisdiction, source: str | None = None
) -> tuple[SourceCoverage, bool] | None:
    """(the coverage of the incident source ``source`` names, whether it is the primary
    one); None or "incidents": the primary one. None: no such source records it here."""
    found = incident_sources(metric, jurisdiction)
    if not found:
        return None
    if source in (None, INCIDENTS):
        return found[0], True
    for k, coverage in enumerate(found):
        if coverage.source == source:
            return coverage, k == 0
    return None


def covered_incidents(
    metric: Metric,
    jurisdiction: Jurisdiction,
    *,
    area: Area | None = None,
    source: str | None = None,
) -> tuple[QuerySet, dt.date, dt.date] | None:
    """The metric's incidents in the place from one incident source (``source``; by default
    the primary one), inside its recorded coverage, with the coverage's first and last day;
    None: no data. Two sources are never summed. ``coverage_gaps`` gives the spans inside it
    that are not covered."""
    chosen = incident_source(metric, jurisdiction, source)
    if chosen is None:
        return None
    coverage = chosen[0]
    place = Incident.objects.filter(jurisdiction_id__in=jurisdiction.descendant_ids())
    if area is not None:
        place = place.filter(area=area)
    place = place.filter(
        metric_filter(metric),
        source=coverage.source,
        occurred_on__gte=coverage.first,
        occurred_on__lte=coverage.last,
    )
    return place, coverage.first, coverage.last


def incident_series(
    metric: Metric,
    jurisdiction: Jurisdiction,
    *,
    area: Area | None = None,
    as_of: dt.date | None = None,
    where: dict[str, list[str]] | None = None,
    source: str | None = None,
) -> CountSeries | None:
    """Daily counts of ``metric`` in ``jurisdiction`` (and the places inside it) from one
    incident source (``source``, by default the place's primary one), or None when no such
    source records the metric's kinds ("no data", never 0).

    The series covers its source's recorded coverage (``gvrs.incidents.coverage``), not the
    place's own first and last incident: a quiet place's last months are zeros inside the
    coverage, and a stray record outside it is left out. ``as_of`` ends it earlier.

    ``where`` (and the metric's own ``victims``) counts only the people whose fields have
    those values (``gvrs.incidents.people``), one by one.
    """
    found = _covered_window(metric, jurisdiction, area, as_of, source)
    if found is None:
        return None
    place, first, last, data_end, gaps, chosen = found
    people = _people_filter(metric, where)
    if people is None:
        rows = (
            place.filter(occurred_on__lte=last)
            .values("occurred_on")
            .annotate(n=_AGGREGATE[metric.count])
            .order_by()
            .values_list("occurred_on", "n")
        )
    else:
        rows = (
            _people(metric, place.filter(occurred_on__lte=last), people)
            .values("incident__occurred_on")
            .annotate(n=_people_count(metric))
            .order_by()
            .values_list("incident__occurred_on", "n")
        )
    return _series(metric, jurisdiction, area, list(rows), first, last, data_end, gaps, chosen)


def _covered_window(metric, jurisdiction, area, as_of, source=None):
    """(incidents, first day, last day, end of the data, gaps, (source, primary)), or None:
    no data."""
    chosen = incident_source(metric, jurisdiction, source)
    if chosen is None:
        return None
    coverage, primary = chosen
    covered = covered_incidents(metric, jurisdiction, area=area, source=coverage.source)
    place, first, data_end = covered
    gaps = coverage_gaps([coverage], first, data_end)
    last = min(as_of, data_end) if as_of else data_end
    if last < first:
        return None
    return place, first, last, data_end, gaps, (coverage.source, primary)


def _people_filter(metric: Metric, where: dict[str, list[str]] | None) -> Q | None:
    """The people a filtered figure counts (None: no filter, count the incidents' totals)."""
    if not where and not metric.victims:
        return None
    return person_filter(dict(metric.victims)) & person_filter(where or {})


def _people(metric: Metric, incidents: QuerySet, people: Q) -> QuerySet:
    return PersonInvolved.objects.filter(
        counted(metric), people, role=PersonInvolved.Role.VICTIM, incident__in=incidents
    )


def _people_count(metric: Metric):
    """An incident with two such victims counts once in a figure of incidents."""
    return Count("incident", distinct=True) if metric.count == "incidents" else Count("id")


def _series(metric, jurisdiction, area, rows, first, last, data_end, gaps, chosen, suffix=""):
    source, primary = chosen
    frame = pd.DataFrame(rows, columns=["day", "n"])
    daily = pd.Series(frame["n"].to_numpy(), index=pd.to_datetime(frame["day"]), dtype="int64")
    name = jurisdiction.name if area is None else f"{area.name}, {jurisdiction.name}"
    return CountSeries.from_daily(
        daily,
        first=first,
        last=last,
        metric=metric.name,
        label=metric.label + suffix,
        place=name,
        source=source,
        definition=f"{metric.description} Counted by gvrs from the incident records of {source}.",
        populations=populations(jurisdiction) if area is None else {},
        data_end=data_end,
        gaps=gaps,
        kind=INCIDENTS,
        primary=primary,
    )


def breakdown_series(
    metric: Metric,
    jurisdiction: Jurisdiction,
    field: str,
    *,
    area: Area | None = None,
    as_of: dt.date | None = None,
    where: dict[str, list[str]] | None = None,
    source: str | None = None,
) -> list[tuple[str, CountSeries]]:
    """One daily series per value of the person field ``field`` among the people ``metric``
    counts here (one grouped query), each with the place's coverage: (value, series), the
    values in their order and "not recorded" last. Empty: no data. One incident source
    (``source``, by default the primary one)."""
    person = person_field(field)
    found = _covered_window(metric, jurisdiction, area, as_of, source)
    if found is None:
        return []
    place, first, last, data_end, gaps, chosen = found
    people = _people_filter(metric, where) or Q()
    rows = (
        _people(metric, place.filter(occurred_on__lte=last), people)
        .annotate(group=person.expression())
        .values("incident__occurred_on", "group")
        .annotate(n=_people_count(metric))
        .order_by()
        .values_list("incident__occurred_on", "group", "n")
    )
    by_value: dict[str, list] = {}
    for day, group, n in rows:
        by_value.setdefault(value_label(person, group), []).append((day, n))
    return [
        (
            value,
            _series(
                metric,
                jurisdiction,
                area,
                by_value[value],
                first,
                last,
                data_end,
                gaps,
                chosen,
                suffix=f" ({person.label.lower()}: {value})",
            ),
        )
        for value in order(person, list(by_value))
    ]


def published_series(metric: Metric, jurisdiction: Jurisdiction) -> list[CountSeries]:
    """One annual series per source that publishes ``metric`` for this place; a parent with
    no figure of its own gets the sum of its children's, per source and year."""
    rows = (
        PublishedCount.objects.filter(
            metric=metric.name, jurisdiction_id__in=jurisdiction.descendant_ids()
        )
        # Whole years only: a part-of-year figure (year to date) is compared window for
        # window (``published_window``), never summed into a year.
        .filter(period_start__month=1, period_start__day=1)
        .filter(period_end__month=12, period_end__day=31)
        .values("source", "period_start__year")
        .annotate(total=Sum("count"), places=Count("jurisdiction", distinct=True))
        .order_by("source", "period_start__year")
    )
    by_source: dict[str, dict[int, int]] = {}
    for row in rows:
        by_source.setdefault(row["source"], {})[row["period_start__year"]] = row["total"]
    definitions = dict(
        PublishedCount.objects.filter(metric=metric.name, source__in=list(by_source))
        .values_list("source", "definition")
        .distinct()
    )
    return [
        CountSeries.from_annual(
            counts,
            metric=metric.name,
            label=metric.label,
            place=jurisdiction.name,
            source=source,
            definition=definitions.get(source, ""),
            populations=populations(jurisdiction),
        )
        for source, counts in by_source.items()
    ]


def all_series(
    metric: Metric,
    jurisdiction: Jurisdiction,
    *,
    area: Area | None = None,
    as_of: dt.date | None = None,
    source: str | None = None,
    where: dict[str, list[str]] | None = None,
) -> list[CountSeries]:
    """Every series for this metric and place: one per incident source (the primary one
    first), then each published source. Sources are never merged: a caller shows them side
    by side. ``source`` picks one: an incident source by the name its import gave it,
    "incidents" for the primary incident source, or a published source. A filter of people
    (``where``, or the metric's ``victims``) leaves published counts out: they hold no
    people."""
    found: list[CountSeries] = []
    if source is not None and "+" in source:
        if where or metric.victims or metric.published_only:
            return []
        first, _, second = source.partition("+")
        linked = linked_series(metric, jurisdiction, first, second, area=area, as_of=as_of)
        return [linked] if linked is not None else []
    if not metric.published_only:
        names = [c.source for c in incident_sources(metric, jurisdiction)]
        if source == INCIDENTS:
            names = names[:1]
        elif source is not None:
            names = [n for n in names if n == source]
        for name in names:
            series = incident_series(
                metric, jurisdiction, area=area, as_of=as_of, where=where, source=name
            )
            if series is not None:
                found.append(series)
    if where or metric.victims:
        return found
    if area is None and source != INCIDENTS:
        found += [
            s
            for s in published_series(metric, jurisdiction)
            if source is None or s.source == source
        ]
    return found if area is not None else by_coverage(found, jurisdiction)


def linked_series(
    metric: Metric,
    jurisdiction: Jurisdiction,
    first_source: str,
    second_source: str,
    *,
    area: Area | None = None,
    as_of: dt.date | None = None,
) -> CountSeries | None:
    """The linked union of two incident sources ("A+B", asked for by name, never a
    default): every incident of A, and those of B that ``gvrs link`` finds in no pair with
    one of A's, so each event counts once; over the period both cover. Its definition says
    how many were linked and how many each alone holds. None: no such pair of sources here."""
    held = {c.source: c for c in incident_sources(metric, jurisdiction)}
    if first_source not in held or second_source not in held or first_source == second_source:
        return None
    a, b = held[first_source], held[second_source]
    first, data_end = max(a.first, b.first), min(a.last, b.last)
    last = min(as_of, data_end) if as_of else data_end
    if last < first:
        return None
    ids = jurisdiction.descendant_ids()
    left = linkage_frame(a.source, ids, first, data_end)
    right = linkage_frame(b.source, ids, first, data_end)
    linkage = link_incidents(left, right)
    only_b = right["pk"].to_numpy()[linkage.only_b].tolist()
    place = Incident.objects.filter(
        metric_filter(metric),
        Q(source=a.source) | Q(pk__in=only_b),
        jurisdiction_id__in=ids,
        occurred_on__gte=first,
        occurred_on__lte=last,
    )
    if area is not None:
        place = place.filter(area=area)
    rows = list(
        place.values("occurred_on")
        .annotate(n=_AGGREGATE[metric.count])
        .order_by()
        .values_list("occurred_on", "n")
    )
    gaps = tuple(
        (max(x, first), min(y, data_end))
        for x, y in merge_spans(a.gaps, b.gaps)
        if x <= data_end and y >= first
    )
    name = f"{a.source}+{b.source}"
    series = _series(metric, jurisdiction, area, rows, first, last, data_end, gaps, (name, False))
    return replace(
        series,
        definition=(
            f"{metric.description} Counted by gvrs from the linked union of {a.source} and "
            f"{b.source}, each event once: {len(linkage.pairs):,} incidents linked, "
            f"{len(linkage.only_a):,} only in {a.source}, {len(linkage.only_b):,} only in "
            f"{b.source} ({first} to {data_end}; gvrs link)."
        ),
    )


_PLURAL = {"state": "states", "county": "counties", "city": "cities", "agency": "agencies"}


class PlaceParts:
    """The places directly inside a place that hold any data (incidents of any source, or
    published counts), and which of them each incident source records incidents in."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        ids = jurisdiction.descendant_ids()
        parents = dict(Jurisdiction.objects.filter(pk__in=ids).values_list("pk", "parent_id"))
        levels = dict(jurisdiction.inside().values_list("pk", "level"))
        self.children = set(levels)

        def child_of(pk):
            while pk is not None and pk not in self.children:
                pk = parents.get(pk)
            return pk

        pairs = (
            Incident.objects.filter(jurisdiction_id__in=ids)
            .order_by()
            .values_list("jurisdiction_id", "source")
            .distinct()
        )
        self.by_source: dict[str, set[int]] = {}
        for pk, source in pairs:
            child = child_of(pk)
            if child is not None:
                self.by_source.setdefault(source, set()).add(child)
        published = (
            PublishedCount.objects.filter(jurisdiction_id__in=ids)
            .order_by()
            .values_list("jurisdiction_id", "source")
            .distinct()
        )
        self.by_publisher: dict[str, set[int]] = {}
        for pk, source in published:
            child = child_of(pk)
            if child is not None:
                self.by_publisher.setdefault(source, set()).add(child)
        self.known: set[int] = set()
        for held in [*self.by_source.values(), *self.by_publisher.values()]:
            self.known |= held
        words = [levels[c] for c in self.known]
        common = max(set(words), key=words.count) if words else "place"
        self.word = _PLURAL.get(common, "places")

    def partial(self, source: str, published: bool = False) -> str:
        """ "incidents recorded in 1 of 58 counties" (or "published for 1 of 2 states")
        when ``source`` holds figures for only some of the places here that hold data; ""
        when it covers them all."""
        held = (self.by_publisher if published else self.by_source).get(source, set())
        if not self.known or self.known <= held:
            return ""
        what = "published for" if published else "incidents recorded in"
        return f"{what} {len(held & self.known)} of {len(self.known)} {self.word}"


def by_coverage(found: list[CountSeries], jurisdiction: Jurisdiction) -> list[CountSeries]:
    """Series of a place that holds others, in the order a reader is shown them: a figure
    counted from incidents leads only where its source records the whole place; a source
    that records some of the places inside (the simulated county's incidents, for all of
    California) says so and stands after the published series, which then lead."""
    if not found or not jurisdiction.inside().exists():
        return found
    parts = PlaceParts(jurisdiction)
    groups: dict[tuple[bool, bool], list[CountSeries]] = {}
    for s in found:
        note = parts.partial(s.source, published=not s.from_incidents)
        if note:
            s = replace(s, partial=note, primary=False)
        groups.setdefault((bool(note), s.from_incidents), []).append(s)
    whole = groups.get((False, True), [])
    if whole and not whole[0].primary:
        whole[0] = replace(whole[0], primary=True)
    # Whole-place incident series, then published ones, then the partial: published first.
    return (
        whole
        + groups.get((False, False), [])
        + groups.get((True, False), [])
        + groups.get((True, True), [])
    )


def count_expression(metric: Metric):
    """The aggregate that counts ``metric`` over incidents: incidents, or the people in them."""
    return _AGGREGATE[metric.count]


def published_window(
    metric: Metric, jurisdiction: Jurisdiction, start: dt.date, end: dt.date
) -> dict[str, int]:
    """Each source's published figure for exactly the window ``start``..``end`` in this
    place (its own figure, or its places' summed when every one of them has that window)."""
    rows = (
        PublishedCount.objects.filter(
            metric=metric.name,
            jurisdiction_id__in=jurisdiction.descendant_ids(),
            period_start=start,
            period_end=end,
        )
        .values("source")
        .annotate(total=Sum("count"))
        .order_by("source")
    )
    return {row["source"]: row["total"] for row in rows}
