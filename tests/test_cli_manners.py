"""How the ``gvrs`` command behaves as a terminal program: its help lists gvrs's own commands
and writes nothing, a closed pipe ends it quietly, misspelt places and metrics get suggestions,
long work shows a progress bar on a terminal only, and ``serve --demo`` serves the demo."""

from __future__ import annotations

import io
import os
import pty
import select
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.cli import gvrs_commands, shows_progress
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from tests.importing_helpers import row, write_csv

DJANGO_INTERNALS = ("startproject", "makemessages", "sendtestemail", "compilemessages", "flush")


@pytest.fixture
def gvrs(tmp_path):
    # A California deployment: the files below name no state.
    env = {**os.environ, "GVRS_HOME": str(tmp_path / "home"), "GVRS_DEFAULT_STATE": "CA"}
    env.pop("GVRS_DATABASE_URL", None)

    def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "gvrs", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            **kwargs,
        )

    run.env = env
    return run


def test_help_lists_only_gvrs_commands_each_with_one_line_and_creates_no_file(gvrs, tmp_path):
    for args in ([], ["--help"], ["help"]):
        result = gvrs(*args)
        assert result.returncode == 0, result.stderr
        listed = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")]
        assert listed == sorted(gvrs_commands())
        assert {"import", "stats", "compare", "serve", "demo"} <= set(listed)
        for internal in DJANGO_INTERNALS:
            assert internal not in listed
        assert "gvrs django COMMAND" in result.stdout
    assert not (tmp_path / "home").exists()


def test_a_commands_help_touches_no_database(gvrs, tmp_path):
    result = gvrs("stats", "--help")
    assert result.returncode == 0, result.stderr
    assert "--metric" in result.stdout
    assert "Preparing the database" not in result.stderr
    assert not (tmp_path / "home").exists()


def test_every_listed_command_has_a_summary():
    commands = gvrs_commands()
    assert all(summary.strip() for summary in commands.values()), commands
    assert commands["compare"] == "Compare a metric between two periods."


def test_djangos_commands_stay_reachable_under_django(gvrs):
    result = gvrs("django", "showmigrations", "incidents")
    assert result.returncode == 0, result.stderr
    assert "0001_initial" in result.stdout


def test_output_into_a_closed_pipe_ends_quietly(gvrs, tmp_path):
    rows = [row(f"P-{i}", occurred_at=f"2022-01-{1 + i % 28:02d}") for i in range(3000)]
    path = write_csv(tmp_path / "many.csv", rows)
    assert gvrs("import", str(path), "--format", "gvrs").returncode == 0
    listing = subprocess.Popen(
        [sys.executable, "-m", "gvrs", "incidents", "--format", "csv"],
        env=gvrs.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = listing.stdout.readline()
    listing.stdout.close()  # what `| head -1` does
    _, stderr = listing.communicate(timeout=60)
    assert first.startswith(b"source")
    assert b"Traceback" not in stderr
    assert b"BrokenPipe" not in stderr


@pytest.mark.django_db
def test_a_misspelt_place_gets_a_suggestion(tmp_path):
    rows = [row("B-1", jurisdiction="Kern County > Bakersfield")]
    import_file(write_csv(tmp_path / "b.csv", rows), load_format("gvrs"))
    with pytest.raises(CommandError, match="did you mean 'Bakersfield'") as caught:
        call_command("stats", "--metric", "homicides", "--jurisdiction", "Bakersfeld")
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="no place has a similar name"):
        call_command("stats", "--metric", "homicides", "--jurisdiction", "Gotham")


@pytest.mark.django_db
def test_a_misspelt_metric_gets_a_suggestion(tmp_path):
    import_file(write_csv(tmp_path / "b.csv", [row("B-1")]), load_format("gvrs"))
    with pytest.raises(CommandError, match="did you mean 'homicides'"):
        call_command("stats", "--metric", "homicide", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["nearrepeat", "--jurisdiction", "X"], True),
        (["stats", "--metric", "homicides", "--format", "table"], True),
        (["stats", "--metric", "homicides", "--format", "json"], False),
        (["hotspots", "--format=csv"], False),
        (["import", "f.csv", "--format", "gvrs"], False),  # draws its own bar
        (["serve"], False),
    ],
)
def test_the_progress_bar_is_for_people_not_scripts(args, shown):
    assert shows_progress(args) is shown


def _read_pty(command: list[str], env: dict, seconds: float) -> bytes:
    """Run ``command`` with a terminal as stdout and stderr; what the terminal showed."""
    parent, child = pty.openpty()
    process = subprocess.Popen(command, stdout=child, stderr=child, env=env)
    os.close(child)
    shown = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([parent], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(parent, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(parent)
    return shown


def test_slow_work_shows_a_bar_on_a_terminal_after_two_seconds():
    script = (
        "import time\n"
        "from gvrs.cliutil import progress\n"
        "with progress('fitting the model'):\n"
        "    time.sleep(3.5)\n"
        "print('done')\n"
    )
    shown = _read_pty([sys.executable, "-c", script], dict(os.environ), 20)
    assert b"fitting the model" in shown
    assert b"0:00:0" in shown  # the elapsed time beside the bar
    assert b"done" in shown


def test_quick_work_shows_no_bar():
    script = (
        "from gvrs.cliutil import progress\n"
        "with progress('fitting the model'):\n"
        "    pass\n"
        "print('done')\n"
    )
    shown = _read_pty([sys.executable, "-c", script], dict(os.environ), 20)
    assert b"fitting the model" not in shown
    assert b"done" in shown


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_serves_the_demo_database(gvrs, tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gvrs", "serve", "--demo", "--port", str(port), "--no-worker"],
        # Static files straight from the packages: compressing Plotly's bundle is not what
        # this test is about, and takes minutes on a busy machine.
        env={**gvrs.env, "GVRS_COMPRESSED_STATIC": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as page:
                    assert page.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
    home = Path(gvrs.env["GVRS_HOME"])
    assert (home / "demo" / "gvrs.sqlite3").exists()
    assert not (home / "gvrs.sqlite3").exists()


def test_the_import_commands_gvrs_simulate_prints_work_as_printed(tmp_path):
    """Copied from the terminal and run as they stand, in a registry with no default state."""
    import shlex

    env = {**os.environ, "GVRS_HOME": str(tmp_path / "home")}
    env.pop("GVRS_DATABASE_URL", None)
    env.pop("GVRS_DEFAULT_STATE", None)
    gvrs = [sys.executable, "-m", "gvrs"]
    out = tmp_path / "a folder with spaces"
    simulated = subprocess.run(
        [*gvrs, "simulate", "--scenario", "small-town", "--years", "2022..2023", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert simulated.returncode == 0, simulated.stderr
    printed = simulated.stdout.split("Import with:", 1)[1].strip().splitlines()
    assert [line.split()[1] for line in printed] == ["import", "populations", "boundaries"]
    for line in printed:
        args = shlex.split(line)
        assert args[0] == "gvrs"
        result = subprocess.run(
            [*gvrs, *args[1:]], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, (line, result.stdout, result.stderr)


def test_ctrl_c_stops_a_command_with_a_line_not_a_traceback(tmp_path):
    import signal

    env = {**os.environ, "GVRS_HOME": str(tmp_path / "home"), "GVRS_DEMO_PASSWORD": "x" * 12}
    env.pop("GVRS_DATABASE_URL", None)
    demo = subprocess.Popen(
        [sys.executable, "-m", "gvrs", "demo", "--no-serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until it is building (past start-up), then interrupt it as a terminal's Ctrl-C does.
    assert "Building the demo database" in demo.stdout.readline() + demo.stdout.readline()
    demo.send_signal(signal.SIGINT)
    _, stderr = demo.communicate(timeout=120)
    assert demo.returncode == 130
    assert "Traceback" not in stderr
    assert "gvrs demo: interrupted" in stderr
