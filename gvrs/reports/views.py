"""The overview dashboard: a jurisdiction's headline figures, trends, projection and map,
with filters (metric, area, dates) kept in the URL so a view can be shared."""

from __future__ import annotations

import datetime as dt
import hashlib

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

import gvrs
from gvrs.accounts.audience import audience_of, deployment_policy
from gvrs.accounts.audit import record
from gvrs.analysis.disclosure import PUBLIC, Audience
from gvrs.data.metrics import load_metrics
from gvrs.incidents.models import NATION_SLUG, Area, Incident, Jurisdiction, national_place
from gvrs.incidents.versions import registry_version
from gvrs.reports import victims
from gvrs.reports.overview import Dashboard, build
from gvrs.reports.places import (
    find_places,
    home_jurisdiction,
    outermost,
    places_inside,
    top_places,
)
from gvrs.reports.protected import CELLS, EXACT, PERTURBED, level_of


class FilterForm(forms.Form):
    metric = forms.ChoiceField(required=False)
    area = forms.ChoiceField(required=False)
    victims_by = forms.ChoiceField(required=False, label="Victims by")
    # Which incident source leads (blank: the place's primary one); shown when there are two.
    source = forms.ChoiceField(required=False, label="Incident source")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data, *, metrics, areas, fields=(), sources=()):
        super().__init__(data)
        self.fields["source"].choices = [("", "Primary source")] + [(s, s) for s in sources]
        self.fields["metric"].choices = [(m.name, m.label) for m in metrics.values()]
        self.fields["area"].choices = [("", "Whole jurisdiction")] + [(a, a) for a in areas]
        self.fields["victims_by"].choices = list(fields)

    # Dates outside these are typing slips, and windows reaching them cannot be compared
    # with the window before (a date before year 1 does not exist).
    EARLIEST = dt.date(1900, 1, 1)
    LATEST = dt.date(2100, 12, 31)

    def _clean_bounded(self, name: str) -> dt.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not self.EARLIEST <= day <= self.LATEST:
            raise forms.ValidationError(
                f"Give a date from {self.EARLIEST:%Y-%m-%d} to {self.LATEST:%Y-%m-%d}."
            )
        return day

    def clean_since(self) -> dt.date | None:
        return self._clean_bounded("since")

    def clean_until(self) -> dt.date | None:
        return self._clean_bounded("until")

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            raise forms.ValidationError("The end date is before the start date.")
        return cleaned


# A cached dashboard is a pickled ``Dashboard``: after an upgrade, one cached by the old code
# (other fields, other figures) must not be served, so the key names the release and the
# shape of the object.
CODE_VERSION = hashlib.sha256(
    "|".join([gvrs.__version__, *Dashboard.__dataclass_fields__]).encode()
).hexdigest()[:12]


_LEVEL_AUDIENCE = {
    EXACT: Audience(incidents=True, locations=True),
    CELLS: Audience(incidents=True),
    PERTURBED: PUBLIC,
}


def cached_dashboard(jurisdiction, metric, metrics, area, since, until, level, source=None):
    """The dashboard is pure in the registry's state, the filters and the reader's protection
    level (``gvrs.reports.protected.level_of``): computed once per registry version and shared
    by every app server through the database cache. Only views without dates are cached:
    metric and area are chosen from finite lists, dates are not, so cached keys stay
    bounded."""
    policy = deployment_policy()
    # The audience a level stands for: what it may read is all the dashboard depends on.
    audience = _LEVEL_AUDIENCE[level]
    options = {"level": level, "audience": audience, "policy": policy, "source": source}
    if since is not None or until is not None:
        return build(jurisdiction, metric, metrics, area=area, since=since, until=until, **options)
    parts = (
        jurisdiction.pk,
        metric.name,
        area.pk if area else "",
        level,
        source or "",
        registry_version(),
        CODE_VERSION,
    )
    key = "dashboard-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    dashboard = cache.get(key)
    if dashboard is None:
        dashboard = build(jurisdiction, metric, metrics, area=area, **options)
        cache.set(key, dashboard)
    return dashboard


def _victims(dashboard: Dashboard, field: str, area, since, until, user):
    """Who was killed or shot in the dashboard's window (the last twelve months of the data
    by default), as the disclosure policy lets this reader see it. Without dates it is pure
    in the registry's state, the field and the reader's level, and cached as the dashboard
    is (a scan of a year's victims on every view held a viewer's overview at 1M incidents
    to seconds per request)."""
    daily = next((s for s in dashboard.series if s.resolution == "day"), None)
    if daily is None or dashboard.metric.published_only:
        return None
    end = until or daily.last
    start = since or end - dt.timedelta(days=365)
    level = level_of(audience_of(user))

    def compute():
        return victims.for_reader(
            dashboard.metric,
            dashboard.jurisdiction,
            field,
            start,
            end,
            _LEVEL_AUDIENCE[level],
            deployment_policy(),
            area=area,
        )

    if since is not None or until is not None:
        return compute()
    parts = (
        dashboard.jurisdiction.pk,
        dashboard.metric.name,
        area.pk if area else "",
        level,
        field,
        registry_version(),
        CODE_VERSION,
    )
    key = "victims-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = compute()
        cache.set(key, found)
    return found


_MISSING = object()


def _choices(jurisdiction) -> tuple[list[tuple[str, str]], list[str]]:
    """The person fields and the incident sources the filter form offers for a place: each a
    scan of the place's incidents (a second a view at 1M incidents), so kept per registry
    version as the dashboard is."""
    parts = (jurisdiction.pk, registry_version(), CODE_VERSION)
    key = "choices-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        sources = sorted(
            Incident.objects.filter(jurisdiction_id__in=jurisdiction.descendant_ids())
            .order_by()
            .values_list("source", flat=True)
            .distinct()
        )
        found = (victims.offered_fields(jurisdiction), sources)
        cache.set(key, found)
    return found


@login_required
@permission_required("incidents.view_publishedcount", raise_exception=True)
def overview_index(request: HttpRequest) -> HttpResponse:
    """Where sign-in lands: the overview of the place this deployment serves, or the place
    finder when none is set (or straight to the only place there is)."""
    home = home_jurisdiction()
    if home is not None:
        return redirect("reports-jurisdiction", slug=home.slug)
    tops = outermost()
    if tops.count() == 1:
        return redirect("reports-jurisdiction", slug=tops.get().slug)
    return places(request)


@login_required
@permission_required("incidents.view_publishedcount", raise_exception=True)
def places(request: HttpRequest) -> HttpResponse:
    """The place finder: search as you type (htmx swaps the results), a plain GET form
    without JavaScript."""
    query = request.GET.get("q", "")[:100]
    context = {"query": query, "found": find_places(query), "tops": top_places()}
    if request.htmx:
        return render(request, "reports/_places.html", context)
    return render(request, "reports/index.html", context)


@login_required
@permission_required("incidents.view_publishedcount", raise_exception=True)
def area_boundaries(request: HttpRequest, slug: str) -> HttpResponse:
    """The shapes of the areas inside a place, as GeoJSON: the maps of the overview name
    this URL (with the registry's version) instead of carrying the shapes in every page, so
    a browser fetches them once and keeps them."""
    import json

    from gvrs.reports.areamap import boundaries

    jurisdiction = get_object_or_404(Jurisdiction, slug=slug)
    body = json.dumps(
        {"type": "FeatureCollection", "features": boundaries(jurisdiction)["features"]},
        separators=(",", ":"),
    )
    response = HttpResponse(body, content_type="application/geo+json")
    # Versioned by the URL's ?v=: the same URL always means the same shapes.
    # Area shapes are no police record (docs: security), so the browser may keep them.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    response.keep_in_browser = True
    return response


@login_required
@permission_required("incidents.view_publishedcount", raise_exception=True)
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    if slug == NATION_SLUG:
        national_place()  # the place above the states, made the first time it is asked for
    jurisdiction = get_object_or_404(Jurisdiction, slug=slug)
    metrics = load_metrics()
    areas = list(
        Area.objects.filter(jurisdiction_id__in=jurisdiction.descendant_ids())
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()[:500]
    )
    offered, sources = _choices(jurisdiction)
    form = FilterForm(
        request.GET or None, metrics=metrics, areas=areas, fields=offered, sources=sources
    )
    metric, area, since, until, source = metrics["homicides"], None, None, None, None
    victims_by = "victim_sex"
    if form.is_bound and form.is_valid():
        victims_by = form.cleaned_data["victims_by"] or victims_by
        metric = metrics[form.cleaned_data["metric"] or "homicides"]
        if form.cleaned_data["area"]:
            area = Area.objects.filter(
                jurisdiction_id__in=jurisdiction.descendant_ids(), name=form.cleaned_data["area"]
            ).first()
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
        source = form.cleaned_data["source"] or None
    level = level_of(audience_of(request.user))
    dashboard = cached_dashboard(jurisdiction, metric, metrics, area, since, until, level, source)
    if dashboard.areas is not None and dashboard.areas.points_shown:
        # Exact coordinates are restricted fields: each read is audited, like an incident's
        # page (the dashboard itself may come from the cache; the read is this request's).
        record(
            request.user,
            "view locations",
            jurisdiction,
            f"{dashboard.areas.points_shown} incident points on the map: {metric.name}, "
            f"{dashboard.areas.window}" + (f", area {area.name}" if area else ""),
        )
    context = {
        "jurisdiction": jurisdiction,
        "form": form,
        "dashboard": dashboard,
        "victims": _victims(dashboard, victims_by, area, since, until, request.user),
        "inside": places_inside(jurisdiction),
        "today": dt.date.today(),
    }
    template = "reports/_dashboard.html" if request.htmx else "reports/overview.html"
    return render(request, template, context)
