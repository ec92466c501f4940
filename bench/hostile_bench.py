"""Benchmark: peak memory (RSS) of importing the review's hostile files, at full size, each
in a process of its own, beside a normal file of similar size as the baseline.

    python bench/hostile_bench.py

Target (issues 12 and 24): under 1 GB for the worst. The files: a 9 MB gzip holding a header
and one 2 GB line; a Parquet file of 200 cells of 5 MB (a few KB on disk); an XLSX whose
declared dimension is A1:XFD1048576 with one row at 1,048,576; an XLSX of 20 million shared
strings (827 KB); a Parquet file with one 300 MB cell among 20,000 rows (362 KB); an XLSX
with one 300 MB inline cell (308 KB); a gzip of valid rows of one incident
that unpacks past the decompressed limit (set to 1 GB here, so it stays quick): the rows of an
open incident are held in memory, so it stops at the rows-per-incident limit
(GVRS_MAX_INCIDENT_ROWS) first; without that limit it peaked at 4.1 GB. Each is imported with
`gvrs import` into an empty SQLite registry; the exit code, the message and the time are printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests import hostile  # noqa: E402

PHILLY = ROOT.parent / "shared" / "data" / "philly-shooting-victims"
PHILLY = PHILLY / "philly_shooting_victims_2015_2025.csv.gz"


def measure(path: Path, home: Path, fmt: str, extra_env: dict) -> tuple[int, str, float, float]:
    """(exit code, last line of output, seconds, peak RSS in MB) of `gvrs import path`."""
    # The rows name places without a state: a California deployment, as the tests are (with
    # no default state every file would be refused at its first place, before the import).
    env = {**os.environ, "GVRS_HOME": str(home), "GVRS_DEFAULT_STATE": "CA", **extra_env}
    env.pop("GVRS_DATABASE_URL", None)
    log = home.with_suffix(".log")
    started = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gvrs", "import", str(path), "--format", fmt],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        # wait4 gives this child's own resource use (its peak RSS), not the largest so far.
        _, status, usage = os.wait4(process.pid, 0)
    took = time.perf_counter() - started
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    return os.waitstatus_to_exitcode(status), (lines or [""])[-1], took, usage.ru_maxrss / 1024


def made_apart(maker: str, path: Path) -> Path:
    """A file whose making takes much memory, made in a process of its own."""
    script = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\nfrom tests import hostile\n"
        f"hostile.{maker}(Path({str(path)!r}))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = [
            ("baseline: Philadelphia victims (real, 16,484 rows)", PHILLY, "philly-shootings", {}),
            (
                "gzip: header + one 2 GB line",
                hostile.gzip_one_long_line(tmp / "line.csv.gz", 2 * 2**30),
                "gvrs",
                {},
            ),
            (
                "parquet: 200 cells of 5 MB",
                hostile.parquet_huge_cells(tmp / "c.parquet"),
                "gvrs",
                {},
            ),
            (
                "xlsx: dimension A1:XFD1048576, a row at 1,048,576",
                hostile.xlsx_false_dimension(tmp / "d.xlsx"),
                "gvrs",
                {},
            ),
            (
                "xlsx: 20 M shared strings (issue 24)",
                hostile.xlsx_many_shared_strings(tmp / "s.xlsx"),
                "gvrs",
                {},
            ),
            (
                "parquet: one 300 MB cell among 20,000 (issue 24)",
                made_apart("parquet_one_huge_cell", tmp / "h.parquet"),
                "gvrs",
                {},
            ),
            (
                "xlsx: one 300 MB inline cell (issue 24)",
                made_apart("xlsx_huge_inline_cell", tmp / "i.xlsx"),
                "gvrs",
                {},
            ),
            (
                "gzip: 3 GB of rows of one incident, limit 1 GB",
                hostile.gzip_bomb(tmp / "bomb.csv.gz", 3 * 2**30),
                "gvrs",
                {"GVRS_MAX_DECOMPRESSED_BYTES": str(2**30)},
            ),
        ]
        print(f"{'file':52} {'on disk':>10} {'peak RSS':>9} {'ratio':>6} {'time':>7}  outcome")
        baseline = worst = None
        for index, (label, path, fmt, env) in enumerate(files):
            home = tmp / f"home{index}"
            home.mkdir()
            code, message, took, peak = measure(path, home, fmt, env)
            baseline = baseline or peak
            if index:
                worst = max(worst or 0, peak)
            print(
                f"{label:52} {path.stat().st_size / 2**20:8.1f} MB {peak:6.0f} MB "
                f"{peak / baseline:5.2f}x {took:6.1f}s  exit {code}: {message[:100]}"
            )
        print(
            f"worst hostile file: {worst:.0f} MB peak ({worst / baseline:.2f}x the baseline); "
            f"target under 1,024 MB: {'met' if worst < 1024 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
