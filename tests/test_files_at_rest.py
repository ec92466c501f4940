"""Files at rest (finding 7 of issue 12): the embedded database is readable by its owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys


def test_the_sqlite_database_is_private_even_if_it_was_not(tmp_path):
    env = {**os.environ, "GVRS_HOME": str(tmp_path)}
    env.pop("GVRS_DATABASE_URL", None)
    gvrs = [sys.executable, "-m", "gvrs.cli"]
    subprocess.run([*gvrs, "imports"], env=env, check=True, capture_output=True, timeout=600)
    database = tmp_path / "gvrs.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    os.chmod(database, 0o644)  # as gvrs before this fix left it
    subprocess.run([*gvrs, "imports"], env=env, check=True, capture_output=True, timeout=600)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    for suffix in ("-wal", "-shm"):
        extra = tmp_path / f"gvrs.sqlite3{suffix}"
        if extra.exists():
            assert stat.S_IMODE(extra.stat().st_mode) == 0o600
