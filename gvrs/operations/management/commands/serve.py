"""``gvrs serve``: the web application on 127.0.0.1:8000 (development server by default;
``--production`` runs gunicorn). Static files are collected first and served by WhiteNoise,
compressed and cached immutably, in both modes. ``--demo`` serves the database that
``gvrs demo`` built (the switch of GVRS_HOME happens in ``gvrs.cli`` before Django starts)."""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from gvrs.operations.preload import preload
from gvrs.reports.warm import warm_now

log = logging.getLogger(__name__)


def _static_fingerprint() -> str:
    """Every static source file's path, size and time: compressing Plotly's bundle with
    Brotli takes many seconds, so it is done again only when a source changed."""
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collect_static_if_changed() -> bool:
    """Collect (hash, compress) static files unless the last collection is of these sources."""
    stamp = Path(settings.STATIC_ROOT) / ".gvrs-sources"
    fingerprint = _static_fingerprint()
    if stamp.exists() and stamp.read_text() == fingerprint:
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(fingerprint)
    return True


class Command(BaseCommand):
    help = "Serve the web application."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--production",
            action="store_true",
            help="gunicorn + WhiteNoise instead of the development server",
        )
        parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 1) * 2))
        parser.add_argument(
            "--threads",
            type=int,
            default=1,
            help="threads per gunicorn worker (gthread); each worker's database connections"
            " stay within GVRS_DB_POOL_MAX however many threads it has",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start a background-job worker (run `gvrs worker` elsewhere)",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="serve the demo database built by `gvrs demo` (under $GVRS_HOME/demo)",
        )

    def handle(self, *args, **options) -> None:
        address = f"{options['host']}:{options['port']}"
        if not options["no_worker"]:
            start_worker(self.stdout)
        if settings.COMPRESSED_STATIC:
            collect_static_if_changed()  # before preload(), which reads the manifest
        if not options["production"]:
            preload()  # gunicorn's --preload does it in the process that serves
        try:
            warm_now()  # the landing dashboard, in the shared cache before the first visit
        except Exception:  # an optimisation: the page reports its own failure when visited
            log.exception("could not compute the landing dashboard before serving")
        if not options["production"]:
            self.stdout.write(f"gvrs at http://{address}/ (development server; Ctrl-C stops)")
            call_command("runserver", address, use_reloader=False)
            return
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable))
        if gunicorn is None:
            raise CommandError("gunicorn is not installed in this environment", returncode=2)
        threads = max(1, options["threads"])
        self.stdout.write(
            f"gvrs at http://{address}/ (gunicorn, {options['workers']} workers"
            + (f" x {threads} threads)" if threads > 1 else ")")
        )
        # gunicorn's workers open their own connections (and pools); none is inherited.
        connections.close_all()
        for connection in connections.all(initialized_only=True):
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()
        prepare_metrics_dir(options["port"])
        args = [
            gunicorn,
            "gvrs.wsgi:application",
            "--preload",
            "--bind",
            address,
            "--workers",
            str(options["workers"]),
            "--threads",
            str(threads),
            "--config",
            "python:gvrs.operations.gunicorn_conf",
        ]
        if settings.GVRS_LOG_FORMAT == "json":
            # gvrs's own access lines, in JSON with the request id, instead of gunicorn's.
            os.environ["GVRS_ACCESS_LOG"] = "1"
        else:
            args += ["--access-logfile", "-"]
        os.execv(gunicorn, args)


def prepare_metrics_dir(port: int) -> Path:
    """An empty folder where gunicorn's worker processes keep their metrics for one another
    (prometheus-client's multiprocess mode), one per port so that two servers on a machine
    never mix. Set before gunicorn imports the application."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = Path(given) if given else settings.GVRS_HOME / "metrics" / str(port)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):  # the last run's counters (only prometheus-client's files)
        old.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def _die_with_parent() -> None:
    """In the worker's process: get SIGTERM when the server process ends (Linux), so a worker
    never outlives the server that started it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start_worker(stdout) -> subprocess.Popen:
    """``gvrs worker`` beside the server, stopped when the server stops."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "gvrs.cli", "worker", "--no-startup-delay", "--no-reload"],
        preexec_fn=_die_with_parent,
    )
    atexit.register(worker.terminate)
    stdout.write(f"background-job worker started (process {worker.pid})")
    return worker
