"""Start-up benchmark: wall time of `gvrs --help` and of `gvrs stats` on a small registry
(the simulated small town, about 300 incidents), this checkout against a baseline revision in
the same run, the two interleaved so that the machine's load falls on both alike. Targets
(issue 25): `gvrs --help` at most 0.3 s and `gvrs stats` at most 0.8 s on an idle machine.

    python bench/cli_bench.py [--baseline REV] [--runs 7]

The baseline's source is taken from git (`git archive REV`) into a temporary folder and run
with this environment's packages, first on `PYTHONPATH` (so it wins over the editable
install); both use one registry, built by this checkout (the schema is the same when no
migration came in between). Prints the median and the fastest run of each, and the load
average before and after.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "gvrs --help": ["--help"],
    "gvrs stats": ["stats", "--metric", "homicides", "--jurisdiction", "Small Town"],
}


def _checkout(rev: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "gvrs"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _registry(home: Path) -> None:
    env = {**os.environ, "GVRS_HOME": str(home)}
    env.pop("GVRS_DATABASE_URL", None)
    folder = home / "sim"
    gvrs = [sys.executable, "-m", "gvrs"]
    subprocess.run(
        [
            *gvrs,
            "simulate",
            "--scenario",
            "small-town",
            "--years",
            "2019..2024",
            "--out",
            str(folder),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*gvrs, "import", str(folder / "incidents.csv"), "--format", "gvrs", "--state", "CA"],
        env=env,
        check=True,
        capture_output=True,
    )


def _time(source: Path | None, args: list[str], home: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run: on a loaded machine the CPU time (user +
    system) is the steadier of the two."""
    env = {**os.environ, "GVRS_HOME": str(home)}
    env.pop("GVRS_DATABASE_URL", None)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from gvrs.cli import main; main()", *args],
        # `python -c` puts the working folder first on sys.path: never this checkout's.
        cwd=home,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="", help="a git revision to compare against")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "home"
        _registry(home)
        sources: dict[str, Path | None] = {"this checkout": None}
        if args.baseline:
            sources[f"baseline {args.baseline}"] = _checkout(args.baseline, tmp / "baseline")
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for name, command in COMMANDS.items():
            _time(None, command, home)  # warm the file cache once
            for _ in range(args.runs):
                for label, source in sources.items():
                    times.setdefault((name, label), []).append(_time(source, command, home))
    for (name, label), values in times.items():
        wall = [w for w, _ in values]
        cpu = [c for _, c in values]
        print(
            f"{name:<12} {label:<24} wall median {statistics.median(wall):.3f} s, "
            f"fastest {min(wall):.3f} s; CPU median {statistics.median(cpu):.3f} s "
            f"({len(values)} runs)"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
