"""The real ``gvrs`` command in a subprocess, on a fresh GVRS_HOME: exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.importing_helpers import row, write_csv


@pytest.fixture
def gvrs(tmp_path):
    # A California deployment: the files below name no state.
    env = {**os.environ, "GVRS_HOME": str(tmp_path / "home"), "GVRS_DEFAULT_STATE": "CA"}
    env.pop("GVRS_DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "gvrs", *args],
            env=env,
            capture_output=True,
            text=True,
            # The demo simulates eleven years of a county: about a minute idle, more when
            # the machine is shared; a hang still ends the test.
            timeout=600 if args[:1] == ("demo",) else 120,
        )

    return run


def test_import_exits_0_and_a_second_import_says_nothing_changed(gvrs, tmp_path):
    path = write_csv(tmp_path / "in.csv", [row("A-1"), row("A-2")])
    first = gvrs("import", str(path), "--format", "gvrs")
    assert first.returncode == 0, first.stderr
    assert "2 inserted" in first.stdout
    second = gvrs("import", str(path), "--format", "gvrs")
    assert second.returncode == 0
    assert "Nothing changed" in second.stdout


def test_invalid_data_exits_1_with_every_error_on_stderr(gvrs, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [row("A-1", kind="x"), row("A-2", killed="-2")])
    result = gvrs("import", str(path), "--format", "gvrs")
    assert result.returncode == 1
    assert "bad.csv: line 2: kind='x': unknown kind" in result.stderr
    assert "bad.csv: line 3: killed='-2': count cannot be negative" in result.stderr
    assert "nothing was imported" in result.stderr
    listed = gvrs("incidents", "--format", "json")
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "FILE", "--format", "lapd"], "unknown format 'lapd'; valid formats:"),
        (["import", "FILE"], "give --format NAME or --mapping FILE.toml"),
        (["import", "missing.csv", "--format", "gvrs"], "missing.csv: no such file"),
        (["incidents", "--kind", "stabbing"], "unknown kind 'stabbing'"),
        (["incidents", "--since", "yesterday"], "is not a date"),
        (["import"], "the following arguments are required: file"),
        (["import", "FILE", "--format", "gvrs", "--source", "s" * 101], "--source is longer"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(gvrs, tmp_path, args, message):
    path = write_csv(tmp_path / "in.csv", [row("A-1")])
    result = gvrs(*[str(path) if a == "FILE" else a for a in args])
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_incidents_and_imports_list_what_was_imported(gvrs, tmp_path):
    path = write_csv(
        tmp_path / "in.csv",
        [
            row("A-1", occurred_at="2021-05-01"),
            row("A-2", kind="nonfatal_shooting", killed="0", injured="1"),
        ],
    )
    gvrs("import", str(path), "--format", "gvrs")
    homicides = json.loads(gvrs("incidents", "--kind", "homicide", "--format", "json").stdout)
    assert [(i["source_id"], i["occurred_on"]) for i in homicides] == [("A-1", "2021-05-01")]
    recent = gvrs("incidents", "--since", "2022-01-01", "--format", "csv").stdout.splitlines()
    assert len(recent) == 2 and recent[1].startswith("gvrs,A-2,nonfatal_shooting")
    runs = json.loads(gvrs("imports", "--format", "json").stdout)
    assert runs[0]["file_name"] == "in.csv" and runs[0]["rows_inserted"] == 2
    assert runs[0]["status"] == "succeeded"


def test_check_deploy_passes_when_configured_for_production(tmp_path):
    env = {
        **os.environ,
        "GVRS_HOME": str(tmp_path),
        "GVRS_PRODUCTION": "1",
        "GVRS_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
        "GVRS_ALLOWED_HOSTS": "gvrs.example.org",
        "GVRS_FIELD_KEY": "bWFrZS1hLXJlYWwtb25lLXdpdGgtRmVybmV0LjAxMjM=",  # partners' fields
    }
    env.pop("GVRS_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "gvrs", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_to_start_without_its_secret(tmp_path):
    env = {**os.environ, "GVRS_HOME": str(tmp_path), "GVRS_PRODUCTION": "1"}
    env.pop("GVRS_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "gvrs", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "GVRS_SECRET_KEY" in result.stderr


def test_demo_builds_its_own_database_with_one_user_per_role(gvrs, tmp_path):
    result = gvrs("demo", "--no-serve")
    assert result.returncode == 0, result.stderr
    assert "Bakersfield: Homicides fell 37%, from 60 in 2021 to 38 in 2022" in result.stdout
    assert "Demo users admin, analyst, police, partner, viewer" in result.stdout
    assert (tmp_path / "home" / "demo" / "gvrs.sqlite3").exists()
    assert not (tmp_path / "home" / "gvrs.sqlite3").exists()  # the real registry is untouched
    # The demo publishes its home county's public dashboard, open without sign-in.
    assert "Public dashboard, no sign-in: /public/kern-like-county/" in result.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "home" / "demo" / "gvrs.sqlite3") as db:
        published = db.execute(
            "SELECT j.slug FROM public_publicdashboard d JOIN incidents_jurisdiction j"
            " ON j.id = d.jurisdiction_id WHERE d.enabled"
        ).fetchall()
    assert published == [("kern-like-county",)]


def test_a_plain_migrate_makes_the_cache_table_too(gvrs, tmp_path):
    """A deployment recipe runs `gvrs django migrate`: the page cache's table (no migration
    makes it) must come with it, or the first page of the new server answers 500."""
    import sqlite3

    result = gvrs("django", "migrate", "-v0")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "home" / "gvrs-activity.sqlite3") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "gvrs_cache" in tables
