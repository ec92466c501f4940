"""Imports through the web as background jobs of Django's tasks framework.

A web request only stores the upload and queues a task; ``gvrs worker`` (started beside the
server by ``gvrs serve``) runs it. The job's page polls its progress (rows read, share of the
file done), then shows the result.

Progress lives in a small file beside the upload (``progress.json``), written by the task
every second or so, not in the database: an import writes the registry inside one
transaction, and on SQLite that transaction holds the database's one write lock, so a
progress row could not be written (nor, on PostgreSQL, seen) until the import ended. The
worker and the web server already share the upload folder, so they share this file too.

A job whose worker died (killed, out of memory, machine restarted) stops writing progress;
after ``STALE_AFTER_S`` without a sign of life it is marked interrupted, with the reason.
Uploads are kept only while a job needs them: removed when the import ends or fails, and by
the worker once a preview has waited ``GVRS_UPLOAD_TTL_HOURS`` unconfirmed.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone
from django_tasks import task

from gvrs.data.errors import FileError
from gvrs.data.mapping import MappingError, detect_format, load_format
from gvrs.data.readers import open_table
from gvrs.incidents.importing import ImportReport, bulk, import_file
from gvrs.incidents.importing.run import UNFINISHED, busy_message
from gvrs.incidents.models import ImportJob, ImportRun
from gvrs.incidents.signals import registry_changed

log = logging.getLogger(__name__)

PREVIEW_ERRORS = 500  # errors kept with a preview (the count is kept whole)
SHOWN_VALUE_CHARS = 200  # a value in a kept error is cut to this
HEARTBEAT_S = 1.0
STALE_AFTER_S = 30.0
PROGRESS_FILE = "progress.json"


# -- files -------------------------------------------------------------------------------------


def new_upload_folder() -> Path:
    """A fresh folder for one upload, readable by this account only."""
    root = Path(settings.UPLOAD_ROOT)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    folder = root / uuid.uuid4().hex
    folder.mkdir(mode=0o700)
    return folder


def save_upload(upload, folder: Path, limit_bytes: int) -> Path | None:
    """Write an uploaded file into ``folder`` (0600), or None when it is over ``limit_bytes``
    (the folder is then removed)."""
    path = folder / Path(upload.name).name
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        for piece in upload.chunks():
            written += len(piece)
            if written > limit_bytes:
                break
            fh.write(piece)
    if written > limit_bytes:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return path


def remove_upload(job: ImportJob) -> None:
    shutil.rmtree(job.folder, ignore_errors=True)


def purge_stale_uploads(max_age_s: float | None = None) -> int:
    """Remove uploads no job needs any more: those of finished jobs, previews left
    unconfirmed for longer than ``GVRS_UPLOAD_TTL_HOURS``, and folders no job names. Returns
    how many folders were removed."""
    root = Path(settings.UPLOAD_ROOT)
    if not root.is_dir():
        return 0
    max_age_s = settings.GVRS_UPLOAD_TTL_HOURS * 3600 if max_age_s is None else max_age_s
    now = time.time()
    wanted = {
        Path(job.folder).name
        for job in ImportJob.objects.filter(
            state__in=[ImportJob.State.QUEUED, ImportJob.State.RUNNING]
        )
        | ImportJob.objects.filter(phase=ImportJob.Phase.PREVIEW, state=ImportJob.State.DONE)
    }
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        age = now - folder.stat().st_mtime
        if folder.name in wanted and age <= max_age_s:
            continue
        if folder.name not in wanted and age < 60:
            continue  # being uploaded right now; its job row is not written yet
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


# -- progress ----------------------------------------------------------------------------------


class _Heartbeat:
    """Writes the job's progress file every ``HEARTBEAT_S`` seconds while the task runs (from
    a thread, so a long SQL statement does not look like a dead worker)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / PROGRESS_FILE
        self.state = {"bytes_read": 0, "bytes_total": 0, "rows_read": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def update(self, bytes_read: int, bytes_total: int, rows_read: int) -> None:
        self.state = {"bytes_read": bytes_read, "bytes_total": bytes_total, "rows_read": rows_read}

    def _write(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps({**self.state, "at": time.time(), "pid": os.getpid()}))
            os.replace(temporary, self.path)
        except OSError:  # the folder was removed under us: the job is over
            pass

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            self._write()

    def __enter__(self) -> _Heartbeat:
        self._write()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def progress(job: ImportJob) -> dict:
    """The job's last progress: rows read, bytes read and total, share done (0-1), age of the
    last heartbeat in seconds (None before the first)."""
    try:
        data = json.loads((Path(job.folder) / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return {"rows_read": 0, "bytes_read": 0, "bytes_total": 0, "share": 0.0, "age_s": None}
    total = data.get("bytes_total") or 0
    share = min(1.0, data.get("bytes_read", 0) / total) if total else 0.0
    return {**data, "share": share, "age_s": max(0.0, time.time() - data.get("at", 0))}


def interrupt_if_dead(job: ImportJob, stale_after_s: float = STALE_AFTER_S) -> bool:
    """Mark a running job interrupted when its worker has shown no sign of life for
    ``stale_after_s`` seconds. Returns whether it did."""
    if job.state != ImportJob.State.RUNNING:
        return False
    age = progress(job)["age_s"]
    if age is not None and age <= stale_after_s:
        return False
    if age is None and (timezone.now() - job.updated_at).total_seconds() <= stale_after_s:
        return False
    reason = (
        f"interrupted: the worker running this {job.phase} stopped (no sign of it for "
        f"{stale_after_s:.0f} s; it was killed, ran out of memory or was restarted). Nothing "
        "was stored: an import writes everything or nothing. Upload the file again."
    )
    changed = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.RUNNING).update(
        state=ImportJob.State.INTERRUPTED, message=reason, updated_at=timezone.now()
    )
    if changed:
        job.refresh_from_db()
        # The import's own run, if it had started: recorded outside its rolled-back
        # transaction, unfinished.
        ImportRun.objects.filter(
            file_name=job.file_name,
            started_at__gte=job.created_at,
            finished_at__isnull=True,
            message=UNFINISHED,
        ).update(message=reason, finished_at=timezone.now())
        remove_upload(job)
    return bool(changed)


def interrupt_dead_jobs() -> int:
    return sum(interrupt_if_dead(job) for job in ImportJob.objects.filter(state="running"))


def waiting_for(job: ImportJob) -> ImportJob | None:
    """The job this queued one waits behind: the oldest other active job queued before it."""
    if job.state != ImportJob.State.QUEUED:
        return None
    return (
        ImportJob.objects.filter(
            state__in=[ImportJob.State.QUEUED, ImportJob.State.RUNNING], pk__lt=job.pk
        )
        .order_by("-state", "pk")  # running before queued
        .first()
    )


# -- the tasks ---------------------------------------------------------------------------------


def _mapping_for(job: ImportJob, path: Path):
    if job.format_name:
        return load_format(job.format_name)
    return detect_format(open_table(path).columns)


def _start(job_id: int, phase: str) -> ImportJob | None:
    """Claim the job for this phase; None if it is no longer queued (e.g. interrupted)."""
    claimed = ImportJob.objects.filter(pk=job_id, phase=phase, state=ImportJob.State.QUEUED)
    if not claimed.update(state=ImportJob.State.RUNNING, updated_at=timezone.now()):
        return None
    return ImportJob.objects.select_related("user").get(pk=job_id)


# What the importer tells the command line, as the upload form says it: a web page never
# asks for a command-line flag or an environment variable.
WEB_WORDS = {
    "pass --state, or set GVRS_DEFAULT_STATE": 'or fill in "State" on this form',
    "or pass --new-places to create a separate place": (
        'or tick "Create places whose name already exists elsewhere in the state" on this form'
    ),
}


def in_web_words(message: str) -> str:
    for said, meant in WEB_WORDS.items():
        message = message.replace(said, meant)
    return message


def _fail(job: ImportJob, message: str) -> None:
    message = in_web_words(message)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.FAILED, message=message[:5000], updated_at=timezone.now()
    )
    remove_upload(job)


class _PreviewOnlyError(Exception):
    """Rolls the dry run back after its report is taken."""


def dry_run(path: Path, mapping, job: ImportJob, heartbeat: _Heartbeat | None) -> ImportReport:
    """Everything an import would do, then rolled back: counts and every error. Never a bulk
    load (a preview must not drop the registry's indexes under other users' feet)."""
    report = None
    try:
        with transaction.atomic(), bulk.never():
            report = import_file(
                path,
                mapping,
                jurisdiction=job.jurisdiction or None,
                accept_valid=job.accept_valid,
                initiated_by=job.user.get_username() if job.user else "",
                progress=heartbeat.update if heartbeat else None,
                covers_from=job.covers_from,
                covers_through=job.covers_through,
                state=job.place_state or None,
                new_places=job.new_places,
            )
            raise _PreviewOnlyError
    except _PreviewOnlyError:
        pass
    return report


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kept(report: ImportReport) -> bytes:
    """The report as the preview page needs it, with errors capped and long values cut."""
    errors = [
        replace(e, value=_cut(e.value, SHOWN_VALUE_CHARS), reason=_cut(e.reason, SHOWN_VALUE_CHARS))
        for e in report.errors[:PREVIEW_ERRORS]
    ]
    return pickle.dumps(replace(report, errors=errors))


def load_preview(job: ImportJob) -> ImportReport | None:
    # Written by our own worker into our own database; never from a user's bytes.
    return pickle.loads(bytes(job.preview)) if job.preview else None


@task()
def preview_upload(job_id: int) -> None:
    """Check the uploaded file as an import would, storing nothing."""
    job = _start(job_id, ImportJob.Phase.PREVIEW)
    if job is None:
        return
    path = Path(job.folder) / job.file_name
    try:
        with _Heartbeat(job.folder) as heartbeat:
            mapping = _mapping_for(job, path)
            report = dry_run(path, mapping, job, heartbeat)
    except (FileError, MappingError) as exc:
        _fail(job, str(exc))
        return
    except Exception as exc:
        log.exception("preview of import job %s failed", job_id)
        _fail(job, f"the check failed unexpectedly ({exc.__class__.__name__}: {exc})")
        return
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.DONE,
        format_name=mapping.name,
        preview=_kept(report),
        error_count=len(report.errors),
        updated_at=timezone.now(),
    )


@task()
def import_upload(job_id: int) -> None:
    """Import the previewed, confirmed file."""
    from gvrs.accounts.audit import record

    job = _start(job_id, ImportJob.Phase.IMPORT)
    if job is None:
        return
    path = Path(job.folder) / job.file_name
    try:
        with _Heartbeat(job.folder) as heartbeat:
            report = import_file(
                path,
                load_format(job.format_name),
                jurisdiction=job.jurisdiction or None,
                accept_valid=job.accept_valid,
                initiated_by=job.user.get_username() if job.user else "",
                progress=heartbeat.update,
                covers_from=job.covers_from,
                covers_through=job.covers_through,
                state=job.place_state or None,
                new_places=job.new_places,
            )
    except (FileError, MappingError) as exc:
        _fail(job, str(exc))
        return
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        _fail(job, busy_message(job.file_name))
        return
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        _fail(job, f"the import failed unexpectedly ({exc.__class__.__name__}: {exc})")
        return
    finally:
        remove_upload(job)
    run = report.run
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.DONE, run=run, message=run.message, updated_at=timezone.now()
    )
    record(job.user, "import", run, f"{run.file_name} ({run.status})")
    if run.rows_inserted or run.rows_updated:
        registry_changed.send(sender=ImportJob, run=run)


def upkeep(**kwargs) -> None:
    """After each task (connected to django-tasks' ``task_finished`` in the app config)."""
    interrupt_dead_jobs()
    purge_stale_uploads()


def enqueue(job: ImportJob) -> None:
    """Queue the job's current phase (the job row is already committed: views run in
    autocommit)."""
    work = preview_upload if job.phase == ImportJob.Phase.PREVIEW else import_upload
    work.enqueue(job.pk)
