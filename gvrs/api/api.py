"""The API object: its routers, its security schemes and how a refusal reads.

Every operation but the public figures needs a token; each declares the errors it may
answer (400 a question the data cannot answer as asked, 401 no valid token, 403 the role
may not read this, 404 no such place or no data, 422 a parameter that is not valid, 429 too
many requests for this token), so the schema says everything a client can get back.
"""

from __future__ import annotations

import json
import math

from django.shortcuts import render
from ninja import NinjaAPI, Swagger
from ninja.errors import Throttled

from gvrs.analysis.counts import SeriesError
from gvrs.api import figures, incidents, places, public
from gvrs.api.auth import TOKEN, TokenRate
from gvrs.reports.statistics import StatisticsError

DESCRIPTION = """
Read-only access to gvrs's figures for spreadsheets, BI tools and scripts: places, series of a
metric with exact intervals, comparisons with their test, year-end projections, hot spots and
area rankings, evaluations already run, incident records (roles with restricted rights only)
and, without a token, the public figures of published places.

Send a personal token (made on your account page) as `Authorization: Bearer gvrs_…`. Every
figure is the one the pages show your role, with the same suppression of small counts. See
docs/api.md (in the application under Help) for worked examples.
""".strip()


class Docs(Swagger):
    """Swagger UI from the installed package's files (settings add its templates and static
    folders). django-ninja serves them only when it is an installed app, and otherwise
    fetches Swagger from a CDN; as an installed app it is imported at every start-up."""

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            "add_csrf": False,  # token authentication only: no session, no CSRF
        }
        return render(request, self.template, context)


api = NinjaAPI(
    docs=Docs(),
    title="gvrs API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=TOKEN,
    throttle=[TokenRate()],
)
api.add_router("/places", places.router)
api.add_router("/places", figures.router)
api.add_router("/incidents", incidents.router)
api.add_router("/public", public.router)


@api.exception_handler(StatisticsError)
def _statistics_error(request, exc: StatisticsError):
    return api.create_response(request, {"detail": str(exc)}, status=400 if exc.usage else 404)


@api.exception_handler(SeriesError)
def _series_error(request, exc: SeriesError):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(Throttled)
def _throttled(request, exc: Throttled):
    response = api.create_response(
        request, {"detail": "Too many requests for this token; wait and retry."}, status=429
    )
    if exc.wait is not None:
        response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
    return response
