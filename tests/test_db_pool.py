"""PostgreSQL connections pooled and bounded (issue 24): 60 parallel sign-ins exhausted the
server's connections (500 "too many clients", and other clients of the server refused).
Each process now holds at most GVRS_DB_POOL_MAX connections, however many threads it
serves (``bench/signin_storm_bench.py`` shows it against gunicorn with 200 sign-ins)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from django.db import connection

SHOW = (
    "from django.conf import settings; import json; d = settings.DATABASES['default']; "
    "print(json.dumps({'pool': d.get('OPTIONS', {}).get('pool'), 'age': d['CONN_MAX_AGE']}))"
)


def _settings(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "GVRS_HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "gvrs.settings",
    }
    for name in (
        "GVRS_DATABASE_URL",
        "GVRS_DB_POOL_MAX",
        "GVRS_DB_POOL_MIN",
        "GVRS_DB_POOL_TIMEOUT",
    ):
        environment.pop(name, None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {SHOW}"],
        env=environment,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"pool": {"min_size": 1, "max_size": 4, "timeout": 30}, "age": 0}),
        (
            {"GVRS_DB_POOL_MAX": "8", "GVRS_DB_POOL_MIN": "2", "GVRS_DB_POOL_TIMEOUT": "5"},
            {"pool": {"min_size": 2, "max_size": 8, "timeout": 5}, "age": 0},
        ),
        # Off (behind PgBouncer): a persistent connection per thread, as before.
        ({"GVRS_DB_POOL_MAX": "0"}, {"pool": None, "age": 60}),
    ],
)
def test_postgresql_connections_are_pooled_by_default(tmp_path, env, expected):
    done = _settings(tmp_path, GVRS_DATABASE_URL="postgresql://gvrs@db.example/gvrs", **env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == expected


def test_a_pool_smaller_than_its_minimum_is_refused_at_start(tmp_path):
    done = _settings(
        tmp_path,
        GVRS_DATABASE_URL="postgresql://gvrs@db.example/gvrs",
        GVRS_DB_POOL_MAX="2",
        GVRS_DB_POOL_MIN="3",
    )
    assert done.returncode != 0
    assert "GVRS_DB_POOL_MIN=3 must be between 0 and GVRS_DB_POOL_MAX=2" in done.stderr


def test_sqlite_has_no_pool(tmp_path):
    done = _settings(tmp_path)
    assert json.loads(done.stdout.strip().splitlines()[-1])["pool"] is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the pool is PostgreSQL's")
def test_forty_threads_share_at_most_the_pools_connections():
    """Forty threads querying at once, as forty requests in one threaded worker: each one's
    query is answered, and the server sees no more of this process's connections than the
    pool's maximum (before, each thread opened and kept its own)."""
    from django.conf import settings
    from django.db import connections

    most = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    backends: list[int] = []
    failures: list[str] = []
    barrier = threading.Barrier(40)

    def request() -> None:
        barrier.wait()
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), pg_sleep(0.2)")
                backends.append(cursor.fetchone()[0])
        except Exception as exc:
            failures.append(repr(exc))
        finally:
            connections.close_all()  # what the end of a request does: back to the pool

    threads = [threading.Thread(target=request) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(backends) == 40
    assert len(set(backends)) <= most, sorted(set(backends))
