"""A place's figures: series, comparisons, projections, hot spots and area rankings, and the
evaluations already run. Each answer comes from the domain functions the pages and commands
call, through ``gvrs.api.disclosure`` for the token's user."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Query, Router
from ninja.errors import HttpError

from gvrs.api import disclosure, schemas
from gvrs.api.common import (
    FIGURES,
    area_of,
    cached,
    json_response,
    metric_of,
    place_of,
    rendered,
    require,
)
from gvrs.api.csvout import csv_response, csv_text
from gvrs.api.schemas import Day
from gvrs.evaluation.models import EvaluationRun
from gvrs.incidents.versions import registry_version

router = Router(tags=["figures"])

By = Literal["year", "quarter", "month", "week"]
CSV = "text/csv"
# The series answers CSV as well as JSON: declared so the schema names both.
_BOTH = {
    "responses": {
        200: {
            "content": {
                CSV: {
                    "schema": {"type": "string"},
                    "example": "metric,jurisdiction,source,period,...\n",
                }
            }
        }
    }
}
SERIES_COLUMNS = [
    "metric",
    "jurisdiction",
    "source",
    "period",
    "period_start",
    "period_end",
    "count",
    "rate_per_100k",
    "ci_low",
    "ci_high",
    "complete",
    "change",
    "change_pct",
    "p_value",
    "vs_period",
    "vs_count",
    "compared_window",
    "history",
    "sentence",
    "data_from",
    "data_through",
    "coverage",
]


def _wants_csv(request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    accept = request.headers.get("Accept", "")
    return CSV in accept and "application/json" not in accept


@router.get("/{slug}/series", response={200: schemas.Series, **schemas.ERRORS}, openapi_extra=_BOTH)
def series(
    request,
    slug: str,
    metric: str = Query("homicides", description="e.g. homicides, shootings"),
    by: By = "year",
    source: str | None = Query(None, description="default: the place's primary source"),
    area: str | None = Query(None, description="a neighbourhood or beat inside the place"),
    since: Day | None = Query(None, description="first day counted"),
    until: Day | None = Query(None, description="last day counted"),
    as_of: Day | None = Query(None, description="count as if the data ended this day"),
    format: Literal["json", "csv"] | None = Query(
        None, description="csv: the rows as a CSV file (or send Accept: text/csv)"
    ),
):
    """A metric for the place by year, quarter, month or ISO week, from one source, with each
    period's exact 95% interval, its change on the period before and the exact test."""
    require(request, FIGURES, "figures")
    place, chosen = place_of(slug), metric_of(metric)
    where = area_of(place, area)
    if since and until and until < since:
        raise HttpError(400, "until is before since.")
    key = (slug, chosen.name, by, source, area, since, until, as_of)

    def compute() -> dict:
        found = disclosure.series_for(
            request.user, chosen, place, area=where, as_of=as_of, source=source
        )
        first = found[0]
        return {
            "place": first.place,
            "metric": chosen.name,
            "label": chosen.label,
            "unit": chosen.unit,
            "by": by,
            "source": first.source,
            "sources": [s.source for s in found],
            "definition": first.definition,
            "coverage": first.coverage(),
            "rows": disclosure.rows_for(request.user, first, by, since, until),
        }

    def both() -> dict:
        answer = compute()
        return {
            "json": rendered(schemas.Series, answer),
            "csv": csv_text(answer["rows"], SERIES_COLUMNS),
        }

    answer = cached("series", (*key, disclosure.level(request.user)), both)
    if _wants_csv(request, format):
        return csv_response(answer["csv"], f"{slug}-{chosen.name}-by-{by}.csv")
    return json_response(answer["json"])


@router.get("/{slug}/compare", response={200: schemas.Comparisons, **schemas.ERRORS})
def compare(
    request,
    slug: str,
    period: str = Query(..., description="e.g. 2024, 2024-YTD, 2024-Q3, 2024-06"),
    vs: str = Query(..., description="the period to compare against, e.g. 2023-YTD"),
    metric: str = "homicides",
    source: str | None = None,
    area: str | None = None,
    as_of: Day | None = None,
):
    """One change per source between two periods of equal length, with its counts, the
    exact (conditional binomial) test and the sentence the pages print."""
    require(request, FIGURES, "figures")
    place, chosen = place_of(slug), metric_of(metric)
    where = area_of(place, area)

    def compute() -> dict:
        records, problems = disclosure.comparisons_for(
            request.user, chosen, place, period, vs, area=where, as_of=as_of, source=source
        )
        return {"comparisons": records, "not_compared": problems}

    key = (slug, chosen.name, period, vs, source, area, as_of, disclosure.level(request.user))
    return cached("compare", key, compute)


@router.get("/{slug}/projection", response={200: schemas.Projection, **schemas.ERRORS})
def projection(
    request,
    slug: str,
    metric: str = "homicides",
    source: str | None = Query(None, description="default: incidents"),
    as_of: Day | None = None,
    level: float = Query(0.9, gt=0.5, lt=1, description="the prediction interval's coverage"),
):
    """The year-end total projected from the year to date, with its prediction interval and
    what it assumes; a year that is over has nothing to project (404, saying so)."""
    require(request, FIGURES, "figures")
    place, chosen = place_of(slug), metric_of(metric)
    key = (slug, chosen.name, source, as_of, level, disclosure.level(request.user))
    return cached(
        "projection",
        key,
        lambda: disclosure.projection_for(
            request.user, chosen, place, as_of=as_of, source=source, level=level
        ),
    )


def _map(request, slug, metric, area, since, until):
    """The dashboard map's answer for this window: by default the year to the data's end."""
    require(request, FIGURES, "figures")
    place, chosen = place_of(slug), metric_of(metric)
    where = area_of(place, area)
    if since and until and until < since:
        raise HttpError(400, "until is before since.")

    def compute():
        found = disclosure.series_for(
            request.user, chosen, place, area=where, as_of=until, source=None
        )
        daily = next((s for s in found if s.resolution == "day"), None)
        if daily is None:
            raise HttpError(404, f"No incident records of {chosen.name} for {place.name}.")
        end = until or daily.last
        start = since or end - dt.timedelta(days=365)
        if end < start:
            raise HttpError(400, "since is after the data's end.")
        return disclosure.area_map_for(request.user, chosen, place, where, start, end), start, end

    key = (slug, chosen.name, area, since, until, disclosure.level(request.user))
    return place, chosen, *cached("map", key, compute)


@router.get("/{slug}/hotspots", response={200: schemas.Hotspots, **schemas.ERRORS})
def hotspots(
    request,
    slug: str,
    metric: str = "shooting_incidents",
    area: str | None = None,
    since: Day | None = Query(None, description="default: a year before until"),
    until: Day | None = Query(None, description="default: the data's last day"),
):
    """Counts per grid cell, the dashboard map's cells: cell centres only, never an incident's
    coordinate; for roles without restricted rights, cells under the threshold left out."""
    from django.conf import settings

    place, chosen, found, start, end = _map(request, slug, metric, area, since, until)
    return schemas.Hotspots(
        place=place.name,
        metric=chosen.name,
        since=start,
        until=end,
        cell_m=found.cell_m,
        exact=found.exact,
        threshold=settings.GVRS_SUPPRESS_BELOW,
        note=found.note,
        cells=[schemas.Cell(lon=c.lon, lat=c.lat, count=c.count) for c in found.cells],
        cells_year=found.cells_year,
    )


@router.get("/{slug}/areas", response={200: schemas.AreaRanking, **schemas.ERRORS})
def areas(
    request,
    slug: str,
    metric: str = "shooting_incidents",
    area: str | None = None,
    since: Day | None = Query(None, description="default: a year before until"),
    until: Day | None = Query(None, description="default: the data's last day"),
):
    """The areas ranked by their count in the window, against the same number of days just
    before, with the exact test; small counts suppressed for roles without restricted rights."""
    place, chosen, found, start, end = _map(request, slug, metric, area, since, until)
    return schemas.AreaRanking(
        place=place.name,
        metric=chosen.name,
        since=start,
        until=end,
        window=found.window,
        window_before=found.window_before,
        note=found.note,
        areas=[schemas.AreaRow(**row.__dict__) for row in found.rows],
    )


@router.get("/{slug}/evaluations", response={200: list[schemas.EvaluationRun], **schemas.ERRORS})
def evaluations(request, slug: str, metric: str | None = None):
    """Evaluations already run for this place (on the evaluation page or by `gvrs evaluate`),
    the latest first; ``current`` is false for one made before the registry last changed."""
    require(request, FIGURES, "figures")
    place = place_of(slug)
    runs = EvaluationRun.objects.filter(place_id=place.pk)
    if metric:
        runs = runs.filter(metric=metric_of(metric).name)
    version = registry_version()
    return [
        schemas.EvaluationRun(
            id=run.pk,
            place=run.place_name,
            metric=run.metric,
            method=run.method,
            start=run.start,
            source=run.source,
            computed_at=run.computed_at,
            current=run.registry_version == version,
            made_by=run.made_by,
            record=run.record,
        )
        for run in runs[:100]
    ]
