"""Backups of the whole database while the application keeps serving.

SQLite: the online backup API copies the database page by page into the backup file while
readers and writers carry on (a writer's commit during the copy makes it restart, so the copy
is one consistent state). Restoring copies the backup into the live database the same way.
The activity database beside it (sessions, sign-in attempts, the audit log:
``accounts.router``) is copied too, and its tables are added to the same backup file, so a
backup stays one file; a restore puts them back where they live.
PostgreSQL: ``pg_dump`` in its custom format (one consistent snapshot, taken without
blocking) and ``pg_restore --clean`` in a single transaction, so a failed restore leaves the
database as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection, connections

from gvrs.accounts.router import ACTIVITY, move_to_activity


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


def _pg_url() -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore, with the password in the environment."""
    settings = connection.settings_dict
    args = ["--dbname", settings["NAME"]]
    if settings.get("HOST"):
        args += ["--host", str(settings["HOST"])]
    if settings.get("PORT"):
        args += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        args += ["--username", settings["USER"]]
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (it comes with the PostgreSQL client tools)")
    return path


def _private(path: Path) -> None:
    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)


def backup(path: str | Path) -> str:
    """Write a backup of the database to ``path`` (readable by this account only); return a
    one-line description."""
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path}: is a folder; give the backup file's name")
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        _private(partial)
        target = sqlite3.connect(partial)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        _add_activity(partial)
        os.replace(partial, path)
        return f"SQLite backup written to {path} ({path.stat().st_size:,} bytes)"
    args, env = _pg_url()
    _private(path)
    done = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--file", str(path), *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    size = path.stat().st_size
    return f"PostgreSQL backup (pg_dump custom format) written to {path} ({size:,} bytes)"


def _add_activity(partial: Path) -> None:
    """The activity database's tables (with their rows) added to the registry's backup file:
    copied first with the online backup API (one consistent state), then attached."""
    if ACTIVITY not in connections:
        return
    activity = connections[ACTIVITY]
    activity.ensure_connection()
    copy = partial.with_name(partial.name + ".activity")
    copy.unlink(missing_ok=True)
    _private(copy)
    try:
        target = sqlite3.connect(copy)
        try:
            activity.connection.backup(target)
        finally:
            target.close()
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            target.execute("ATTACH DATABASE ? AS activity", [str(copy)])
            tables = target.execute(
                "SELECT name, sql FROM activity.sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name <> 'django_migrations'"
            ).fetchall()
            target.execute("BEGIN")
            for name, sql in tables:
                target.execute(sql)  # CREATE TABLE "name" (...), in the backup's main
                target.execute(f'INSERT INTO main."{name}" SELECT * FROM activity."{name}"')
            target.execute("COMMIT")
            target.execute("DETACH DATABASE activity")
        finally:
            target.close()
    finally:
        copy.unlink(missing_ok=True)


def _sqlite_backup_of_gvrs(path: Path) -> sqlite3.Connection:
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        source.execute("SELECT app, name FROM django_migrations LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a gvrs SQLite backup ({exc})") from None
    return source


def restore(path: str | Path) -> str:
    """Replace the database's contents with the backup at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    if connection.vendor == "sqlite":
        source = _sqlite_backup_of_gvrs(path)
        connection.ensure_connection()
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        if ACTIVITY in connections:
            move_to_activity(ACTIVITY, replace=True)
        return f"SQLite database restored from {path}"
    with open(path, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise BackupError(f"{path}: not a pg_dump custom-format backup")
    args, env = _pg_url()
    connection.close()  # our own session must not hold locks on what is dropped
    done = subprocess.run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(path),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise BackupError(f"pg_restore failed; nothing was changed: {done.stderr.strip()}")
    return f"PostgreSQL database restored from {path}"
