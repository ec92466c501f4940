"""Benchmark: sign-in latency while a 1,000,000-row import runs, on SQLite and PostgreSQL.

    python bench/signin_bench.py [--rows 1000000] [--engines sqlite,postgresql]

`gvrs serve --production` (gunicorn, 3 workers) on loopback; one user signs in again and
again (GET the form, POST the credentials; the POST is timed) first with nothing else
running (the baseline), then while `gvrs import` loads the file. Target (issue 12): p95 under
500 ms during the import. PostgreSQL runs in the database named by GVRS_BENCH_POSTGRES_URL
(default: this worktree's gvrs_h12), emptied first.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import write_rows

POSTGRES = os.environ.get(
    "GVRS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/gvrs_h12"
)
PORT = 8797
PASSWORD = "bench-password-123"


def environment(engine: str, home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "GVRS_HOME": str(home),
        "GVRS_ALLOWED_HOSTS": "127.0.0.1",
        "GVRS_DEFAULT_STATE": "CA",
    }
    env.pop("GVRS_DATABASE_URL", None)
    home.mkdir(parents=True, exist_ok=True)
    if engine == "postgresql":
        import psycopg

        env["GVRS_DATABASE_URL"] = POSTGRES
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    return env


def gvrs(env, *args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gvrs", *args], env=env, **kwargs)


def sign_in(base: str) -> tuple[float, int]:
    """Seconds the credentials' POST took, and its status (302 = signed in; 0 = the
    connection failed, e.g. a gunicorn worker killed at its timeout while waiting)."""
    started = time.perf_counter()
    try:
        return _sign_in(base)
    except (OSError, http.client.HTTPException, AttributeError):
        return time.perf_counter() - started, 0


def _sign_in(base: str) -> tuple[float, int]:
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(f"{base}/accounts/login/", timeout=120).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "bench", "password": PASSWORD}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    started = time.perf_counter()
    try:
        status = opener.open(request, timeout=120).status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return time.perf_counter() - started, status


def summary(times: list[float]) -> str:
    ms = np.array(times) * 1000
    return (
        f"n={len(ms)} p50={np.percentile(ms, 50):.0f} ms p95={np.percentile(ms, 95):.0f} ms "
        f"max={ms.max():.0f} ms"
    )


def run(engine: str, rows: Path, tmp: Path) -> None:
    env = environment(engine, tmp / "home")  # one home: static files collected once
    (tmp / "home" / "gvrs.sqlite3").unlink(missing_ok=True)
    gvrs(env, "migrate", "-v", "0", check=True)
    gvrs(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User, Group; "
        "from gvrs.accounts.roles import sync_roles; sync_roles(); "
        f"u = User.objects.create_user('bench', password='{PASSWORD}'); "
        "u.groups.add(Group.objects.get(name='strategy analyst'))",
        check=True,
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
            "3",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        # The first start collects and compresses the static files (a minute or more).
        for _ in range(1200):
            if server.poll() is not None:
                sys.exit(f"{engine}: the server stopped (exit {server.returncode})")
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        baseline = [sign_in(base)[0] for _ in range(40)]
        importing = subprocess.Popen(
            [sys.executable, "-m", "gvrs", "import", str(rows), "--format", "gvrs"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started = time.perf_counter()
        during, failed = [], 0
        while importing.poll() is None:
            seconds, status = sign_in(base)
            if importing.poll() is None:
                during.append(seconds)
                failed += status != 302
        took = time.perf_counter() - started
        output = importing.stdout.read().strip().splitlines()
    finally:
        server.terminate()
        server.wait()
    print(f"{engine}: import of {rows.stat().st_size / 2**20:.0f} MB took {took:.0f} s")
    print(f"  {output[-2] if len(output) > 1 else output}")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  sign-in, nothing else running: {summary(baseline)}")
    if during:
        ratio = np.percentile(during, 95) / np.percentile(baseline, 95)
        print(f"  sign-in during the import:    {summary(during)}; refused/failed: {failed}")
        print(
            f"  p95 during / p95 baseline = {ratio:.1f}x; target p95 < 500 ms: "
            f"{'met' if np.percentile(during, 95) < 0.5 else 'NOT met'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = tmp / "rows.csv"
        write_rows(rows, args.rows)
        for engine in args.engines.split(","):
            run(engine, rows, tmp)


if __name__ == "__main__":
    main()
