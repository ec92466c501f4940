"""Prometheus metrics (prometheus-client), served at ``/metrics`` (``gvrs.operations.health``
says who may read them):

- ``gvrs_request_duration_seconds{view,method,status}``: every request's time, by the view
  that answered it (its URL name; ``static``, ``unmatched`` otherwise), a histogram.
- ``gvrs_cache_requests_total{result="hit"|"miss"}``: the shared cache's lookups (the hit
  rate is hit / (hit + miss)).
- ``gvrs_jobs{state}``, ``gvrs_job_oldest_waiting_seconds``: background jobs waiting and
  running, and how long the oldest waiting one has waited (read from the database at each
  scrape, so any app server tells the cluster's figure).
- ``gvrs_import_rows_total``, ``gvrs_import_seconds_total``, ``gvrs_imports_total{status}``:
  rows read and seconds spent by finished imports (throughput is
  ``rate(gvrs_import_rows_total[1h])``, or rows over seconds), and
  ``gvrs_import_last_rows_per_second``.
- ``gvrs_workers_alive``: workers whose heartbeat is fresh.

Under gunicorn each worker process counts its own requests; ``gvrs serve --production``
sets ``PROMETHEUS_MULTIPROC_DIR`` so that a scrape, whichever process answers it, sums them.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "gvrs_request_duration_seconds",
    "Time to answer a request, by view",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
CACHE_REQUESTS = Counter(
    "gvrs_cache_requests", "Lookups in the shared cache, by result", ["result"]
)


def view_label(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.url_name or "unnamed"
    path = request.path_info
    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    if path.rstrip("/") in ("/healthz", "/readyz", "/metrics"):
        return path.strip("/")
    return "unmatched"


def observe(request, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(view_label(request), request.method, f"{status // 100}xx").observe(
        seconds
    )


class CountingDatabaseCache(DatabaseCache):
    """Django's database cache, counting hits and misses."""

    def get_many(self, keys, version=None):
        keys = list(keys)
        found = super().get_many(keys, version=version)
        if found:
            CACHE_REQUESTS.labels("hit").inc(len(found))
        if len(keys) > len(found):
            CACHE_REQUESTS.labels("miss").inc(len(keys) - len(found))
        return found

    def get(self, key, default=None, version=None):
        return self.get_many([key], version=version).get(key, default)


class DatabaseCollector:
    """Figures read from the database at each scrape: jobs, imports, workers."""

    def collect(self):
        from django_tasks_db.models import DBTaskResult

        from gvrs.incidents.models import ImportRun
        from gvrs.operations.models import WorkerHeartbeat

        try:
            now = timezone.now()
            jobs = GaugeMetricFamily("gvrs_jobs", "Background jobs by state", labels=["state"])
            counts = dict(
                DBTaskResult.objects.filter(status__in=("READY", "RUNNING"))
                .values_list("status")
                .annotate(n=Count("pk"))
            )
            jobs.add_metric(["waiting"], counts.get("READY", 0))
            jobs.add_metric(["running"], counts.get("RUNNING", 0))
            oldest = DBTaskResult.objects.filter(status="READY", run_after__lte=now).aggregate(
                at=Min("enqueued_at")
            )["at"]
            age = GaugeMetricFamily(
                "gvrs_job_oldest_waiting_seconds", "Age of the oldest job waiting to run"
            )
            age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)

            finished = ImportRun.objects.filter(finished_at__isnull=False)
            sums = finished.aggregate(rows=Sum("rows_read"), seconds=Sum("duration_s"))
            rows = CounterMetricFamily("gvrs_import_rows", "Rows read by finished imports")
            rows.add_metric([], sums["rows"] or 0)
            seconds = CounterMetricFamily("gvrs_import_seconds", "Time spent by finished imports")
            seconds.add_metric([], sums["seconds"] or 0.0)
            runs = CounterMetricFamily(
                "gvrs_imports", "Finished imports by status", labels=["status"]
            )
            for status, n in finished.values_list("status").annotate(n=Count("pk")):
                runs.add_metric([status], n)
            last = finished.filter(duration_s__gt=0).order_by("-finished_at").first()
            speed = GaugeMetricFamily(
                "gvrs_import_last_rows_per_second", "Rows per second of the last finished import"
            )
            speed.add_metric([], last.rows_read / last.duration_s if last else 0.0)

            fresh = now - timedelta(seconds=settings.GVRS_WORKER_STALE_S)
            workers = GaugeMetricFamily("gvrs_workers_alive", "Workers with a fresh heartbeat")
            workers.add_metric([], WorkerHeartbeat.objects.filter(beat_at__gte=fresh).count())
        except Exception:  # the database down: the request metrics are still worth having
            log.warning("metrics: could not read the database", exc_info=True)
            up = GaugeMetricFamily("gvrs_database_up", "Whether the database answered")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("gvrs_database_up", "Whether the database answered")
        up.add_metric([], 1)
        yield from (up, jobs, age, rows, seconds, runs, speed, workers)


_DATABASE = DatabaseCollector()


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets: this process's (or every gunicorn worker's) counters and the
    database's figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_DATABASE)
    return body + generate_latest(extra), CONTENT_TYPE_LATEST
