"""Benchmark: `gvrs stats --by month` and a year-to-date comparison over 1,000,000 incidents,
on SQLite and PostgreSQL. Target (issue 3): under 1 s each.

    python bench/stats_bench.py [--rows 1000000] [--engines sqlite,postgresql]

Each engine gets a fresh database loaded through the real importer, then each command runs
five times in-process (after one warm-up); the median and best are printed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import run_worker, write_rows

COMMANDS = {
    "stats --by month": [
        "stats",
        "--metric",
        "shootings",
        "--jurisdiction",
        "Bench City",
        "--by",
        "month",
        "--format",
        "json",
    ],
    "compare YTD": [
        "compare",
        "--metric",
        "shootings",
        "--jurisdiction",
        "Bench City",
        "--period",
        "2023-YTD",
        "--vs",
        "2022-YTD",
        "--as-of",
        "2023-06-30",
        "--format",
        "json",
    ],
}


def worker(path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from gvrs.data.mapping import load_format
    from gvrs.incidents.importing import import_file
    from gvrs.incidents.models import Incident
    from gvrs.operations.database import ensure_database

    ensure_database(verbosity=0)
    started = time.perf_counter()
    import_file(path, load_format("gvrs"))
    load_s = time.perf_counter() - started
    results = {"incidents": Incident.objects.count(), "load_s": load_s}
    for name, args in COMMANDS.items():
        timings = []
        for attempt in range(6):
            out = io.StringIO()
            started = time.perf_counter()
            call_command(*args, stdout=out)
            if attempt:
                timings.append(time.perf_counter() - started)
        json.loads(out.getvalue())
        results[name] = (statistics.median(timings), min(timings))
    print(json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.csv"
        write_rows(path, args.rows)
        print(f"{'engine':<11} {'incidents':>10} {'command':<18} {'median s':>9} {'best s':>8}")
        for engine in args.engines.split(","):
            result = run_worker(__file__, engine, path, Path(tmp) / f"home-{engine}")
            for name in COMMANDS:
                median, best = result[name]
                print(
                    f"{engine:<11} {result['incidents']:>10,} {name:<18} {median:>9.3f} "
                    f"{best:>8.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
