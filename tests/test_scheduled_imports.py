"""Scheduled imports: a watched folder and an HTTPS address (a real TLS server on loopback),
each file imported once, an unchanged one "nothing changed", every run recorded with its
outcome, a failed run emailed to the place's subscribed administrators."""

from __future__ import annotations

import io
import os
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.incidents.models import ImportRun, Incident, Jurisdiction, ScheduledImport, ScheduledRun
from gvrs.notifications.models import Kind, Notice, Subscription
from gvrs.operations import clock
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db


def _settled(path) -> None:
    """As if the records system finished writing it two minutes ago."""
    past = time.time() - 120
    os.utime(path, (past, past))


def _run(*args) -> str:
    out = io.StringIO()
    try:
        call_command("scheduled_imports", *args, stdout=out)
    except CommandError as exc:
        out.write(f"exit {exc.returncode}: {exc}")
    return out.getvalue()


@pytest.fixture
def drop(tmp_path):
    folder = tmp_path / "nightly"
    folder.mkdir()
    return folder


def test_the_folder_import_picks_up_a_new_file_once_and_ignores_an_unchanged_one(drop):
    ScheduledImport.objects.create(
        name="RMS nightly", folder=str(drop), pattern="*.csv", format_name="gvrs"
    )
    first = write_csv(drop / "2024-06-01.csv", [row("A-1"), row("A-2")])
    _settled(first)
    out = _run("--all")
    assert "RMS nightly: imported: 2024-06-01.csv: 2 incidents new" in out
    assert Incident.objects.count() == 2

    # The same file again (touched, even): nothing changed, nothing imported, run recorded.
    _settled(first)
    out = _run("--all")
    assert "RMS nightly: nothing changed: 1 files in the folder, 1 already seen" in out
    assert ImportRun.objects.count() == 1

    # A file still being written is left for the next run; then the new night's file is taken.
    second = write_csv(drop / "2024-06-02.csv", [row("A-2"), row("A-3")])
    assert "nothing changed" in _run("--all")
    _settled(second)
    out = _run("--all")
    assert "2024-06-02.csv: 1 incidents new, 0 updated, 1 unchanged" in out
    assert sorted(Incident.objects.values_list("source_id", flat=True)) == ["A-1", "A-2", "A-3"]
    outcomes = list(ScheduledRun.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["imported", "unchanged", "unchanged", "imported"]
    run = ScheduledRun.objects.order_by("pk").last()
    assert run.import_run.initiated_by == "scheduled import RMS nightly"


def test_a_schedule_runs_when_due_and_not_before(drop):
    schedule = ScheduledImport.objects.create(
        name="RMS", folder=str(drop), format_name="gvrs", every_minutes=60
    )
    assert "nothing changed" in _run()  # never run: due at once
    assert "no scheduled import is due" in _run()
    schedule.refresh_from_db()
    assert schedule.next_run_at is not None and schedule.running_since is None


def test_a_failed_run_is_recorded_and_emailed_to_the_places_subscribed_administrators(
    drop, people, smtp_server
):
    write_csv(drop / "x.csv", [row("A-1"), row("A-2", kind="stabbing")])
    _settled(drop / "x.csv")
    place = Jurisdiction.objects.create(name="Kern County", slug="kern-county", state="CA")
    ScheduledImport.objects.create(name="RMS", folder=str(drop), format_name="gvrs", place=place)
    admin, viewer = people["admin"], people["viewer"]
    admin.email, viewer.email = "ada@city.example", "vic@city.example"
    admin.save()
    viewer.save()
    Subscription.objects.create(user=admin, place=place, kind=Kind.IMPORT_FAILED)
    # A viewer may not hold the subscription's right: never told, whatever the table says.
    Subscription.objects.create(user=viewer, place=place, kind=Kind.IMPORT_FAILED)

    out = _run("--all")
    assert "RMS: failed: x.csv" in out and "1 administrators told" in out and "exit 1" in out
    assert not Incident.objects.exists()
    [(to, message)] = smtp_server.received
    assert to == ["ada@city.example"]
    assert message["Subject"] == "gvrs: a scheduled import failed for Kern County"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "https://gvrs.example.org/incidents/imports/" in body
    assert "stabbing" not in body and "A-2" not in body  # what failed is on the page
    assert Notice.objects.get(user=admin).status == Notice.Status.SENT

    # The same bad file is not retried, nor told again.
    out = _run("--all")
    assert "nothing changed" in out and len(smtp_server.received) == 1


def test_an_https_address_is_fetched_once_and_then_not_modified(https_server):
    base, served, requests = https_server
    write_csv(served / "export.csv", [row("B-1")])
    ScheduledImport.objects.create(name="Feed", url=f"{base}/export.csv", format_name="gvrs")
    assert "Feed: imported: export.csv: 1 incidents new" in _run("--all")
    out = _run("--all")
    assert "nothing changed: the address has not changed" in out
    assert requests[-1][1] != ""  # the second fetch asked If-None-Match, and got 304
    write_csv(served / "export.csv", [row("B-1"), row("B-2")])
    assert "1 incidents new, 0 updated, 1 unchanged" in _run("--all")
    assert Incident.objects.count() == 2


def test_an_address_that_cannot_be_trusted_or_reached_is_a_failed_run(https_server, settings):
    base, served, _ = https_server
    write_csv(served / "export.csv", [row("B-1")])
    ScheduledImport.objects.create(name="Feed", url=f"{base}/export.csv", format_name="gvrs")
    settings.GVRS_FETCH_CA_FILE = ""  # the self-signed certificate is no longer trusted
    out = _run("--all")
    assert "Feed: failed:" in out and "CERTIFICATE_VERIFY_FAILED" in out
    ScheduledImport.objects.filter(name="Feed").update(url=f"{base}/missing.csv", next_run_at=None)
    settings.GVRS_FETCH_CA_FILE = https_server[1].parent.joinpath("server.pem").as_posix()
    assert "the server answered 404" in _run("--all")
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"url": "http://records.example/export.csv"}, "only https://"),
        ({"folder": "relative/path"}, "full path"),
        ({"folder": "/data", "url": "https://x.example/a.csv"}, "one of the two"),
        ({"folder": "/data", "format_name": ""}, "name a shipped format or give a mapping"),
        ({"folder": "/data", "format_name": "", "mapping": "not = [toml"}, "is not TOML"),
        ({"folder": "/data", "format_name": "no-such"}, "no such format"),
    ],
)
def test_a_schedule_that_cannot_work_is_refused_when_saved(fields, problem):
    schedule = ScheduledImport(name="x", **{"format_name": "gvrs", **fields})
    with pytest.raises(ValidationError, match=problem):
        schedule.full_clean()


def test_the_workers_clock_queues_each_periodic_job_once():
    from django_tasks_db.models import DBTaskResult

    assert sorted(clock.tick()) == ["run_due_schedules", "send_notices"]
    assert clock.tick() == []  # still waiting: not queued twice
    assert DBTaskResult.objects.count() == 2
