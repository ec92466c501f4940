"""What the operations endpoints read: each background worker's sign of life."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per running ``gvrs worker``, rewritten every ``HEARTBEAT_S`` seconds by a
    thread of the worker (``gvrs.operations.heartbeat``); ``/readyz`` is ready while one was
    written within ``GVRS_WORKER_STALE_S`` seconds. A worker that stops cleanly removes its
    row; a killed one's row grows old and is removed by the next worker to start."""

    name = models.CharField(max_length=200, primary_key=True, help_text="host:process id")
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.name
