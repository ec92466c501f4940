"""The worker's heartbeat: a row of ``WorkerHeartbeat`` rewritten every ``HEARTBEAT_S``
seconds from a daemon thread, which ``/readyz`` reads (``gvrs.operations.health``)."""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from django.db import close_old_connections
from django.utils import timezone

from gvrs.operations.models import WorkerHeartbeat

log = logging.getLogger(__name__)
HEARTBEAT_S = 10.0
# Rows older than this are of workers long dead (killed, or their machine gone): removed.
FORGET_AFTER = timedelta(days=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(name: str, started_at) -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"started_at": started_at, "beat_at": timezone.now()}
    )


def start(
    every_s: float = HEARTBEAT_S, chore: Callable[[], object] | None = None
) -> threading.Event:
    """Beat now and every ``every_s`` seconds until the event is set or the process ends,
    doing ``chore`` after each beat (the worker: marking jobs of dead workers interrupted,
    which must not wait for another job to finish on an idle worker)."""
    name, started_at, stop = worker_name(), timezone.now(), threading.Event()
    WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - FORGET_AFTER).delete()
    beat(name, started_at)

    def run() -> None:
        while not stop.wait(every_s):
            try:
                beat(name, started_at)
            except Exception:  # the database restarting: the next beat tries again
                log.exception("the worker could not write its heartbeat")
            try:
                if chore is not None:
                    chore()
            except Exception:
                log.exception("the worker's heartbeat could not do its chore")
            finally:
                close_old_connections()

    def end() -> None:
        if stop.is_set():  # stopped by its caller, who owns the row
            return
        stop.set()
        try:
            WorkerHeartbeat.objects.filter(name=name).delete()
        except Exception:  # stopping anyway: the row grows stale and readyz says so
            log.warning("the worker could not remove its heartbeat")

    threading.Thread(target=run, name="gvrs-heartbeat", daemon=True).start()
    atexit.register(end)
    return stop
