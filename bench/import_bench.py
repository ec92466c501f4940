"""Benchmark: import canonical rows into SQLite and PostgreSQL; print rows/s and peak memory.

    python bench/import_bench.py [--rows 1000000] [--engines sqlite,postgresql]

Each import runs in its own process, so peak RSS is that import's alone. Scenarios:
- ``first load``: the file into an empty registry (rows of an incident together, as records
  systems export them: written directly, as a bulk load), at a quarter size and full size, so
  that memory can be seen to stay flat in file size;
- ``re-import``: the same file again into the registry it made (every incident unchanged:
  the staged merge);
- ``scattered``: the file with its rows shuffled, into an empty registry (the direct write
  notices and falls back to the staged merge);
- ``many places``: 250,000 rows (``--many-rows``) naming 15,000 places (12,000 towns in
  3,000 counties of 10 states, paths such as "TX > County 12 > Town 617") and 100,000
  areas, none of them in the registry yet: every place and area is created by the import,
  resolved in bulk (target, issue 11: 40,000 rows/s on SQLite);
- ``nibrs cde`` and ``nibrs flat``: the real NIBRS files of ../shared/data/nibrs made larger
  (``--nibrs-copies``): the District of Columbia's CDE year 2019 (13,268 table rows) with
  every id moved on per copy, and Vermont's April 2020 submission (6,516 segments) with its
  incident numbers changed per copy. Rows are table rows or segments read, of every
  offense; the few that are homicides and shootings are written.
Targets (issue 2): 50,000 rows/s on SQLite, 100,000 rows/s on PostgreSQL, flat memory; they
are for the first load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

POSTGRES = os.environ.get("GVRS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
KINDS = np.array(["homicide", "nonfatal_shooting", "shots_fired", "officer_involved_shooting"])
STATES = np.array(["CA", "TX", "NY", "PA", "FL", "IL", "OH", "GA", "NC", "MI"])
TOWNS, TOWNS_PER_COUNTY, AREAS = 12_000, 40, 100_000


def places_of(ids: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Place paths and area names for ``many places``: an incident's area decides its town."""
    area = (ids * 7919) % AREAS
    town = area % TOWNS
    state = STATES[town % len(STATES)]
    county = town // TOWNS_PER_COUNTY
    paths = (
        pd.Series(state)
        + " > County "
        + pd.Series(county).astype(str)
        + " > Town "
        + pd.Series(town).astype(str)
    )
    return paths, "Area " + pd.Series(area).astype(str)


def write_rows(path: Path, n_rows: int, seed: int = 1, many_places: bool = False) -> None:
    """A canonical CSV of ``n_rows`` victim rows (~15% of incidents have several victims)."""
    rng = np.random.default_rng(seed)
    written, incident = 0, 0
    with open(path, "w") as fh:
        header = True
        while written < n_rows:
            n = min(200_000, n_rows - written)
            victims = rng.choice([1, 2, 3], size=n, p=[0.85, 0.12, 0.03])
            ids = np.repeat(np.arange(incident, incident + n), victims)[:n]
            incident = int(ids[-1]) + 1
            first = np.r_[True, ids[1:] != ids[:-1]]
            day = pd.Timestamp("2014-01-01") + pd.to_timedelta(ids % 3650, unit="D")
            kind = KINDS[rng.choice(4, size=n, p=[0.2, 0.5, 0.28, 0.02])][ids - ids[0]]
            fatal = (kind == "homicide") & first
            frame = pd.DataFrame(
                {
                    "source_id": "S" + pd.Series(ids).astype(str),
                    "kind": kind,
                    "occurred_at": day.strftime("%Y-%m-%d")
                    + "T"
                    + pd.Series((ids * 7919) % 1440).map(lambda m: f"{m // 60:02d}:{m % 60:02d}"),
                    "jurisdiction": "Bench City",
                    "area": "Area " + pd.Series(ids % 40).astype(str),
                    "latitude": 35.3 + (ids % 1000) / 10_000,
                    "longitude": -119.0 - (ids % 997) / 10_000,
                    "weapon": "firearm",
                    "killed": fatal.astype(int),
                    "injured": ((kind != "shots_fired") & ~fatal).astype(int),
                    "group_involvement": np.where(ids % 3 == 0, "yes", "unknown"),
                    "circumstance": "unknown",
                    "victim_age": 15 + rng.integers(0, 40, size=n),
                    "victim_sex": np.where(rng.random(n) < 0.88, "male", "female"),
                    "victim_race": "",
                }
            )
            if many_places:
                frame["jurisdiction"], frame["area"] = places_of(ids)
            frame.to_csv(fh, header=header, index=False)
            header = False
            written += n


NIBRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "nibrs"
# CDE columns holding ids, which each copy moves on by a billion.
_CDE_IDS = {
    "incident_id",
    "offense_id",
    "victim_id",
    "offender_id",
    "arrestee_id",
    "nibrs_month_id",
    "property_id",
}


def write_nibrs_cde(folder: Path, copies: int) -> None:
    """DC's 2019 CDE year ``copies`` times in one folder, ids moved on per copy."""
    import gzip

    source = NIBRS / "cde-dc" / "DC-2019"
    folder.mkdir(parents=True)
    for path in source.glob("*.csv.gz"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        ids = [c for c in frame.columns if c.lower() in _CDE_IDS]
        data = path.name.startswith("NIBRS_") and ids and path.name != "NIBRS_month.csv.gz"
        parts = []
        for k in range(copies if data else 1):
            part = frame.copy()
            for column in ids:
                filled = part[column] != ""
                moved = (pd.to_numeric(part[column].where(filled)) + k * 10**9).astype("Int64")
                part[column] = moved.astype(str).where(filled, "")
            parts.append(part)
        with gzip.open(folder / path.name, "wt", newline="") as fh:
            pd.concat(parts).to_csv(fh, index=False)


def write_nibrs_flat(path: Path, copies: int) -> None:
    """Vermont's submission ``copies`` times, each copy's incident numbers prefixed by it."""
    import gzip

    lines = (
        gzip.decompress((NIBRS / "flat-file" / "VTUCR0001_20200420_NIBRS_010.txt.gz").read_bytes())
        .decode("latin-1")
        .splitlines()
    )
    out = []
    for k in range(copies):
        for line in lines:
            if len(line) > 37 and line[4] in "123456":
                number = (f"{k:02d}" + line[25:37].strip())[:12].ljust(12)
                line = line[:25] + number + line[37:]
            out.append(line)
    path.write_text("\r\n".join(out) + "\r\n", encoding="latin-1")


def shuffle_rows(source: Path, out: Path, seed: int = 1) -> None:
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.sample(frac=1, random_state=seed).to_csv(out, index=False)


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's ru_maxrss survives exec, so a worker
    would inherit its parent's peak; the memory map's own high-water mark does not."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(path: str, format_name: str = "gvrs") -> None:
    import django

    from gvrs.operations.database import ensure_database

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
    django.setup()
    ensure_database(verbosity=0)
    from gvrs.data.mapping import load_format
    from gvrs.incidents.importing import import_file

    started, cpu = time.perf_counter(), time.process_time()
    report = import_file(path, load_format(format_name))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert report.ok, report.errors[:5]
    peak_mb = peak_rss_mb()
    from gvrs.incidents.models import Area, Jurisdiction

    print(
        json.dumps(
            {
                "rows": report.run.rows_read,
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "peak_mb": peak_mb,
                "incidents": report.run.incidents_inserted,
                "written": report.written,
                "places": Jurisdiction.objects.count(),
                "areas": Area.objects.count(),
            }
        )
    )


def engine_env(
    engine: str, home: Path, fresh: bool = True, database: str = "gvrs_bench"
) -> dict[str, str]:
    """Environment for a worker on a database of ``engine``, emptied first when ``fresh``
    (on PostgreSQL, the database ``database`` is dropped and made again)."""
    # "Bench City" names no state: a California deployment.
    env = {**os.environ, "GVRS_HOME": str(home), "GVRS_DEFAULT_STATE": "CA"}
    env.pop("GVRS_DATABASE_URL", None)
    home.mkdir(parents=True, exist_ok=True)
    if engine == "postgresql":
        env["GVRS_DATABASE_URL"] = POSTGRES.rsplit("/", 1)[0] + "/" + database
        if fresh:
            import psycopg
            from psycopg import sql

            name = sql.Identifier(database)
            with psycopg.connect(POSTGRES, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    elif fresh:
        (home / "gvrs.sqlite3").unlink(missing_ok=True)
    return env


def run_worker(
    script: str,
    engine: str,
    path: Path,
    home: Path,
    fresh: bool = True,
    database: str = "",
    format_name: str = "gvrs",
) -> dict:
    """Run ``script --worker path`` on a database of ``engine``; its last line is JSON."""
    out = subprocess.run(
        [sys.executable, script, "--worker", str(path), "--worker-format", format_name],
        env=engine_env(engine, home, fresh, database or "gvrs_bench"),
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"{engine} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--worker")
    parser.add_argument("--worker-format", default="gvrs")
    parser.add_argument(
        "--scenarios",
        default="first load,re-import,scattered,many places,nibrs cde,nibrs flat",
        help="comma-separated scenarios to run",
    )
    parser.add_argument(
        "--nibrs-copies", type=int, default=30, help="copies of each real NIBRS file"
    )
    parser.add_argument("--many-rows", type=int, default=250_000, help="rows of 'many places'")
    parser.add_argument(
        "--pg-database",
        default="gvrs_bench",
        help="PostgreSQL database the bench drops and makes again (one per concurrent bench)",
    )
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.worker_format)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        quarter, full = tmp / "quarter.csv", tmp / "full.csv"
        write_rows(quarter, max(args.rows // 4, 1000))
        write_rows(full, args.rows)
        shuffled = tmp / "shuffled.csv"
        shuffle_rows(full, shuffled)
        many = tmp / "many_places.csv"
        write_rows(many, args.many_rows, many_places=True)
        wanted = set(args.scenarios.split(","))
        cde, flat = tmp / "DC-2019-copies", tmp / "VT-copies.txt"
        if "nibrs cde" in wanted:
            write_nibrs_cde(cde, args.nibrs_copies)
        if "nibrs flat" in wanted:
            write_nibrs_flat(flat, args.nibrs_copies)
        runs = [
            (scenario, path, fresh, format_name)
            for scenario, path, fresh, format_name in [
                ("first load", quarter, True, "gvrs"),
                ("first load", full, True, "gvrs"),
                ("re-import", full, False, "gvrs"),
                ("scattered", shuffled, True, "gvrs"),
                ("many places", many, True, "gvrs"),
                ("nibrs cde", cde, True, "nibrs-cde"),
                ("nibrs flat", flat, True, "nibrs-flat"),
            ]
            if scenario in wanted
        ]
        # CPU seconds (all threads of the import) say what the code costs when the machine is
        # shared: wall-clock seconds then include time spent waiting for a core.
        print(
            f"{'engine':<11} {'scenario':<11} {'rows':>10} {'seconds':>8} {'rows/s':>10} "
            f"{'CPU s':>6} {'rows/CPU s':>10} {'peak MB':>8}  written  places  areas"
        )
        for engine in args.engines.split(","):
            home = tmp / f"home-{engine}"
            for scenario, path, fresh, format_name in runs:
                r = run_worker(__file__, engine, path, home, fresh, args.pg_database, format_name)
                print(
                    f"{engine:<11} {scenario:<11} {r['rows']:>10,} {r['seconds']:>8.1f} "
                    f"{r['rows'] / r['seconds']:>10,.0f} {r['cpu_seconds']:>6.1f} "
                    f"{r['rows'] / r['cpu_seconds']:>10,.0f} {r['peak_mb']:>8.0f}  "
                    f"{r['written']:<7}"
                    f"  {r['places']:,}  {r['areas']:,}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
