"""The worker's clock: periodic work queued as background jobs, so the worker that runs
imports runs it too, one job at a time, with no scheduler of its own.

Every ``GVRS_WORKER_CLOCK_S`` seconds it queues the scheduled imports that are due
(``gvrs.incidents.scheduled.run_due_schedules``) and the emails to send
(``gvrs.notifications.sending.send_notices``), each unless one is already waiting or
running: several workers, or a slow import, never pile up copies. ``gvrs scheduled_imports``
and ``gvrs notify`` do the same work from cron or a systemd timer instead.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections
from django_tasks_db.models import DBTaskResult

from gvrs.incidents.scheduled import run_due_schedules
from gvrs.notifications.sending import send_notices

log = logging.getLogger(__name__)
PERIODIC = (run_due_schedules, send_notices)
WAITING = ("READY", "RUNNING")


def tick() -> list[str]:
    """Queue each periodic job that is not already waiting or running; returns their names."""
    queued = []
    for job in PERIODIC:
        path = f"{job.func.__module__}.{job.func.__qualname__}"
        if DBTaskResult.objects.filter(task_path=path, status__in=WAITING).exists():
            continue
        job.enqueue()
        queued.append(job.name)
    return queued


def start(every_s: float) -> threading.Event:
    """Tick now and every ``every_s`` seconds from a daemon thread; set the event to stop."""
    stop = threading.Event()

    def run() -> None:
        while True:
            try:
                tick()
            except Exception:  # the database restarting: try again next tick
                log.exception("the worker's clock could not queue its jobs")
            finally:
                close_old_connections()
            if stop.wait(every_s):
                return

    threading.Thread(target=run, name="gvrs-clock", daemon=True).start()
    return stop
