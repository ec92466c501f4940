"""Load benchmark: the public dashboard under 50 concurrent anonymous visitors, served by
`gvrs serve --production` (gunicorn + WhiteNoise) on loopback, over 1,000,000 incidents.
Target (issue 15): p95 under 200 ms.

    python bench/public_bench.py [--incidents 1000000] [--seconds 20] [--connections 50]
                                 [--workers 4] [--database-url postgresql://...]

The registry is built as bench/import_bench.py builds it (canonical rows of "Bench City",
about 1.18 victim rows per incident, imported by the real import path), on SQLite unless
``--database-url`` names a PostgreSQL database (emptied first). The dashboard is switched on
for Bench City, the server started, and the first request timed ("cold": the page is computed
and cached). Then each of ``--connections`` visitors asks for the page again and again for
``--seconds``, a new connection per request (gunicorn's sync workers close each one), and the
same for the CSV download; the figures printed are over every request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import engine_env, write_rows

PORT = 8798
ROWS_PER_INCIDENT = 0.85 * 1 + 0.12 * 2 + 0.03 * 3  # write_rows' victims per incident


async def _visitor(path: str, until: float, latencies: list[float], errors: list[str]) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
            writer.write(request)
            await writer.drain()
            body = await reader.read()  # to the end: the server closes the connection
            writer.close()
        except OSError as exc:
            errors.append(str(exc))
            continue
        elapsed = time.perf_counter() - started
        status = body[9:12]
        if status != b"200":
            errors.append(status.decode(errors="replace"))
            continue
        latencies.append(elapsed)


async def _load(path: str, connections: int, seconds: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(*(_visitor(path, until, latencies, errors) for _ in range(connections)))
    return latencies, errors


def _report(name: str, latencies: list[float], errors: list[str], seconds: float) -> None:
    ms = np.array(latencies) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99]) if len(ms) else (np.nan,) * 3
    print(
        f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; "
        f"{len(ms) / seconds:.0f} requests/s; {len(ms):,} requests, {len(errors)} errors"
        + (f" (e.g. {errors[0]})" if errors else "")
    )


def _gvrs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gvrs", *args], env=env, check=True, capture_output=True, text=True
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--database-url", help="a PostgreSQL database to build in (emptied first); else SQLite"
    )
    parser.add_argument(
        "--home",
        help="keep the SQLite registry in this folder and reuse it when it is there already",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = Path(args.home) if args.home else tmp / "home"
        reuse = bool(args.home) and (home / "gvrs.sqlite3").exists() and not args.database_url
        rows = tmp / "rows.csv"
        started = time.perf_counter()
        env = engine_env("sqlite", home, fresh=not reuse)
        if not reuse:
            write_rows(rows, int(args.incidents * ROWS_PER_INCIDENT))
        if args.database_url:
            import psycopg

            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
            env["GVRS_DATABASE_URL"] = args.database_url
        if not reuse:
            out = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).parent / "import_bench.py"),
                    "--worker",
                    str(rows),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            if out.returncode:
                sys.exit(f"the import failed:\n{out.stderr[-3000:]}")
            rows.unlink()
        engine = "PostgreSQL" if args.database_url else "SQLite"
        loaded = _gvrs(
            env,
            "shell",
            "-c",
            (
                "from gvrs.incidents.models import Incident, Jurisdiction; "
                "from gvrs.public.models import PublicDashboard; "
                "city = Jurisdiction.objects.get(slug='bench-city'); "
                "PublicDashboard.objects.update_or_create(jurisdiction=city, "
                "defaults={'enabled': True}); "
                "print(Incident.objects.count())"
            ),
        ).stdout.split()[-1]
        print(
            f"{int(loaded):,} incidents in Bench City on {engine}, built in "
            f"{time.perf_counter() - started:.0f} s"
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gvrs",
                "serve",
                "--production",
                "--no-worker",
                "--port",
                str(PORT),
                "--workers",
                str(args.workers),
            ],
            env={**env, "GVRS_ALLOWED_HOSTS": "127.0.0.1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{PORT}"
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"{base}/public/", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                sys.exit("the server did not start")
            page = "/public/bench-city/"
            for name, path in (("page", page), ("CSV", page + "data.csv")):
                first = time.perf_counter()
                with urllib.request.urlopen(base + path, timeout=600) as response:
                    body = response.read()
                cold = time.perf_counter() - first
                print(f"cold first {name}: {cold * 1000:.0f} ms ({len(body):,} bytes)")
            print(f"machine load average before the load: {os.getloadavg()[0]:.1f}")
            for name, path in (("public page", page), ("CSV download", page + "data.csv")):
                # One visitor first: the time a request takes without queueing.
                for visitors in (1, args.connections):
                    latencies, errors = asyncio.run(_load(path, visitors, args.seconds))
                    _report(
                        f"{name}, {visitors} concurrent anonymous visitor(s), "
                        f"{args.seconds:.0f} s ({args.workers} gunicorn workers)",
                        latencies,
                        errors,
                        args.seconds,
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
