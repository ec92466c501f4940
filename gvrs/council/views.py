"""The Reports page: choose a place and a period, read the council report in the page, download
it as a PDF. The same document as ``gvrs report`` (``gvrs.council``)."""

from __future__ import annotations

import datetime as dt
import hashlib

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify

from gvrs.accounts.audience import deployment_policy
from gvrs.analysis.periods import PERIOD_FORMS
from gvrs.analysis.workload import WorkloadError
from gvrs.cliutil import did_you_mean
from gvrs.council import render as layout
from gvrs.council.build import ReportError, ReportRequest, build_report
from gvrs.council.config import read_workload
from gvrs.env import gvrs_home
from gvrs.evaluation.runs import METHOD_NAMES
from gvrs.incidents.models import Jurisdiction
from gvrs.incidents.versions import registry_version
from gvrs.partners.outside import program_leaves


class ReportForm(forms.Form):
    place = forms.CharField(
        max_length=300, help_text="name, slug or path, e.g. Bakersfield or CA > Fresno"
    )
    period = forms.CharField(max_length=40, help_text=PERIOD_FORMS)
    vs = forms.CharField(
        max_length=40, required=False, label="Against", help_text="default: the period before"
    )
    baseline = forms.IntegerField(
        required=False,
        min_value=1900,
        max_value=2100,
        help_text="the year to compare with; default: the place's baseline year",
    )
    strategy_start = forms.DateField(
        required=False,
        label="Strategy start",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="to run and cite an evaluation",
    )
    method = forms.ChoiceField(choices=list(METHOD_NAMES.items()), initial="its", required=False)

    def clean_place(self) -> Jurisdiction:
        text = self.cleaned_data["place"].strip()
        found = Jurisdiction.objects.all_named(text)
        if not found:
            found = list(Jurisdiction.objects.filter(slug=text)[:1])
        if not found:
            names = Jurisdiction.objects.values_list("name", flat=True).distinct()
            hint = did_you_mean(text, names)
            raise forms.ValidationError(
                f"No place called {text!r};"
                + (hint if hint else " the place finder (Places) lists every place.")
            )
        if len(found) > 1:
            paths = "; ".join(j.path for j in found[:8])
            raise forms.ValidationError(
                f"{text!r} could be several places: {paths}. Give its path, e.g. 'CA > Fresno'."
            )
        return found[0]

    def clean_strategy_start(self) -> dt.date | None:
        day = self.cleaned_data.get("strategy_start")
        if day is not None and not dt.date(1900, 1, 1) <= day <= dt.date(2100, 12, 31):
            raise forms.ValidationError("Give a date from 1900-01-01 to 2100-12-31.")
        return day


def _report(form: ReportForm):
    """The report for a valid form, computed once per registry version and question (the
    document is pure in both), or the reason it cannot be made."""
    data = form.cleaned_data
    place = data["place"]
    parts = (
        place.pk,
        data["period"],
        data["vs"],
        data["baseline"],
        data["strategy_start"],
        data["method"],
        dt.date.today(),
        registry_version(),
    )
    workload_file = gvrs_home() / "workload.toml"
    # The place's workload file is part of the question: an edit to it makes a new report.
    parts += (workload_file.stat().st_mtime_ns if workload_file.exists() else None,)
    # So are the partners' figures the report shows (partner data is not the registry):
    # a new participant, consent, contact or service makes a new report.
    parts += (program_leaves(deployment_policy(), dt.date.today()).digest(),)
    key = "council-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        try:
            workload = read_workload(None)
            report = build_report(
                ReportRequest(
                    jurisdiction=place,
                    period=data["period"].strip(),
                    vs=data["vs"].strip() or None,
                    baseline=data["baseline"],
                    workload=workload.assumptions,
                    costs=workload.costs,
                    strategy_start=data["strategy_start"],
                    evaluation_method=data["method"] or "its",
                )
            )
            found = {"report": report, "error": ""}
        except (ReportError, WorkloadError) as exc:
            found = {"report": None, "error": str(exc)}
        cache.set(key, found)
    return found


@login_required
@permission_required("reports.make_council_report", raise_exception=True)
def council(request: HttpRequest) -> HttpResponse:
    """The form, and the report previewed below it once asked for."""
    form = ReportForm(request.GET or None)
    answer = _report(form) if form.is_bound and form.is_valid() else None
    return render(
        request,
        "council/page.html",
        {"form": form, "answer": answer, "query": request.GET.urlencode()},
    )


@login_required
@permission_required("reports.make_council_report", raise_exception=True)
def council_pdf(request: HttpRequest) -> HttpResponse:
    """The same report as a PDF download."""
    form = ReportForm(request.GET or None)
    if not (form.is_bound and form.is_valid()):
        return render(request, "council/page.html", {"form": form}, status=400)
    answer = _report(form)
    if answer["error"]:
        return render(request, "council/page.html", {"form": form, "answer": answer}, status=409)
    report = answer["report"]
    response = HttpResponse(layout.pdf(report), content_type="application/pdf")
    name = slugify(f"gvrs report {report.place} {report.period}") or "gvrs-report"
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response
