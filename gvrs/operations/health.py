"""The operations endpoints, open without sign-in and saying nothing about the data:

- ``/healthz``: the process answers (no database touched): a load balancer's health check.
- ``/readyz``: the database answers, every migration is applied and a background worker
  wrote its heartbeat within ``GVRS_WORKER_STALE_S`` seconds: 200 when all three hold, else
  503; the body names which check failed, never why (no host, version or error text).
- ``/metrics``: Prometheus metrics (``gvrs.operations.metrics``), for a scraper holding
  ``GVRS_METRICS_TOKEN`` (``Authorization: Bearer …``), or, with no token set, for a client
  on this machine's loopback that came through no proxy; anyone else gets a plain 404.

``OperationsMiddleware``, first in the chain, answers them before anything else runs: no
host check (a balancer asks by address), no HTTPS redirect, no session, no page cache.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django.utils import timezone

log = logging.getLogger(__name__)
PATHS = ("/healthz", "/readyz", "/metrics")
# Once every migration was seen applied, later checks skip reading the migration files
# (a deployment that adds migrations restarts the servers).
_migrated: set[str] = set()


def _plain(response):
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def healthz(request):
    return _plain(JsonResponse({"status": "ok"}))


def _database_ok(alias: str) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except Exception:
        log.warning("readyz: database %s does not answer", alias, exc_info=True)
        return False


def _migrations_ok(alias: str) -> bool:
    if alias in _migrated:
        return True
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        log.warning("readyz: could not read the migrations of %s", alias, exc_info=True)
        return False
    if not plan:
        _migrated.add(alias)
    return not plan


def _worker_ok() -> bool:
    from gvrs.operations.models import WorkerHeartbeat

    fresh = timezone.now() - timedelta(seconds=settings.GVRS_WORKER_STALE_S)
    try:
        return WorkerHeartbeat.objects.filter(beat_at__gte=fresh).exists()
    except Exception:
        log.warning("readyz: could not read the workers' heartbeats", exc_info=True)
        return False


def readiness() -> dict[str, bool]:
    aliases = [DEFAULT_DB_ALIAS, *(a for a in settings.DATABASES if a != DEFAULT_DB_ALIAS)]
    checks = {"database": all(_database_ok(a) for a in aliases)}
    checks["migrations"] = checks["database"] and all(_migrations_ok(a) for a in aliases)
    checks["worker"] = checks["migrations"] and _worker_ok()
    return checks


def readyz(request):
    started = time.perf_counter()
    checks = readiness()
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {name: "ok" if ok else "failing" for name, ok in checks.items()},
        "took_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    return _plain(JsonResponse(body, status=200 if ready else 503))


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def metrics_allowed(request) -> bool:
    token = settings.GVRS_METRICS_TOKEN
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), token.encode()
        )
    # No token: this machine only, and not relayed by a proxy on it (which would make every
    # visitor look local).
    proxied = any(
        h in request.META for h in ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")
    )
    return _loopback(request.META.get("REMOTE_ADDR")) and not proxied


def metrics(request):
    if not metrics_allowed(request):
        return _plain(HttpResponseNotFound(b"Not Found", content_type="text/plain"))
    from gvrs.operations.metrics import exposition

    body, content_type = exposition()
    return _plain(HttpResponse(body, content_type=content_type))


VIEWS = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics}


class OperationsMiddleware:
    """Answers ``PATHS`` first (see the module's note); every other request passes on."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        view = VIEWS.get(request.path_info.rstrip("/") or "/")
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return _plain(HttpResponse(status=405, headers={"Allow": "GET, HEAD"}))
        return view(request)
