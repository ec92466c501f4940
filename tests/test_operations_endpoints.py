"""/healthz, /readyz and /metrics (gvrs.operations.health), the worker's heartbeat, request
ids and JSON logs (gvrs.operations.logs)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from gvrs.operations import health, heartbeat
from gvrs.operations.logs import JsonFormatter, RequestIdFilter
from gvrs.operations.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db(databases="__all__")


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


def test_healthz_answers_a_balancer_asking_by_address_over_http(client, settings):
    # In production the host check and the HTTPS redirect would refuse a health check.
    settings.ALLOWED_HOSTS = ["gvrs.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8001").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.7:8001").status_code in (200, 503)
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.7:8001").status_code == 400


def test_readyz_wants_a_fresh_worker_heartbeat(client, settings):
    WorkerHeartbeat.objects.all().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "worker": "failing",
    }
    stop = heartbeat.start(every_s=3600)
    try:
        response = client.get("/readyz")
        assert response.status_code == 200 and response.json()["status"] == "ready"
        settings.GVRS_WORKER_STALE_S = 60
        WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(seconds=61))
        assert client.get("/readyz").status_code == 503
    finally:
        stop.set()


def test_readyz_says_which_check_fails_and_nothing_else(client, monkeypatch):
    monkeypatch.setattr(health, "_database_ok", lambda alias: False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "failing",
        "migrations": "failing",
        "worker": "failing",
    }
    assert set(response.json()) == {"status", "checks", "took_ms"}


def test_readyz_sees_an_unapplied_migration(client, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    health._migrated.clear()
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("x", False)])
    assert client.get("/readyz").json()["checks"]["migrations"] == "failing"


def test_a_worker_heartbeat_is_written_and_dead_workers_forgotten():
    WorkerHeartbeat.objects.all().delete()
    old = WorkerHeartbeat.objects.create(
        name="gone:1", started_at=timezone.now(), beat_at=timezone.now() - timedelta(days=2)
    )
    stop = heartbeat.start(every_s=3600)
    stop.set()
    names = list(WorkerHeartbeat.objects.values_list("name", flat=True))
    assert names == [heartbeat.worker_name()]
    assert old.name not in names


def test_metrics_are_for_loopback_or_the_token_only(client, settings):
    settings.GVRS_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    # Through a proxy on this machine every visitor would look local.
    relayed = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert relayed.status_code == 404
    settings.GVRS_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    right = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token"
    )
    assert right.status_code == 200
    assert client.post("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 405


def test_metrics_tell_latency_by_view_jobs_imports_and_the_cache(client, settings):
    from django_tasks_db.models import DBTaskResult

    settings.GVRS_METRICS_TOKEN = ""
    client.get("/accounts/login/")
    cache.get("gvrs-test-missing-key")
    cache.set("gvrs-test-key", 1)
    cache.get("gvrs-test-key")
    DBTaskResult.objects.create(
        status="READY",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="x.y",
        backend_name="default",
        run_after=timezone.now() - timedelta(minutes=5),
        enqueued_at=timezone.now(),
    )
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=5))
    text = client.get("/metrics").content.decode()
    assert (
        'gvrs_request_duration_seconds_count{method="GET",status="2xx",view="accounts-login"}'
        in (text)
    )
    assert 'gvrs_cache_requests_total{result="hit"}' in text
    assert 'gvrs_cache_requests_total{result="miss"}' in text
    assert 'gvrs_jobs{state="waiting"} 1.0' in text
    age = next(
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("gvrs_job_oldest_waiting_seconds ")
    )
    assert 290 < age < 400
    for name in ("gvrs_import_rows_total", "gvrs_import_seconds_total", "gvrs_workers_alive"):
        assert f"\n{name} " in text, name
    assert "gvrs_database_up 1.0" in text


def test_every_response_carries_a_request_id(client):
    first = client.get("/accounts/login/")
    second = client.get("/accounts/login/")
    assert len(first["X-Request-ID"]) == 32 and first["X-Request-ID"] != second["X-Request-ID"]
    given = client.get("/healthz", HTTP_X_REQUEST_ID="abcdef0123456789")
    assert given["X-Request-ID"] == "abcdef0123456789"
    # A header that could forge log lines is replaced, not repeated.
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x" \n{"level": "CRITICAL"}')
    assert len(forged["X-Request-ID"]) == 32


def test_json_logs_carry_the_request_id(client, settings, caplog):
    settings.GVRS_ACCESS_LOG = True  # read when the middleware chain is built
    from django.test import Client

    with caplog.at_level(logging.INFO, logger="gvrs.access"):
        response = Client().get("/accounts/login/", HTTP_X_REQUEST_ID="req-0123456789")
    records = [r for r in caplog.records if r.name == "gvrs.access"]
    assert records and response["X-Request-ID"] == "req-0123456789"
    record = records[-1]
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-0123456789"
    assert line["status"] == 200 and line["path"] == "/accounts/login/"
    assert line["view"] == "accounts-login" and line["level"] == "INFO"
    assert "password" not in line["message"]


def test_json_format_is_one_object_per_line_with_the_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("gvrs.x", logging.ERROR, __file__, 1, "failed %s", ("x",), None)
        record.exc_info = sys.exc_info()
    RequestIdFilter().filter(record)
    text = JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["message"] == "failed x" and line["request_id"] == "-"
    assert "ValueError: boom" in line["exception"]


# Committed: the beat thread's own connection would otherwise wait on the test's row lock.
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_heartbeat_does_its_chore_after_each_beat():
    import threading

    done = threading.Event()
    stop = heartbeat.start(every_s=0.05, chore=done.set)
    try:
        assert done.wait(10)
    finally:
        stop.set()
