"""The overview dashboard: a jurisdiction's headline figures, trends, projection and map,
with filters (metric, area, dates) kept in the URL so a view can be shared."""

from __future__ import annotations

import datetime as dt
import hashlib

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from gvrs.analysis.evaluation import EvaluationError
from gvrs.analysis.narrative import format_p
from gvrs.data.metrics import load_metrics
from gvrs.incidents.models import Area, ImportRun, Jurisdiction, Population
from gvrs.reports.evaluation import METHOD_NAMES, evaluate, figures, record
from gvrs.reports.overview import build


class FilterForm(forms.Form):
    metric = forms.ChoiceField(required=False)
    area = forms.ChoiceField(required=False)
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data, *, metrics, areas):
        super().__init__(data)
        self.fields["metric"].choices = [(m.name, m.label) for m in metrics.values()]
        self.fields["area"].choices = [("", "Whole jurisdiction")] + [(a, a) for a in areas]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            raise forms.ValidationError("The end date is before the start date.")
        return cleaned


def registry_version() -> str:
    """Changes whenever an import, a population or a baseline changes what a page shows."""
    runs = ImportRun.objects.aggregate(last=Max("pk"), finished=Max("finished_at"))
    people = Population.objects.aggregate(last=Max("pk"), n=Count("pk"))
    baselines = Jurisdiction.objects.aggregate(b=Sum("baseline_year"))
    return f"{runs['last']}-{runs['finished']}-{people['last']}-{people['n']}-{baselines['b']}"


def _cached_dashboard(jurisdiction, metric, metrics, area, since, until):
    """The dashboard is pure in the registry's state and the filters: computed once per
    registry version and shared by every app server through the database cache."""
    parts = (
        jurisdiction.pk,
        metric.name,
        area.pk if area else "",
        since,
        until,
        registry_version(),
    )
    key = "dashboard-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    dashboard = cache.get(key)
    if dashboard is None:
        dashboard = build(jurisdiction, metric, metrics, area=area, since=since, until=until)
        cache.set(key, dashboard)
    return dashboard


@login_required
@permission_required("incidents.view_publishedcount", raise_exception=True)
def overview_index(request: HttpRequest) -> HttpResponse:
    """The jurisdictions to choose from; straight to the only one when there is one."""
    tops = list(
        Jurisdiction.objects.filter(parent__isnull=True)
        .annotate(children_count=Count("children"))
        .order_by("name")
    )
    if len(tops) == 1:
        return redirect("reports-jurisdiction", slug=tops[0].slug)
    busiest = (
        Jurisdiction.objects.annotate(n=Count("incidents")).filter(n__gt=0).order_by("-n")[:12]
    )
    return render(request, "reports/index.html", {"tops": tops, "busiest": busiest})


@login_required
@permission_required("incidents.view_publishedcount", raise_exception=True)
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    jurisdiction = get_object_or_404(Jurisdiction, slug=slug)
    metrics = load_metrics()
    areas = list(
        Area.objects.filter(jurisdiction_id__in=jurisdiction.descendant_ids())
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()[:500]
    )
    form = FilterForm(request.GET or None, metrics=metrics, areas=areas)
    metric, area, since, until = metrics["homicides"], None, None, None
    if form.is_bound and form.is_valid():
        metric = metrics[form.cleaned_data["metric"] or "homicides"]
        if form.cleaned_data["area"]:
            area = Area.objects.filter(
                jurisdiction_id__in=jurisdiction.descendant_ids(), name=form.cleaned_data["area"]
            ).first()
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    dashboard = _cached_dashboard(jurisdiction, metric, metrics, area, since, until)
    context = {
        "jurisdiction": jurisdiction,
        "form": form,
        "dashboard": dashboard,
        "children": jurisdiction.children.order_by("name")[:60],
        "today": dt.date.today(),
    }
    template = "reports/_dashboard.html" if request.htmx else "reports/overview.html"
    return render(request, template, context)


class EvaluationForm(forms.Form):
    metric = forms.ChoiceField()
    start = forms.DateField(label="Strategy start", widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(choices=list(METHOD_NAMES.items()), initial="synth")

    def __init__(self, data, *, metrics):
        super().__init__(data)
        self.fields["metric"].choices = [(m.name, m.label) for m in metrics.values()]


def _cached_evaluation(jurisdiction, metric, start, method):
    """Pure in the registry's state and the question: computed once per registry version."""
    parts = (jurisdiction.pk, metric.name, start, method, registry_version())
    key = "evaluation-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        try:
            result, tables = evaluate(metric, jurisdiction, start, method)
            found = {
                "result": result,
                "record": record(result, tables, metric),
                "figures": figures(result, metric),
                "definition": f"{tables.source}: {tables.definition}",
                "level": f"{result.level:.0%}",
                "method_name": METHOD_NAMES[method],
                "p_text": format_p(result.p_value) if result.p_value == result.p_value else "—",
                "excluded": sorted(tables.pool.excluded.items()) if tables.pool else [],
                "error": "",
            }
        except EvaluationError as exc:
            found = {"error": str(exc)}
        cache.set(key, found)
    return found


@login_required
@permission_required("incidents.view_publishedcount", raise_exception=True)
def evaluation(request: HttpRequest, slug: str) -> HttpResponse:
    """Did the strategy work? One design's answer for this place, with its picture."""
    jurisdiction = get_object_or_404(Jurisdiction, slug=slug)
    metrics = load_metrics()
    form = EvaluationForm(request.GET or None, metrics=metrics)
    answer = None
    if form.is_bound and form.is_valid():
        answer = _cached_evaluation(
            jurisdiction,
            metrics[form.cleaned_data["metric"]],
            form.cleaned_data["start"],
            form.cleaned_data["method"],
        )
    context = {"jurisdiction": jurisdiction, "form": form, "answer": answer}
    return render(request, "reports/evaluation.html", context)
