"""Signing in while an import writes the registry (finding 4 of issue 12).

On SQLite an import holds the registry's one write lock for its whole transaction (so bad
input never leaves anything half-written); every sign-in used to fail behind it. Sessions,
sign-in attempts, the audit log and the page cache now live in a database of their own
(``gvrs.accounts.router``), so a sign-in completes while the import is still writing.

The import here is real and runs in a process of its own; it pauses after its first chunk,
inside its transaction, until the test lets it go on. Nothing is timed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.importing_helpers import row, write_csv

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "a-long-sign-in-password"

SETUP = f"""
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
import django
django.setup()
from gvrs.operations.database import ensure_database
ensure_database(verbosity=0)
from django.contrib.auth.models import User
User.objects.create_user("ana", password={PASSWORD!r})
"""

IMPORT = """
import json, os, sys, time
from pathlib import Path
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
import django
django.setup()
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
data, paused, go_on = (Path(a) for a in sys.argv[1:4])

def progress(bytes_read, total, rows):
    # After the first chunk, inside the import's transaction: wait to be let go on.
    if not paused.exists():
        paused.touch()
        while not go_on.exists():
            time.sleep(0.05)

report = import_file(data, load_format("gvrs"), progress=progress, chunk_rows=1_000)
print(json.dumps({"ok": report.ok, "incidents": report.run.incidents_inserted}))
"""

SIGN_IN = f"""
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
client = Client()
assert client.get("/accounts/login/").status_code == 200
response = client.post("/accounts/login/", {{"username": "ana", "password": {PASSWORD!r}}})
print(json.dumps({{
    "status": response.status_code,
    "sessions": Session.objects.count(),
    "last_login": str(User.objects.get(username="ana").last_login),
}}))
"""


def registry_is_locked(database: Path) -> bool:
    """Whether another connection holds the registry's write lock right now."""
    db = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return True
    else:
        db.execute("ROLLBACK")
        return False
    finally:
        db.close()


def test_a_sign_in_succeeds_while_an_import_holds_the_sqlite_registry(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "GVRS_HOME": str(home), "GVRS_DEFAULT_STATE": "CA"}
    env.pop("GVRS_DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT)

    def python(script: str, *args: str, **options) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", script, *args],
            env=options.pop("env", env),
            capture_output=True,
            text=True,
            timeout=600,
            **options,
        )

    setup = python(SETUP)
    assert setup.returncode == 0, setup.stderr
    data = write_csv(tmp_path / "rows.csv", [row(f"K-{i}") for i in range(5_000)])
    paused, go_on = tmp_path / "paused", tmp_path / "go-on"
    importing = subprocess.Popen(
        [sys.executable, "-c", IMPORT, str(data), str(paused), str(go_on)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 600
        while not paused.exists():
            assert importing.poll() is None, importing.communicate()
            assert time.monotonic() < deadline, "the import never reached its first chunk"
            time.sleep(0.05)
        assert registry_is_locked(home / "gvrs.sqlite3")
        # A sign-in that had to write the registry would wait 5 s for it, then fail.
        signed_in = python(SIGN_IN, env={**env, "GVRS_SQLITE_BUSY_TIMEOUT": "5"})
        assert signed_in.returncode == 0, signed_in.stderr
        result = json.loads(signed_in.stdout.strip().splitlines()[-1])
        # Still inside the import's transaction: the sign-in did not wait for it.
        assert registry_is_locked(home / "gvrs.sqlite3")
        assert importing.poll() is None
    finally:
        go_on.touch()
        out, err = importing.communicate(timeout=600)
    assert result["status"] == 302, result
    assert result["sessions"] == 1
    # last_login is the user's row, in the registry the import held: left for next time.
    assert result["last_login"] == "None"
    assert importing.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"ok": True, "incidents": 5_000}
    # With the registry free again, a sign-in records its time as Django does.
    again = json.loads(python(SIGN_IN).stdout.strip().splitlines()[-1])
    assert again["status"] == 302 and again["last_login"] != "None"
