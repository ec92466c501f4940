"""gunicorn settings ``gvrs serve --production`` adds (``--config python:…``): a worker
process that exits has its live metrics dropped from the shared metrics folder."""

from __future__ import annotations

import os


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
