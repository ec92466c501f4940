"""``gvrs backup`` and ``gvrs restore`` on both engines, while the server is serving."""

from __future__ import annotations

import stat
import threading
import urllib.request

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.accounts.models import AuditEvent
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import ImportRun, Incident
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_backup_taken_while_serving_restores_the_registry(live_server, tmp_path):
    assert import_file(
        write_csv(tmp_path / "a.csv", [row(f"A-{i}") for i in range(50)]), load_format("gvrs")
    ).ok
    # The audit log (on SQLite a database of its own, gvrs.accounts.router) is backed up too.
    AuditEvent.objects.create(action="view", detail="before the backup")
    statuses: list[int] = []
    stop = threading.Event()

    def serve_requests() -> None:
        while not stop.is_set():
            with urllib.request.urlopen(f"{live_server.url}/accounts/login/") as response:
                statuses.append(response.status)

    reader = threading.Thread(target=serve_requests)
    reader.start()
    try:
        backup = tmp_path / "gvrs.operations.backup"
        call_command("backup", str(backup))
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        # After the backup: more incidents, some deleted.
        assert import_file(
            write_csv(tmp_path / "b.csv", [row(f"B-{i}") for i in range(20)]), load_format("gvrs")
        ).ok
        Incident.objects.filter(source_id__in=["A-1", "A-2"]).delete()
        AuditEvent.objects.create(action="view", detail="after the backup")
        assert Incident.objects.count() == 68
        call_command("restore", str(backup))
    finally:
        stop.set()
        reader.join()
    assert Incident.objects.count() == 50
    assert set(Incident.objects.values_list("source_id", flat=True)) == {
        f"A-{i}" for i in range(50)
    }
    assert ImportRun.objects.count() == 1
    assert list(AuditEvent.objects.values_list("detail", flat=True)) == ["before the backup"]
    assert statuses and set(statuses) == {200}


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "bogus.backup"
    bogus.write_text("not a database")
    with pytest.raises(CommandError, match="not a"):
        call_command("restore", str(bogus))
    with pytest.raises(CommandError, match="no such backup file"):
        call_command("restore", str(tmp_path / "missing"))
