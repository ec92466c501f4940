"""The public dashboard: anyone, without sign-in, for a place an administrator has published.

Every view here is reachable anonymously; nothing else in the site is. A place that is not
published raises the same ``Http404`` as a place that does not exist, so the two answers are
the same bytes. Pages and downloads are rendered once per registry version (every import, a
population, an edit in the admin) and per public setting, and served from the database cache
to every app server.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from gvrs.data import csvsafe
from gvrs.data.metrics import load_metrics
from gvrs.incidents.models import Jurisdiction
from gvrs.public.charts import charts
from gvrs.public.models import PublicDashboard
from gvrs.public.published import (
    REVISION_POLICY,
    NotPublishedError,
    PublicPage,
    build_page,
    language,
)

# Browsers and proxies may keep a public page this long; the server's own cache is
# invalidated at once by an import or a setting change.
MAX_AGE_S = 60


# One query answers both "is this place published, and how" and "has anything the page
# shows changed": the registry's version as ``gvrs.incidents.versions.registry_version`` reads it
# (imports, populations, baselines, any edit in the admin) plus the public settings. Written
# out in SQL because it runs on every public request (the ORM's compiling of six aggregates
# cost more than serving the cached page).
_LOOKUP = """
SELECT d.id, d.threshold, d.metric, d.jurisdiction_id,
  (SELECT MAX(id) FROM django_admin_log),
  (SELECT MAX(id) FROM incidents_importrun),
  (SELECT MAX(finished_at) FROM incidents_importrun),
  (SELECT MAX(id) FROM incidents_population),
  (SELECT COUNT(*) FROM incidents_population),
  (SELECT SUM(baseline_year) FROM incidents_jurisdiction),
  (SELECT MAX(updated_at) FROM public_publicdashboard),
  (SELECT COUNT(*) FROM public_publicdashboard)
FROM public_publicdashboard d JOIN incidents_jurisdiction j ON j.id = d.jurisdiction_id
WHERE j.slug = %s AND d.enabled
"""


@dataclass(frozen=True)
class _Published:
    pk: int
    threshold: int
    metric: str
    jurisdiction_id: int
    version: str


# How long (seconds) a process trusts the version it last read for a place before asking the
# database again. Within it a cached request touches no database at all: opening SQLite's
# connection and reading the version was two thirds of a cached request's CPU. A write this
# process makes through the ORM to anything the version reads (see ``forget_versions``) clears
# it at once; a write from another process (an import worker, another app server) shows
# within this bound, the same order as the 60 s browsers may keep a page anyway.
FRESH_S = 2.0
_VERSIONS: dict[str, tuple[float, _Published | None]] = {}
_VERSIONS_SIZE = 256  # a crawler asking for made-up places cannot grow it without bound


def forget_versions(**kwargs) -> None:
    """Connected to the saving and deleting of every model the version reads."""
    _VERSIONS.clear()


def _published(slug: str) -> _Published:
    """The published dashboard of the place ``slug`` with the version of what it shows, or
    the 404 of a missing place."""
    now = time.monotonic()
    known = _VERSIONS.get(slug)
    if known is not None and now - known[0] < FRESH_S:
        published = known[1]
    else:
        with connection.cursor() as cursor:
            cursor.execute(_LOOKUP, [slug])
            row = cursor.fetchone()
        published = None
        if row is not None:
            published = _Published(row[0], row[1], row[2], row[3], "-".join(map(str, row[4:])))
        if len(_VERSIONS) >= _VERSIONS_SIZE:
            _VERSIONS.clear()
        _VERSIONS[slug] = (now, published)
    if published is None:
        raise Http404("no such place")
    return published


def _year(request: HttpRequest) -> int | None:
    text = request.GET.get("year", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise Http404("no such year")
    return int(text)


# Pages already rendered, per process: a repeated request costs one query and no read of the
# shared cache. Keys carry the version, so a stale entry is never served, only evicted.
_RECENT: OrderedDict[str, bytes] = OrderedDict()
_RECENT_SIZE = 32


def _key(kind: str, dashboard: _Published, year: int | None) -> str:
    """The cache key of a page or download: its place, year, version and language."""
    parts = ("public", kind, dashboard.pk, year or "", dashboard.version, language())
    return "public-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _etag(key: str) -> str:
    """The entity tag of a page or download: its version, so a browser or proxy revalidating
    a copy is answered 304 without the body until something it shows changes."""
    return f'"{key[len("public-") :][:32]}"'


def _cached(key: str, render_it) -> bytes:
    body = _RECENT.get(key)
    if body is not None:
        _RECENT.move_to_end(key)
        return body
    body = cache.get(key)
    if body is None:
        body = render_it()
        cache.set(key, body)
    _RECENT[key] = body
    while len(_RECENT) > _RECENT_SIZE:
        _RECENT.popitem(last=False)
    return body


def _page(dashboard: _Published, year: int | None) -> PublicPage:
    metrics = load_metrics()
    metric = metrics.get(dashboard.metric) or metrics["shootings"]
    jurisdiction = Jurisdiction.objects.get(pk=dashboard.jurisdiction_id)
    return build_page(jurisdiction, metric, dashboard.threshold, year=year)


def _public(response: HttpResponse) -> HttpResponse:
    response.headers.setdefault("Cache-Control", f"public, max-age={MAX_AGE_S}")
    return response


def _not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    """A 304 when the visitor's copy is the current one (``If-None-Match``)."""
    answer = get_conditional_response(request, etag=etag)
    if answer is not None:
        answer.headers["ETag"] = etag
    return answer


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The places that publish a dashboard."""
    published = PublicDashboard.objects.published().select_related("jurisdiction")
    context = {"dashboards": published, "here": reverse("public-index")}
    return _public(render(request, "public/index.html", context))


@require_safe
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    published = _published(slug)
    year = _year(request)

    here = reverse("public-dashboard", args=[slug]) + (f"?year={year}" if year else "")

    def render_it() -> bytes:
        try:
            page = _page(published, year)
        except NotPublishedError as exc:
            return (
                b"refused:"
                + render_to_string(
                    "public/refused.html",
                    {"reason": str(exc), "slug": slug, "here": here},
                ).encode()
            )
        context = {
            "page": page,
            "charts": charts(page, page.places),
            "revision_policy": _(REVISION_POLICY),
            "year_param": year,
            # Where the language switch returns to: built from the URL's parts, never from
            # the request's query (the body is cached and served to everyone).
            "here": here,
            "metric": {
                "label": _(page.metric.label),
                "description": _(page.metric.description),
                "unit": _(page.metric.unit),
            },
            "download_url": reverse("public-download", args=[slug])
            + (f"?year={year}" if year else ""),
        }
        return render_to_string("public/dashboard.html", context).encode()

    key = _key("html", published, year)
    etag = _etag(key)
    if (answer := _not_modified(request, etag)) is not None:
        return _public(answer)
    body = _cached(key, render_it)
    if body.startswith(b"refused:"):
        # A period outside the data's coverage is refused, saying why.
        return _public(HttpResponse(body[len(b"refused:") :], status=404))
    response = HttpResponse(body)
    response.headers["ETag"] = etag
    return _public(response)


def page_csv(page: PublicPage) -> bytes:
    """Every figure the page shows, one per line, suppression applied: the value is the
    count or its label ("fewer than 11", "suppressed", "no data")."""
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(["table", "row", "column", "value"])
    # The ``about`` names and the table keys are the file's contract (English in every
    # language); the values and the tables' row and column labels are in the page's language.
    meta = [
        ("place", page.jurisdiction),
        ("metric", f"{page.metric.name}: {_(page.metric.description)}"),
        ("counting unit", _(page.metric.unit)),
        ("coverage", page.coverage),
        (
            "published",
            _("%(first)s to %(last)s")
            % {"first": page.published_from, "last": page.published_through}
            if page.published_from
            else "",
        ),
        ("last imported", page.last_imported.isoformat() if page.last_imported else ""),
        ("made", page.made_at.replace(microsecond=0).isoformat()),
        (
            "suppression",
            _("counts from 1 to %(threshold)s shown as %(label)s")
            % {"threshold": page.threshold, "label": page.fewer_label},
        ),
        (
            "perturbation",
            _(
                "every figure is its count moved by a fixed amount of at most %(within)s "
                "(cell-key method; 0 is never moved); totals are sums of the figures shown"
            )
            % {"within": page.perturbed_within},
        ),
        ("sources", "; ".join(page.sources)),
    ]
    for name, value in meta:
        writer.writerow(("about", name, "", value))
    for table in page.tables:
        for label, cells in table.rows:
            for column, cell in zip(table.columns, cells, strict=True):
                # A shown count as a plain number; anything else as the label the page shows.
                value = str(cell.value) if cell.value is not None else cell.text
                writer.writerow((table.key, label, column, value))
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

    key = _key("csv", published, year)
    etag = _etag(key)
    if (answer := _not_modified(request, etag)) is not None:
        return _public(answer)
    body = _cached(key, render_it)
    if body.startswith(b"refused:"):
        return _public(
            HttpResponse(body[len(b"refused:") :], status=404, content_type="text/plain")
        )
    stamp = timezone.now().strftime("%Y%m%d")
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"{slug}-{year or 'latest'}-{stamp}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["ETag"] = etag
    return _public(response)


@never_cache
@require_safe
def choose_language(request: HttpRequest, code: str) -> HttpResponse:
    """The language switch of the public pages: remembers the reader's choice in the
    language cookie and goes back to the page (``next``, a path on this site)."""
    if code not in dict(settings.LANGUAGES) or not check_for_language(code):
        raise Http404("no such language")
    back = request.GET.get("next", "")
    if not back.startswith("/public/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("public-index")
    response = HttpResponseRedirect(back)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
