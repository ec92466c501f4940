"""The evaluation page: did the strategy work? One design's answer for a place, with its
picture, computed by ``gvrs.evaluation.runs`` as ``gvrs evaluate`` computes it."""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from gvrs.analysis.evaluation import EvaluationError
from gvrs.analysis.narrative import format_p
from gvrs.data.metrics import load_metrics
from gvrs.evaluation.runs import METHOD_NAMES, evaluate, figures, record, remember
from gvrs.incidents.models import Jurisdiction
from gvrs.incidents.versions import registry_version


class EvaluationForm(forms.Form):
    metric = forms.ChoiceField()
    start = forms.DateField(label="Strategy start", widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(choices=list(METHOD_NAMES.items()), initial="synth")

    def __init__(self, data, *, metrics):
        super().__init__(data)
        self.fields["metric"].choices = [(m.name, m.label) for m in metrics.values()]


def _cached_evaluation(jurisdiction, metric, start, method, made_by: str = ""):
    """Pure in the registry's state and the question: computed once per registry version,
    and kept (``runs.remember``) for the API's list of evaluations already run."""
    parts = (jurisdiction.pk, metric.name, start, method, registry_version())
    key = "evaluation-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        try:
            result, tables = evaluate(metric, jurisdiction, start, method)
            out = record(result, tables, metric)
            remember(jurisdiction, out, made_by=made_by)
            found = {
                "result": result,
                "record": out,
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
            made_by=request.user.get_username(),
        )
    context = {"jurisdiction": jurisdiction, "form": form, "answer": answer}
    return render(request, "evaluation/evaluation.html", context)
