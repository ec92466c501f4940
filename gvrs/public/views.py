"""The public dashboard: anyone, without sign-in, for a place an administrator has published.

Every view here is reachable anonymously; nothing else in the site is. A place that is not
published raises the same ``Http404`` as a place that does not exist, so the two answers are
the same bytes. Pages and downloads are rendered once per registry version (every import, a
population, an edit in the admin) and per public setting, and served from the database cache
to every app server.
"""

from __future__ import annotations

import csv
import hashlib
import io

from django.core.cache import cache
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_safe

from gvrs.data.csvsafe import inert
from gvrs.data.metrics import load_metrics
from gvrs.public.charts import charts
from gvrs.public.models import PublicDashboard
from gvrs.public.published import REVISION_POLICY, NotPublishedError, PublicPage, build_page
from gvrs.reports.views import registry_version

# Browsers and proxies may keep a public page this long; the server's own cache is
# invalidated at once by an import or a setting change.
MAX_AGE_S = 60


def _published(slug: str) -> PublicDashboard:
    """The published dashboard of the place ``slug``, or the 404 of a missing place."""
    found = (
        PublicDashboard.objects.published()
        .select_related("jurisdiction")
        .filter(jurisdiction__slug=slug)
    ).first()
    if found is None:
        raise Http404("no such place")
    return found


def _version() -> str:
    settings = PublicDashboard.objects.aggregate(last=Max("updated_at"), n=Count("pk"))
    return f"{registry_version()}-{settings['last']}-{settings['n']}"


def _year(request: HttpRequest) -> int | None:
    text = request.GET.get("year", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise Http404("no such year")
    return int(text)


def _cached(kind: str, dashboard: PublicDashboard, year: int | None, render_it) -> bytes:
    parts = ("public", kind, dashboard.pk, year or "", _version())
    key = "public-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    body = cache.get(key)
    if body is None:
        body = render_it()
        cache.set(key, body)
    return body


def _page(dashboard: PublicDashboard, year: int | None) -> PublicPage:
    metrics = load_metrics()
    metric = metrics.get(dashboard.metric) or metrics["shootings"]
    return build_page(dashboard.jurisdiction, metric, dashboard.threshold, year=year)


def _public(response: HttpResponse) -> HttpResponse:
    response.headers.setdefault("Cache-Control", f"public, max-age={MAX_AGE_S}")
    return response


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The places that publish a dashboard."""
    published = PublicDashboard.objects.published().select_related("jurisdiction")
    return _public(render(request, "public/index.html", {"dashboards": published}))


@require_safe
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    published = _published(slug)
    year = _year(request)

    def render_it() -> bytes:
        try:
            page = _page(published, year)
        except NotPublishedError as exc:
            return (
                b"refused:"
                + render_to_string(
                    "public/refused.html", {"reason": str(exc), "slug": slug}
                ).encode()
            )
        context = {
            "page": page,
            "charts": charts(page, published.jurisdiction.descendant_ids()),
            "revision_policy": REVISION_POLICY,
            "year_param": year,
        }
        return render_to_string("public/dashboard.html", context).encode()

    body = _cached("html", published, year, render_it)
    if body.startswith(b"refused:"):
        # A period outside the data's coverage is refused, saying why.
        return _public(HttpResponse(body[len(b"refused:") :], status=404))
    return _public(HttpResponse(body))


def page_csv(page: PublicPage) -> bytes:
    """Every figure the page shows, one per line, suppression applied: the value is the
    count or its label ("fewer than 11", "suppressed", "no data")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "row", "column", "value"])
    meta = [
        ("place", page.jurisdiction),
        ("metric", f"{page.metric.name}: {page.metric.description}"),
        ("counting unit", page.metric.unit),
        ("coverage", page.coverage),
        (
            "published",
            f"{page.published_from} to {page.published_through}" if page.published_from else "",
        ),
        ("last imported", page.last_imported.isoformat() if page.last_imported else ""),
        ("made", page.made_at.replace(microsecond=0).isoformat()),
        ("suppression", f"counts from 1 to {page.threshold} shown as {page.fewer_label}"),
        ("sources", "; ".join(page.sources)),
    ]
    for name, value in meta:
        writer.writerow([inert(v) for v in ("about", name, "", value)])
    for table in page.tables:
        for label, cells in table.rows:
            for column, cell in zip(table.columns, cells, strict=True):
                # A shown count as a plain number; anything else as the label the page shows.
                value = str(cell.value) if cell.value is not None else cell.text
                writer.writerow([inert(v) for v in (table.key, label, column, value)])
    return out.getvalue().encode()


@require_safe
def download(request: HttpRequest, slug: str) -> HttpResponse:
    published = _published(slug)
    year = _year(request)

    def render_it() -> bytes:
        try:
            return page_csv(_page(published, year))
        except NotPublishedError as exc:
            return b"refused:" + str(exc).encode()

    body = _cached("csv", published, year, render_it)
    if body.startswith(b"refused:"):
        return _public(
            HttpResponse(body[len(b"refused:") :], status=404, content_type="text/plain")
        )
    stamp = timezone.now().strftime("%Y%m%d")
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"{slug}-{year or 'latest'}-{stamp}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return _public(response)
