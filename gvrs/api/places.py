"""Places: search, one place, the places inside it, and what its sources cover."""

from __future__ import annotations

from django.db.models import Max, Min
from ninja import Query, Router

from gvrs.api import schemas
from gvrs.api.common import FIGURES, place_of, require
from gvrs.incidents.coverage import place_coverage
from gvrs.incidents.models import Area, Jurisdiction, PublishedCount
from gvrs.public.models import PublicDashboard
from gvrs.reports.places import Place, find_places, outermost, places_inside

router = Router(tags=["places"])


def _place(place: Jurisdiction) -> schemas.Place:
    path = place.path.rpartition(" > ")[0]
    return schemas.Place(slug=place.slug, name=place.name, level=place.level, path=path)


def _found(found: Place) -> schemas.Place:
    return schemas.Place(slug=found.slug, name=found.name, level=found.level, path=found.path)


@router.get("", response={200: list[schemas.Place], **schemas.ERRORS})
def search(request, q: str = Query("", max_length=100, description="part of a place's name")):
    """Places whose name contains ``q``, the closest first; without ``q``, the outermost
    places (the states, or the counties of a one-state registry)."""
    require(request, FIGURES, "figures")
    if q.strip():
        return [_found(p) for p in find_places(q)]
    return [_place(p) for p in outermost().select_related("parent").order_by("name")[:200]]


@router.get("/{slug}", response={200: schemas.PlaceDetail, **schemas.ERRORS})
def place(request, slug: str):
    """One place: its level, codes, parent, areas and whether it publishes a public page."""
    require(request, FIGURES, "figures")
    found = place_of(slug)
    return schemas.PlaceDetail(
        **_place(found).dict(),
        state=found.state,
        parent=found.parent.slug if found.parent_id else None,
        ori=found.ori,
        geoid=found.geoid,
        baseline_year=found.baseline_year,
        areas=list(
            Area.objects.filter(jurisdiction_id__in=found.descendant_ids())
            .order_by("name")
            .values_list("name", flat=True)
            .distinct()[:1000]
        ),
        public_dashboard=PublicDashboard.objects.published().filter(jurisdiction=found).exists(),
    )


@router.get("/{slug}/children", response={200: schemas.Children, **schemas.ERRORS})
def children(request, slug: str):
    """The places directly inside this one, each with its latest published homicides and its
    incidents over the 12 months to the data's end (as the overview's "Places inside")."""
    require(request, FIGURES, "figures")
    found = place_of(slug)
    inside = places_inside(found)
    return schemas.Children(
        place=_place(found),
        incidents_through=inside.incidents_through,
        children=[
            schemas.Inside(
                slug=row.place.slug,
                name=row.place.name,
                level=row.place.level,
                published_year=row.published_year,
                published_homicides=row.published_homicides,
                incidents_12_months=row.incidents_12_months,
                published_note=row.published_note,
            )
            for row in inside.rows
        ],
    )


@router.get("/{slug}/coverage", response={200: schemas.Coverage, **schemas.ERRORS})
def coverage(request, slug: str):
    """What each source covers here: incident sources with the period their files cover
    (a recorded fact, never guessed from the last incident), published series by year."""
    require(request, FIGURES, "figures")
    found = place_of(slug)
    ids = found.descendant_ids()
    published = (
        PublishedCount.objects.filter(jurisdiction_id__in=ids)
        .values("metric", "source")
        .annotate(first=Min("period_start__year"), last=Max("period_end__year"))
        .order_by("metric", "source")
    )
    return schemas.Coverage(
        place=_place(found),
        incident_sources=[
            schemas.SourceCoverage(
                source=c.source,
                first=c.first,
                last=c.last,
                kinds=sorted(c.kinds),
                recorded=c.recorded,
                warnings=list(c.warnings),
            )
            for c in place_coverage(ids)
        ],
        published=[
            schemas.PublishedSeries(
                metric=p["metric"], source=p["source"], first_year=p["first"], last_year=p["last"]
            )
            for p in published
        ],
    )
