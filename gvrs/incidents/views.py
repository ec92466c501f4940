"""Registry pages: incidents (list, detail) and imports (list, upload with preview, run).

Every incident is fetched through ``_get_incident_for_user``; restricted fields reach the
template only for roles allowed to see them; every view of an incident's people and every
import is written to the audit log.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from gvrs.accounts.audit import record
from gvrs.data.csvsafe import inert
from gvrs.data.errors import FileError
from gvrs.data.mapping import MappingError, detect_format, load_format
from gvrs.data.readers import open_table
from gvrs.data.schema import Kind
from gvrs.incidents.forms import IncidentSearchForm, UploadForm
from gvrs.incidents.importing import ImportReport, import_file
from gvrs.incidents.models import ImportRun, Incident

PREVIEW_ERRORS = 500
_SESSION_KEY = "gvrs_pending_upload"


def _get_incident_for_user(request: HttpRequest, pk: int) -> Incident:
    """The one gate to an incident: 404 for a user who may not see incidents."""
    if not request.user.has_perm("incidents.view_incident"):
        raise Http404
    return get_object_or_404(
        Incident.objects.select_related("jurisdiction", "area", "import_run"), pk=pk
    )


def _filtered_incidents(request: HttpRequest) -> tuple[IncidentSearchForm, QuerySet, tuple]:
    """The incidents list's form and the incidents it selects (the list and its export)."""
    kinds = [(k.value, k.value.replace("_", " ")) for k in Kind]
    form = IncidentSearchForm(request.GET or None, kinds=kinds)
    qs = Incident.objects.select_related("jurisdiction", "area")
    order = IncidentSearchForm.SORTS["-date"]
    if form.is_bound and not form.is_valid():
        return form, qs.none(), order
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            qs = qs.filter(
                Q(source_id__icontains=data["q"])
                | Q(area__name__icontains=data["q"])
                | Q(jurisdiction__name__icontains=data["q"])
            )
        if data["place"] is not None:
            qs = qs.filter(jurisdiction_id__in=data["place"].descendant_ids())
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        qs = qs.between(data["since"], data["until"])
        order = data["sort"]
    return form, qs, order


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def incident_list(request: HttpRequest) -> HttpResponse:
    form, qs, order = _filtered_incidents(request)
    page = Paginator(qs.order_by(*order), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_export": request.user.has_perm("incidents.export_incident"),
        },
    )


EXPORT_COLUMNS = (
    ("source", "source"),
    ("source_id", "source_id"),
    ("kind", "kind"),
    ("weapon", "weapon"),
    ("occurred_on", "occurred_on"),
    ("occurred_time", "occurred_time"),
    ("jurisdiction", "jurisdiction__name"),
    ("area", "area__name"),
    ("killed", "killed"),
    ("injured", "injured"),
    ("group_involvement", "group_involvement"),
    ("circumstance", "circumstance"),
    ("case_status", "case_status"),
)
RESTRICTED_EXPORT_COLUMNS = (
    ("latitude", "latitude"),
    ("longitude", "longitude"),
    ("block_address", "block_address"),
)


class _Echo:
    """A file-like object whose write returns what it was given, for streaming CSV rows."""

    def write(self, value: str) -> str:
        return value


@login_required
@permission_required("incidents.export_incident", raise_exception=True)
def incident_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV, streamed: restricted columns only for roles allowed them,
    every text cell made inert for spreadsheets, and the export written to the audit log."""
    form, qs, order = _filtered_incidents(request)
    if form.is_bound and not form.is_valid():
        return HttpResponse(
            "The filters are not valid: "
            + "; ".join(e for errs in form.errors.values() for e in errs),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    restricted = request.user.has_perm("incidents.view_restricted_fields")
    columns = EXPORT_COLUMNS + (RESTRICTED_EXPORT_COLUMNS if restricted else ())
    fields = [field for _, field in columns]
    count = qs.count()
    filters = {k: v for k, v in request.GET.items() if v and k != "page"}
    record(
        request.user,
        "export",
        None,
        f"{count} incidents as CSV, {'with' if restricted else 'without'} restricted fields;"
        f" filters {filters}",
    )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow([name for name, _ in columns])
        for values in qs.order_by(*order).values_list(*fields).iterator(chunk_size=2000):
            yield writer.writerow(
                [inert(v) if isinstance(v, str) else ("" if v is None else v) for v in values]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = dt.date.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="gvrs-incidents-{stamp}.csv"'
    return response


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _get_incident_for_user(request, pk)
    restricted = request.user.has_perm("incidents.view_restricted_fields")
    record(
        request.user,
        "view",
        incident,
        "with restricted fields" if restricted else "without restricted fields",
    )
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "people": incident.people.all(),
            "restricted": restricted,
            "block_address": incident.block_address if restricted else None,
        },
    )


@login_required
@permission_required("incidents.view_importrun", raise_exception=True)
def import_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(ImportRun.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "incidents/imports.html", {"page": page})


@login_required
@permission_required("incidents.view_importrun", raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    return render(request, "incidents/import_detail.html", {"run": run})


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


class _PreviewOnlyError(Exception):
    """Rolls the dry run back after its report is taken."""


def _dry_run(path: Path, mapping, jurisdiction, accept_valid, user, **options) -> ImportReport:
    """Everything an import would do, then rolled back: counts, every error and every place
    it would create (``options``: coverage, state and new_places)."""
    report = None
    try:
        with transaction.atomic():
            report = import_file(
                path,
                mapping,
                jurisdiction=jurisdiction or None,
                accept_valid=accept_valid,
                initiated_by=user.get_username(),
                **options,
            )
            raise _PreviewOnlyError
    except _PreviewOnlyError:
        pass
    return report


@login_required
@permission_required("incidents.add_importrun", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "GET" or not form.is_valid():
        return render(request, "incidents/upload.html", {"form": form})
    folder = Path(settings.UPLOAD_ROOT) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    upload = form.cleaned_data["file"]
    path = folder / Path(upload.name).name
    with open(path, "wb") as fh:
        for piece in upload.chunks():
            fh.write(piece)
    mapping = form.cleaned_data["format"]
    try:
        if mapping is None:
            mapping = detect_format(open_table(path).columns)
        report = _dry_run(
            path,
            mapping,
            form.cleaned_data["jurisdiction"],
            form.cleaned_data["accept_valid"],
            request.user,
            covers_from=form.cleaned_data["covers_from"],
            covers_through=form.cleaned_data["covers_through"],
            state=form.cleaned_data["state"] or None,
            new_places=form.cleaned_data["new_places"],
        )
    except (FileError, MappingError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        form.add_error("file", str(exc))
        return render(request, "incidents/upload.html", {"form": form})
    request.session[_SESSION_KEY] = {
        "path": str(path),
        "format": mapping.name,
        "jurisdiction": form.cleaned_data["jurisdiction"],
        "accept_valid": form.cleaned_data["accept_valid"],
        # The coverage confirmed in the preview (None: the file's own dates, as proposed).
        "covers_from": _iso(form.cleaned_data["covers_from"]),
        "covers_through": _iso(form.cleaned_data["covers_through"]),
        "state": form.cleaned_data["state"],
        "new_places": form.cleaned_data["new_places"],
    }
    can_confirm = report.ok and (report.run.rows_read > 0)
    return render(
        request,
        "incidents/preview.html",
        {
            "report": report,
            "run": report.run,
            "mapping": mapping,
            "file_name": path.name,
            "errors": report.errors[:PREVIEW_ERRORS],
            "more_errors": max(0, len(report.errors) - PREVIEW_ERRORS),
            "can_confirm": can_confirm,
        },
    )


@login_required
@permission_required("incidents.add_importrun", raise_exception=True)
@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(_SESSION_KEY, None)
    if not pending or not Path(pending["path"]).exists():
        messages.error(request, "Nothing to import: upload the file again.")
        return redirect("incidents-import-upload")
    path = Path(pending["path"])
    try:
        report = import_file(
            path,
            load_format(pending["format"]),
            jurisdiction=pending["jurisdiction"] or None,
            accept_valid=pending["accept_valid"],
            initiated_by=request.user.get_username(),
            covers_from=_date(pending.get("covers_from")),
            covers_through=_date(pending.get("covers_through")),
            state=pending.get("state") or None,
            new_places=pending.get("new_places", False),
        )
    except FileError as exc:
        messages.error(request, str(exc))
        return redirect("incidents-import-upload")
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    record(request.user, "import", report.run, f"{report.run.file_name} ({report.run.status})")
    return redirect("incidents-import-detail", pk=report.run.pk)
