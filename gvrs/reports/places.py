"""Finding a place and what lies inside it: the place finder's results with their paths
("California > Kern County > Bakersfield") and the places inside a county with their latest
figures. Each is a handful of bulk queries, however many places the registry holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q

from gvrs.incidents.coverage import source_coverage
from gvrs.incidents.models import Incident, Jurisdiction, PublishedCount


@dataclass(frozen=True)
class Place:
    slug: str
    name: str
    level: str
    path: str  # the names above it, outermost first: "California > Kern County"


@dataclass(frozen=True)
class Inside:
    """A place inside another, with its latest figures (either may be missing)."""

    place: Place
    published_year: int | None
    published_homicides: int | None
    incidents_12_months: int | None
    # Where the place publishes no figure of its own: "sum of 12 agencies" (its places'
    # figures of one source and year, summed).
    published_note: str = ""


def home_jurisdiction() -> Jurisdiction | None:
    """The place this deployment serves: the admin's choice, else ``GVRS_HOME_JURISDICTION``
    (a name or slug). None when neither names exactly one place."""
    from gvrs.reports.models import SiteSettings

    chosen = SiteSettings.objects.filter(pk=1).values_list("home_jurisdiction", flat=True).first()
    if chosen:
        return Jurisdiction.objects.filter(pk=chosen).first()
    name = settings.GVRS_HOME_JURISDICTION
    if not name:
        return None
    try:
        return Jurisdiction.objects.named(name)
    except (Jurisdiction.DoesNotExist, Jurisdiction.MultipleObjectsReturned):
        return None


def _parents() -> dict[int, tuple[str, int | None]]:
    """Every place's name and parent, in one query, to write paths without a query each."""
    return {
        pk: (name, parent)
        for pk, name, parent in Jurisdiction.objects.values_list("pk", "name", "parent_id")
    }


def _path(pk: int, parents: dict[int, tuple[str, int | None]]) -> str:
    names, parent = [], parents[pk][1]
    while parent is not None and len(names) < 10:
        names.append(parents[parent][0])
        parent = parents[parent][1]
    return " > ".join(reversed(names))


def find_places(query: str, limit: int = 30) -> list[Place]:
    """Places whose name contains ``query`` (case-insensitive), the closest first: exact
    names, then names that start with it, then the rest; counties before the places in them."""
    query = query.strip()
    if not query:
        return []
    found = list(
        Jurisdiction.objects.filter(name__icontains=query).values_list(
            "pk", "slug", "name", "level"
        )[:500]
    )
    lowered = query.lower()

    def closeness(row) -> tuple:
        name = row[2].lower()
        return (name != lowered, not name.startswith(lowered), len(name), name)

    found.sort(key=closeness)
    parents = _parents()
    return [Place(slug, name, level, _path(pk, parents)) for pk, slug, name, level in found[:limit]]


def outermost():
    """The outermost places: the states, or, when the registry holds one state only, its
    counties (a one-state deployment is found by county, not by its state)."""
    tops = Jurisdiction.objects.filter(parent__isnull=True).exclude(level=Jurisdiction.Level.NATION)
    only = list(tops[:2])
    if len(only) == 1 and only[0].level == Jurisdiction.Level.STATE:
        return only[0].children.all()
    return tops


def top_places() -> list[tuple[Place, int]]:
    """The outermost places (states or counties) with how many places each holds."""
    tops = outermost().annotate(inside=Count("children")).select_related("parent")
    return [
        (Place(j.slug, j.name, j.level, j.parent.name if j.parent else ""), j.inside)
        for j in tops.order_by("name")
    ]


@dataclass(frozen=True)
class PlacesInside:
    rows: list[Inside]
    incidents_through: dt.date | None  # the 12 months counted end on this day


def places_inside(jurisdiction: Jurisdiction, *, limit: int = 200) -> PlacesInside:
    """The places directly inside ``jurisdiction`` with the latest published homicides and the
    incidents recorded in each (including the places inside them) over the 12 months to the
    latest incident under ``jurisdiction``: a window past the data's end would read as zero."""
    children = list(jurisdiction.inside().order_by("name")[:limit])
    if not children:
        return PlacesInside([], None)
    parents = _parents()
    child_ids = {c.pk for c in children}

    def child_of(pk: int) -> int | None:
        while pk is not None and pk not in child_ids:
            pk = parents[pk][1] if pk in parents else None
        return pk

    subtree = [pk for pk in parents if child_of(pk) is not None]
    latest, published, notes = _latest_published(child_ids, subtree, child_of)
    # One pass over the places' incidents gives which places have any and from which sources.
    # The data's end is those sources' recorded coverage, never the latest (maybe stray) record.
    pairs = list(
        Incident.objects.filter(jurisdiction_id__in=subtree)
        .order_by()
        .values_list("jurisdiction_id", "source")
        .distinct()
    )
    has_incidents = {child_of(pk) for pk, _ in pairs}
    coverage = source_coverage(sorted({source for _, source in pairs}))
    through = max((c.last for c in coverage.values()), default=None)
    # Per place and source: a place with two incident sources shows the larger count, never
    # the two added (they would count the same shootings twice).
    by_source: dict[tuple[int, str], int] = {}
    if through is not None:
        for pk, source, n in (
            Incident.objects.filter(
                jurisdiction_id__in=subtree,
                occurred_on__gt=through - dt.timedelta(days=365),
                occurred_on__lte=through,
            )
            .values("jurisdiction_id", "source")
            .annotate(n=Count("id"))
            .values_list("jurisdiction_id", "source", "n")
        ):
            key = (child_of(pk), source)
            by_source[key] = by_source.get(key, 0) + n
    recent: dict[int, int] = {}
    for (pk, _), n in by_source.items():
        recent[pk] = max(recent.get(pk, 0), n)
    rows = [
        Inside(
            place=Place(c.slug, c.name, c.level, ""),
            published_year=latest.get(c.pk),
            published_homicides=published.get(c.pk),
            incidents_12_months=recent.get(c.pk, 0) if c.pk in has_incidents else None,
            published_note=notes.get(c.pk, ""),
        )
        for c in children
    ]
    return PlacesInside(rows, through)


def _latest_published(child_ids, subtree, child_of):
    """Each child's latest whole-year published homicides: its own figure (the latest
    year), else its places' figures of one source summed for the latest year that source
    gives (a county that publishes none: its agencies, "sum of 12 agencies"). Returns
    ({child: year}, {child: count}, {child: note})."""
    rows = (
        PublishedCount.objects.filter(
            Q(jurisdiction_id__in=subtree, metric="homicides"),
            period_start__month=1,
            period_start__day=1,
            period_end__month=12,
            period_end__day=31,
        )
        .values_list("jurisdiction_id", "source", "period_start__year", "count")
        .order_by()
    )
    own: dict[int, tuple[int, int]] = {}
    summed: dict[tuple[int, str, int], list[int]] = {}
    for pk, source, year, count in rows:
        if pk in child_ids:
            if pk not in own or year > own[pk][0]:
                own[pk] = (year, count)
            continue
        child = child_of(pk)
        if child is not None:
            summed.setdefault((child, source, year), []).append(count)
    latest, published, notes = {}, {}, {}
    for pk, (year, count) in own.items():
        latest[pk], published[pk] = year, count
    best: dict[int, tuple[int, int, str]] = {}
    for (child, source, year), counts in summed.items():
        if child in own:
            continue
        key = (year, len(counts), source)
        if child not in best or key > best[child]:
            best[child] = key
    for child, (year, _, source) in best.items():
        counts = summed[(child, source, year)]
        latest[child], published[child] = year, sum(counts)
        notes[child] = f"sum of {len(counts)} place{'s' if len(counts) != 1 else ''} inside"
    return latest, published, notes
