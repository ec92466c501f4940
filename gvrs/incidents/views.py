"""Registry pages: incidents (list, detail) and imports (list, upload with preview, run).

Every incident is fetched through ``_get_incident_for_user``; restricted fields reach the
template only for roles allowed to see them; every view of an incident's people and every
import is written to the audit log.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from gvrs.accounts.audit import record
from gvrs.data import csvsafe
from gvrs.data.limits import Limits, setting_name
from gvrs.data.mapping import load_format
from gvrs.data.schema import Kind
from gvrs.incidents import jobs
from gvrs.incidents.forms import IncidentSearchForm, UploadForm
from gvrs.incidents.jobs import PREVIEW_ERRORS
from gvrs.incidents.models import ImportJob, ImportRun, Incident, ScheduledRun


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
    writer = csvsafe.writer(_Echo())

    def rows():
        yield writer.writerow([name for name, _ in columns])
        for values in qs.order_by(*order).values_list(*fields).iterator(chunk_size=2000):
            yield writer.writerow(values)

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
    scheduled = ScheduledRun.objects.select_related("schedule")[:30]
    return render(request, "incidents/imports.html", {"page": page, "scheduled": scheduled})


@login_required
@permission_required("incidents.view_importrun", raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    return render(request, "incidents/import_detail.html", {"run": run})


class _UploadLimit(FileUploadHandler):
    """Stops reading an upload once it passes ``GVRS_MAX_UPLOAD_BYTES``: the rest of the
    request is read and dropped (never written to disk), and the view says why."""

    def __init__(self, request, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.gvrs_upload_refused = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def _too_large_message(limit: int) -> str:
    return (
        f"the file is over the upload limit of {limit:,} bytes ({limit / 2**20:,.0f} MB); "
        f"the limit is set by {setting_name('upload_bytes')}"
    )


@csrf_exempt  # the upload handler must be in place before CSRF reads the body
@login_required
@permission_required("incidents.add_importrun", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    limit = Limits.from_env().upload_bytes
    request.upload_handlers.insert(0, _UploadLimit(request, limit))
    return _import_upload(request, limit)


@csrf_protect
def _import_upload(request: HttpRequest, limit: int) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if getattr(request, "gvrs_upload_refused", False):
        form = UploadForm(request.POST)
        form.is_valid()
        form.errors.pop("file", None)
        form.add_error("file", _too_large_message(limit))
        return render(request, "incidents/upload.html", {"form": form}, status=413)
    if request.method == "GET" or not form.is_valid():
        return render(request, "incidents/upload.html", {"form": form})
    upload = form.cleaned_data["file"]
    folder = jobs.new_upload_folder()
    path = jobs.save_upload(upload, folder, limit)
    if path is None:
        form.add_error("file", _too_large_message(limit))
        return render(request, "incidents/upload.html", {"form": form}, status=413)
    mapping = form.cleaned_data["format"]
    job = ImportJob.objects.create(
        user=request.user,
        folder=str(folder),
        file_name=path.name,
        format_name=mapping.name if mapping is not None else "",
        jurisdiction=form.cleaned_data["jurisdiction"],
        accept_valid=form.cleaned_data["accept_valid"],
        covers_from=form.cleaned_data.get("covers_from"),
        covers_through=form.cleaned_data.get("covers_through"),
        place_state=form.cleaned_data.get("state") or "",
        new_places=bool(form.cleaned_data.get("new_places")),
    )
    jobs.enqueue(job)
    return redirect("incidents-import-job", pk=job.pk)


def _get_job_for_user(request: HttpRequest, pk: int) -> ImportJob:
    """The one gate to an import job: its own user's, 404 for anyone else."""
    job = ImportJob.objects.filter(pk=pk, user=request.user).first()
    if job is None:
        raise Http404
    return job


@login_required
@permission_required("incidents.add_importrun", raise_exception=True)
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's page: its progress while queued or running (htmx polls the progress part),
    then the preview with its errors, or the import's result."""
    job = _get_job_for_user(request, pk)
    jobs.interrupt_if_dead(job)
    if job.active:
        context = {"job": job, "progress": jobs.progress(job), "waiting_for": jobs.waiting_for(job)}
        if request.htmx:
            return render(request, "incidents/_job_progress.html", context)
        return render(request, "incidents/job.html", context)
    if request.htmx:
        # Finished: the whole page changes (preview, result or the reason it failed).
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    if job.state == ImportJob.State.DONE and job.phase == ImportJob.Phase.IMPORT and job.run:
        return redirect("incidents-import-detail", pk=job.run_id)
    if job.state == ImportJob.State.DONE and job.phase == ImportJob.Phase.PREVIEW:
        report = jobs.load_preview(job)
        return render(
            request,
            "incidents/preview.html",
            {
                "job": job,
                "report": report,
                "run": report.run,
                "mapping": load_format(job.format_name),
                "file_name": job.file_name,
                "errors": report.errors[:PREVIEW_ERRORS],
                "error_count": job.error_count,
                "more_errors": max(0, job.error_count - PREVIEW_ERRORS),
                "can_confirm": report.ok and report.run.rows_read > 0,
            },
        )
    return render(request, "incidents/job.html", {"job": job})


@login_required
@permission_required("incidents.add_importrun", raise_exception=True)
@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    """Queue the import of a previewed file. Confirming is one conditional UPDATE, so of
    several concurrent confirms of one preview exactly one queues an import."""
    try:
        pk = int(request.POST.get("job", ""))
    except ValueError:
        messages.error(request, "Nothing to import: upload the file again.")
        return redirect("incidents-import-upload")
    job = _get_job_for_user(request, pk)
    confirmed = ImportJob.objects.filter(
        pk=job.pk,
        phase=ImportJob.Phase.PREVIEW,
        state=ImportJob.State.DONE,
    ).update(phase=ImportJob.Phase.IMPORT, state=ImportJob.State.QUEUED)
    if not confirmed:
        messages.error(request, "This file was already confirmed, or its preview is not ready.")
        return redirect("incidents-import-job", pk=job.pk)
    job.refresh_from_db()
    jobs.enqueue(job)
    return redirect("incidents-import-job", pk=job.pk)
