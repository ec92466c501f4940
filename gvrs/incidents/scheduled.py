"""Scheduled imports: a watched folder or an HTTPS address, imported with a saved mapping when
its schedule is due (``ScheduledImport``).

Every run is recorded (``ScheduledRun``) with its outcome. A file is known by its SHA-256: one
already imported, or already refused, is "nothing changed" however often it is seen, so a
run is idempotent. In a folder, a file modified within ``settle_seconds`` is left for the next
run (the records system may still be writing it); nothing in the folder is moved or changed.
An address is fetched over HTTPS only, with the certificate verified (against
``GVRS_FETCH_CA_FILE`` when set, for a city's own certificate authority), with
``If-None-Match`` when the server gave an ETag, and never past ``GVRS_MAX_UPLOAD_BYTES``.

A failed run (a file that cannot be read or has invalid rows, an address that does not
answer) is recorded with why, and ``scheduled_import_failed`` is sent: the notifications app
emails the place's administrators who subscribed. The worker runs due schedules
(``run_due_schedules``, queued by ``gvrs worker``'s clock); ``gvrs scheduled_imports`` does
the same from cron or a systemd timer.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import shutil
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from gvrs.data.errors import FileError
from gvrs.data.limits import Limits, setting_name
from gvrs.data.mapping import MappingError
from gvrs.incidents.importing import import_file
from gvrs.incidents.importing.run import file_sha256
from gvrs.incidents.models import ImportRun, ScheduledImport, ScheduledRun
from gvrs.incidents.schedule_rules import mapping_of
from gvrs.incidents.signals import registry_changed, scheduled_import_failed

FETCH_TIMEOUT_S = 60
STALE_RUN = dt.timedelta(hours=6)  # a run that started this long ago died with its worker


@dataclass(frozen=True)
class Found:
    """A file to consider: where it is, its name, its SHA-256."""

    path: Path
    name: str
    sha256: str


class FetchError(Exception):
    """The address could not be fetched; the message says why."""


def _seen(schedule: ScheduledImport, sha256: str) -> ScheduledRun | None:
    """The run that already took these bytes in (imported, or refused for its content)."""
    return (
        schedule.runs.filter(file_sha256=sha256)
        .exclude(outcome=ScheduledRun.Outcome.UNCHANGED)
        .order_by("-pk")
        .first()
    )


def _folder_files(schedule: ScheduledImport) -> list[Path]:
    folder = Path(schedule.folder)
    if not folder.is_dir():
        raise FetchError(f"{folder}: no such folder (or gvrs may not read it)")
    now = time.time()
    files = [
        p
        for p in folder.iterdir()
        if p.is_file()
        and fnmatch.fnmatch(p.name, schedule.pattern or "*")
        and now - p.stat().st_mtime >= schedule.settle_seconds
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def _ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.GVRS_FETCH_CA_FILE:
        context.load_verify_locations(cafile=settings.GVRS_FETCH_CA_FILE)
    return context


def _fetch(schedule: ScheduledImport, into: Path) -> Path | None:
    """Download the address into ``into`` (None: not modified since the last fetch)."""
    limit = Limits.from_env().upload_bytes
    name = Path(urlsplit(schedule.url).path).name or "download.csv"
    request = urllib.request.Request(schedule.url, headers={"User-Agent": "gvrs"})
    if schedule.etag:
        request.add_header("If-None-Match", schedule.etag)
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=_ssl_context()), _NoRedirectToHttp()
    )
    try:
        with opener.open(request, timeout=FETCH_TIMEOUT_S) as response:
            path = into / name
            written = 0
            with open(path, "wb") as out:
                while block := response.read(1 << 20):
                    written += len(block)
                    if written > limit:
                        raise FetchError(
                            f"{schedule.url}: over the limit of {limit:,} bytes "
                            f"({setting_name('upload_bytes')})"
                        )
                    out.write(block)
            etag = response.headers.get("ETag", "")
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return None
        raise FetchError(f"{schedule.url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{schedule.url}: could not fetch it ({reason})") from None
    ScheduledImport.objects.filter(pk=schedule.pk).update(etag=etag[:200])
    return path


class _NoRedirectToHttp(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to other https:// addresses."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme != "https":
            raise FetchError(f"{req.full_url}: redirected to a non-https address, not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _record(schedule, started, outcome, *, found=None, message="", run=None) -> ScheduledRun:
    return ScheduledRun.objects.create(
        schedule=schedule,
        started_at=started,
        finished_at=timezone.now(),
        outcome=outcome,
        file_name=found.name if found else "",
        file_sha256=found.sha256 if found else "",
        message=message[:5000],
        import_run=run,
    )


def _failed(schedule, started, message, *, found=None, run=None) -> ScheduledRun:
    done = _record(
        schedule, started, ScheduledRun.Outcome.FAILED, found=found, message=message, run=run
    )
    replies = scheduled_import_failed.send(sender=ScheduledImport, run=done)
    told = sum(reply for _, reply in replies if isinstance(reply, int))
    if told:
        ScheduledRun.objects.filter(pk=done.pk).update(notified=told)
        done.notified = told
    return done


def _import(schedule: ScheduledImport, found: Found, started) -> ScheduledRun:
    from gvrs.accounts.audit import record

    try:
        report = import_file(
            found.path,
            mapping_of(schedule),
            jurisdiction=schedule.jurisdiction or None,
            accept_valid=schedule.accept_valid,
            initiated_by=f"scheduled import {schedule.name}"[:150],
            state=schedule.state or None,
        )
    except (FileError, MappingError) as exc:
        return _failed(schedule, started, str(exc), found=found, run=_last_run(found))
    except Exception as exc:
        return _failed(
            schedule,
            started,
            f"the import failed unexpectedly ({exc.__class__.__name__}: {exc})",
            found=found,
            run=_last_run(found),
        )
    run = report.run
    record(None, "import", run, f"scheduled import {schedule.name}: {run.file_name} ({run.status})")
    if run.status == ImportRun.Status.FAILED:
        return _failed(schedule, started, f"{found.name}: {run.message}", found=found, run=run)
    if run.rows_inserted or run.rows_updated:
        registry_changed.send(sender=ScheduledImport, run=run)
    summary = (
        f"{found.name}: {run.incidents_inserted:,} incidents new, {run.incidents_updated:,} "
        f"updated, {run.incidents_unchanged:,} unchanged"
        if run.target == "incidents"
        else f"{found.name}: {run.rows_inserted:,} figures new, {run.rows_updated:,} updated"
    )
    if run.rows_rejected:
        summary += f"; {run.rows_rejected:,} rows set aside"
    return _record(
        schedule, started, ScheduledRun.Outcome.IMPORTED, found=found, message=summary, run=run
    )


def _last_run(found: Found) -> ImportRun | None:
    return ImportRun.objects.filter(file_sha256=found.sha256).order_by("-pk").first()


def run_schedule(schedule: ScheduledImport) -> list[ScheduledRun]:
    """Run one schedule now: import each new file, or record that nothing changed. Returns
    the runs recorded (none when another worker is running this schedule)."""
    now = timezone.now()
    claimed = (
        ScheduledImport.objects.filter(pk=schedule.pk)
        .filter(_not_running(now))
        .update(running_since=now)
    )
    if not claimed:
        return []
    started = now
    runs: list[ScheduledRun] = []
    workdir = Path(tempfile.mkdtemp(prefix="gvrs-scheduled-"))
    try:
        try:
            if schedule.url:
                fetched = _fetch(schedule, workdir)
                paths = [] if fetched is None else [fetched]
            else:
                paths = _folder_files(schedule)
        except FetchError as exc:
            return [_failed(schedule, started, str(exc))]
        seen = 0
        for path in paths:
            found = Found(path, path.name, file_sha256(path))
            if _seen(schedule, found.sha256) is not None:
                seen += 1
                continue
            runs.append(_import(schedule, found, started))
            started = timezone.now()
        if not runs:
            where = "the address" if schedule.url else f"{len(paths)} files in the folder"
            message = (
                "the address has not changed since it was last fetched"
                if schedule.url and not paths
                else f"{where}, {seen} already seen"
            )
            runs.append(_record(schedule, started, ScheduledRun.Outcome.UNCHANGED, message=message))
        return runs
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        ScheduledImport.objects.filter(pk=schedule.pk).update(
            running_since=None,
            next_run_at=timezone.now() + dt.timedelta(minutes=schedule.every_minutes),
        )


def _not_running(now):
    """Not claimed by a run, or claimed by one that died long ago."""
    return Q(running_since__isnull=True) | Q(running_since__lt=now - STALE_RUN)


def due(now=None):
    """The enabled schedules whose time has come."""
    now = now or timezone.now()
    return ScheduledImport.objects.filter(enabled=True).filter(
        Q(next_run_at__isnull=True) | Q(next_run_at__lte=now)
    )


def run_due(*, every: bool = False) -> list[ScheduledRun]:
    """Run every due schedule (every enabled one with ``every``), one after the other."""
    schedules = ScheduledImport.objects.filter(enabled=True) if every else due()
    runs = []
    for schedule in schedules:
        runs += run_schedule(schedule)
    return runs


@task()
def run_due_schedules() -> int:
    """The worker's periodic job: run the schedules that are due."""
    return len(run_due())


def describe(run: ScheduledRun) -> str:
    """One line for the command's output and the imports page."""
    told = f"; {run.notified} administrators told" if run.notified else ""
    return f"{run.schedule.name}: {run.get_outcome_display()}: {run.message}{told}"
