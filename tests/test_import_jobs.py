"""Web imports as background jobs (issue 12, findings 4, 7 and 10): the request only stores
the upload and queues a task; the page polls progress; a dead worker's job is interrupted
with the reason; one confirm makes one run; uploads are bounded and kept private."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from gvrs.incidents import jobs
from gvrs.incidents.importing import bulk
from gvrs.incidents.importing.run import UNFINISHED
from gvrs.incidents.models import ImportJob, ImportRun, Incident
from tests.importing_helpers import row, write_csv
from tests.jobs_helpers import run_queued_tasks

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client, path: Path, **fields):
    with open(path, "rb") as fh:
        return client.post(
            reverse("incidents-import-upload"), {"file": fh, "format": "detect", **fields}
        )


@pytest.fixture
def good(tmp_path) -> Path:
    return write_csv(tmp_path / "good.csv", [row("G-1"), row("G-2"), row("G-3")])


def test_the_upload_request_only_queues_the_check(people, good):
    client = client_for(people["analyst"])
    response = upload(client, good)
    job = ImportJob.objects.get()
    assert response.url == reverse("incidents-import-job", kwargs={"pk": job.pk})
    assert (job.phase, job.state) == ("preview", "queued")
    page = client.get(response.url).content.decode()
    assert 'data-testid="job-progress"' in page and 'hx-trigger="every 1s"' in page
    assert "Queued" in page and ImportRun.objects.count() == 0


def test_progress_shows_rows_read_and_the_share_done(people, good):
    client = client_for(people["analyst"])
    upload(client, good)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state="running")
    with jobs._Heartbeat(job.folder) as heartbeat:
        heartbeat.update(bytes_read=250, bytes_total=1000, rows_read=12_345)
        time.sleep(jobs.HEARTBEAT_S * 1.5)
        part = client.get(
            reverse("incidents-import-job", kwargs={"pk": job.pk}), headers={"HX-Request": "true"}
        ).content.decode()
    assert '<span data-field="rows-read">12345</span> rows read' in part
    assert '<span data-field="share">25</span>% of the file' in part
    assert "<html" not in part  # the polled part only


def test_a_second_import_waits_for_the_first_by_number(people, good, tmp_path):
    client = client_for(people["analyst"])
    upload(client, good)
    first = ImportJob.objects.get()
    ImportJob.objects.filter(pk=first.pk).update(state="running")
    other = write_csv(tmp_path / "other.csv", [row("O-1")])
    second_url = upload(client, other).url
    page = client.get(second_url).content.decode()
    assert f"Waiting for import {first.pk} (good.csv, preview running) to finish." in page


def test_a_job_whose_worker_died_is_marked_interrupted_with_the_reason(people, good):
    client = client_for(people["analyst"])
    upload(client, good)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state="running")
    # The worker's last heartbeat, a minute ago; then nothing (it was killed).
    (Path(job.folder) / jobs.PROGRESS_FILE).write_text(
        json.dumps({"bytes_read": 10, "bytes_total": 100, "rows_read": 1, "at": time.time() - 60})
    )
    page = client.get(reverse("incidents-import-job", kwargs={"pk": job.pk})).content.decode()
    job.refresh_from_db()
    assert job.state == "interrupted"
    assert "the worker running this preview stopped" in job.message
    assert "Interrupted: interrupted: the worker" in page
    assert not Path(job.folder).exists()


def test_a_worker_that_is_alive_is_left_running(people, good):
    client = client_for(people["analyst"])
    upload(client, good)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state="running")
    with jobs._Heartbeat(job.folder):
        client.get(reverse("incidents-import-job", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    assert job.state == "running"


def test_three_confirms_of_one_preview_make_one_run(people, good):
    client = client_for(people["analyst"])
    upload(client, good)
    run_queued_tasks()
    job = ImportJob.objects.get()
    for _ in range(3):
        client.post(reverse("incidents-import-confirm"), {"job": job.pk})
    assert run_queued_tasks() == 1
    assert ImportRun.objects.count() == 1 and Incident.objects.count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads share one SQLite memory db")
def test_three_concurrent_confirms_make_one_run(people, good):
    client = client_for(people["analyst"])
    upload(client, good)
    run_queued_tasks()
    job = ImportJob.objects.get()
    barrier = threading.Barrier(3)

    def confirm():
        from django.db import connections

        barrier.wait()
        client_for(people["analyst"]).post(reverse("incidents-import-confirm"), {"job": job.pk})
        connections.close_all()

    threads = [threading.Thread(target=confirm) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert run_queued_tasks() == 1
    assert ImportRun.objects.count() == 1


def test_another_users_job_is_not_found(people, good):
    upload(client_for(people["analyst"]), good)
    job = ImportJob.objects.get()
    other = client_for(people["police"])
    assert other.get(reverse("incidents-import-job", kwargs={"pk": job.pk})).status_code == 404
    response = other.post(reverse("incidents-import-confirm"), {"job": job.pk})
    assert response.status_code == 404


def test_an_upload_over_the_limit_is_refused_naming_the_setting(people, tmp_path, monkeypatch):
    monkeypatch.setenv("GVRS_MAX_UPLOAD_BYTES", "20000")
    big = write_csv(tmp_path / "big.csv", [row(f"B-{i}") for i in range(400)])
    assert big.stat().st_size > 20_000
    response = upload(client_for(people["analyst"]), big)
    assert response.status_code == 413
    page = response.content.decode()
    assert "over the upload limit of 20,000 bytes" in page and "GVRS_MAX_UPLOAD_BYTES" in page
    assert ImportJob.objects.count() == 0
    from django.conf import settings

    root = Path(settings.UPLOAD_ROOT)
    assert not any(root.iterdir()) if root.exists() else True


def test_uploads_are_private_and_removed_when_the_import_ends(people, good):
    client = client_for(people["analyst"])
    upload(client, good)
    job = ImportJob.objects.get()
    folder = Path(job.folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "good.csv").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    run_queued_tasks()
    client.post(reverse("incidents-import-confirm"), {"job": job.pk})
    run_queued_tasks()
    assert not folder.exists()


def test_a_failed_check_removes_its_upload(people, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("just,some,columns\n1,2,3\n")
    client = client_for(people["analyst"])
    upload(client, path)
    run_queued_tasks()
    job = ImportJob.objects.get()
    assert job.state == "failed" and "no shipped format fits" in job.message
    assert not Path(job.folder).exists()
    page = client.get(reverse("incidents-import-job", kwargs={"pk": job.pk})).content.decode()
    assert "The preview failed: no shipped format fits" in page


def test_abandoned_previews_are_purged_after_their_time(people, good):
    client = client_for(people["analyst"])
    upload(client, good)
    run_queued_tasks()
    job = ImportJob.objects.get()
    assert Path(job.folder).exists()
    assert jobs.purge_stale_uploads() == 0  # still young: kept for its confirm
    old = time.time() - 25 * 3600
    os.utime(job.folder, (old, old))
    assert jobs.purge_stale_uploads() == 1
    assert not Path(job.folder).exists()


def test_a_preview_is_never_a_bulk_load():
    with connection.cursor() as cursor:
        assert bulk.is_bulk(cursor, 10**6)  # an empty registry and a million new incidents
        with bulk.never():
            assert not bulk.is_bulk(cursor, 10**6)


def test_the_preview_prints_no_whole_value(people, tmp_path):
    path = write_csv(tmp_path / "long.csv", [row("L-1", kind="k" * 20_000)])
    client = client_for(people["analyst"])
    page = client.get(upload(client, path).url)
    run_queued_tasks()
    page = client.get(reverse("incidents-import-job", kwargs={"pk": ImportJob.objects.get().pk}))
    text = page.content.decode()
    assert "unknown kind" in text and "k" * 201 not in text and len(text) < 50_000


def test_a_killed_import_never_stays_failed_without_a_message(tmp_path):
    """``kill -9`` of ``gvrs import`` mid-way: the run says it did not finish, nothing stored."""
    home = tmp_path / "home"
    rows = [row(f"K-{i}", occurred_at=f"20{10 + i % 12}-03-04") for i in range(300_000)]
    data = write_csv(tmp_path / "big.csv", rows)
    env = {**os.environ, "GVRS_HOME": str(home), "GVRS_DEFAULT_STATE": "CA"}
    env.pop("GVRS_DATABASE_URL", None)
    gvrs = [sys.executable, "-m", "gvrs.cli"]
    subprocess.run([*gvrs, "migrate", "-v", "0"], env=env, check=True, timeout=600)
    process = subprocess.Popen(
        [*gvrs, "import", str(data), "--format", "gvrs"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    database = home / "gvrs.sqlite3"
    deadline = time.time() + 300
    while time.time() < deadline:
        with sqlite3.connect(database, timeout=30) as db:
            if db.execute("SELECT COUNT(*) FROM incidents_importrun").fetchone()[0]:
                break
        time.sleep(0.2)
    time.sleep(1.0)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with sqlite3.connect(database, timeout=30) as db:
        status, message, finished = db.execute(
            "SELECT status, message, finished_at FROM incidents_importrun"
        ).fetchone()
        incidents = db.execute("SELECT COUNT(*) FROM incidents_incident").fetchone()[0]
    assert (status, message, finished) == ("failed", UNFINISHED, None)
    assert incidents == 0


def test_a_second_command_line_import_on_sqlite_says_the_registry_is_busy(tmp_path):
    """The review: two imports at once on SQLite, the second died with a raw "database is
    locked" traceback. Now it waits GVRS_SQLITE_BUSY_TIMEOUT, then says why, no traceback."""
    home = tmp_path / "home"
    env = {**os.environ, "GVRS_HOME": str(home), "GVRS_DEFAULT_STATE": "CA"}
    env.pop("GVRS_DATABASE_URL", None)
    gvrs = [sys.executable, "-m", "gvrs.cli"]
    subprocess.run([*gvrs, "migrate", "-v", "0"], env=env, check=True, timeout=600)
    rows = [row(f"K-{i}", occurred_at=f"20{10 + i % 12}-03-04") for i in range(300_000)]
    first = subprocess.Popen(
        [*gvrs, "import", str(write_csv(tmp_path / "big.csv", rows)), "--format", "gvrs"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        database = home / "gvrs.sqlite3"
        deadline = time.time() + 300
        while time.time() < deadline:
            with sqlite3.connect(database, timeout=30) as db:
                if db.execute("SELECT COUNT(*) FROM incidents_importrun").fetchone()[0]:
                    break
            time.sleep(0.2)
        second = subprocess.run(
            [
                *gvrs,
                "import",
                str(write_csv(tmp_path / "small.csv", [row("S-1")])),
                "--format",
                "gvrs",
            ],
            env={**env, "GVRS_SQLITE_BUSY_TIMEOUT": "1"},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 1
    assert "Traceback" not in second.stderr
    assert "small.csv: the registry is busy" in second.stderr
    assert "GVRS_SQLITE_BUSY_TIMEOUT" in second.stderr


def test_a_file_naming_no_state_is_told_to_fill_in_the_forms_state_field(people, good, settings):
    """The web upload has its own State field: its error points there, never at a
    command-line flag or an environment variable."""
    settings.GVRS_DEFAULT_STATE = ""
    client = client_for(people["analyst"])
    upload(client, good)
    run_queued_tasks()
    job = ImportJob.objects.get()
    assert job.state == "failed", job.message
    assert 'fill in "State" on this form' in job.message
    assert "--state" not in job.message and "GVRS_DEFAULT_STATE" not in job.message
