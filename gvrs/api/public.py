"""The public figures of a published place, without a token: exactly what its public dashboard
and its ``data.csv`` show (``gvrs.public.published.build_page``), perturbed and suppressed; a
place that is not published answers as a place that does not exist."""

from __future__ import annotations

from ninja import Query, Router
from ninja.errors import HttpError

from gvrs.api import schemas
from gvrs.api.common import cached
from gvrs.data.metrics import load_metrics
from gvrs.public.models import PublicDashboard
from gvrs.public.published import NotPublishedError, build_page

router = Router(tags=["public"], auth=None)

NOT_PUBLISHED = "No published place has this slug."


@router.get("", response={200: list[schemas.PublicPlace]}, auth=None)
def published_places(request):
    """The places whose public dashboard an administrator has switched on."""
    return [
        {"slug": d.jurisdiction.slug, "name": d.jurisdiction.name, "metric": d.metric}
        for d in PublicDashboard.objects.published().select_related("jurisdiction")
    ]


@router.get("/{slug}", response={200: schemas.PublicFigures, **schemas.PUBLIC_ERRORS}, auth=None)
def public_figures(
    request,
    slug: str,
    year: int | None = Query(None, ge=1900, le=2100, description="default: the latest year"),
):
    """Every figure of the place's public dashboard, small counts suppressed: each cell's
    text as the page shows it and its number only where the number is shown."""
    dashboard = (
        PublicDashboard.objects.published()
        .filter(jurisdiction__slug=slug)
        .select_related("jurisdiction")
        .first()
    )
    if dashboard is None:
        raise HttpError(404, NOT_PUBLISHED)
    metrics = load_metrics()
    metric = metrics.get(dashboard.metric) or metrics["shootings"]

    def compute() -> dict:
        try:
            page = build_page(dashboard.jurisdiction, metric, dashboard.threshold, year=year)
        except NotPublishedError as exc:
            return {"refused": str(exc)}
        return {
            "place": page.jurisdiction,
            "slug": page.slug,
            "metric": page.metric.name,
            "label": page.metric.label,
            "threshold": page.threshold,
            "perturbed_within": page.perturbed_within,
            "coverage": page.coverage,
            "published_from": page.published_from,
            "published_through": page.published_through,
            "last_imported": page.last_imported,
            "sources": page.sources,
            "made_at": page.made_at,
            "year_to_date": page.ytd_sentence,
            "breakdown_year": page.breakdown_year,
            "breakdown_years": page.breakdown_years,
            "no_data": page.no_data,
            "tables": [
                {
                    "key": t.key,
                    "title": t.title,
                    "row_header": t.row_header,
                    "columns": t.columns,
                    "rows": [
                        {
                            "label": label,
                            "cells": [
                                {"text": c.text, "value": c.value, "state": c.state} for c in cells
                            ],
                        }
                        for label, cells in t.rows
                    ],
                    "note": t.note,
                }
                for t in page.tables
            ],
        }

    settings_key = (dashboard.pk, dashboard.metric, dashboard.threshold, dashboard.updated_at)
    answer = cached("public", (slug, year, *settings_key), compute)
    if "refused" in answer:
        raise HttpError(404, answer["refused"])
    return answer
