"""Benchmark: 200 parallel sign-ins against gunicorn on PostgreSQL, with and without the
connection pool (issue 24).

    python bench/signin_storm_bench.py [--parallel 200] [--workers 4] [--threads 32]
                                       [--rounds 2]

`gvrs serve --production` (gunicorn, threaded workers) on loopback behind a trusted proxy
(each sign-in comes from an address of its own, as users behind a city's reverse proxy do);
200 clients sign in at once (GET the form, POST the credentials). Meanwhile two other clients
keep working: one opens a new connection to the PostgreSQL server and runs a query every
50 ms (another application of the same server), one loads the sign-in page (another user of
gvrs). Printed per configuration: sign-in statuses (302 = signed in), the other clients'
failures, the most connections gvrs held on the server, and the time to the last sign-in.

The configurations alternate in one run: without the pool (GVRS_DB_POOL_MAX=0: a
persistent connection per thread, as before) and with it (the defaults). PostgreSQL runs in
the database named by GVRS_BENCH_POSTGRES_URL (default: gvrs_h24_storm on the local server),
emptied first.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

SERVER = os.environ.get("GVRS_BENCH_POSTGRES_SERVER", "postgresql://postgres@127.0.0.1:5432")
DATABASE = "gvrs_h24_storm"
PORT = 8798
PASSWORD = "bench-password-123"


def environment(home: Path, pool: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "GVRS_HOME": str(home),
        "GVRS_ALLOWED_HOSTS": "127.0.0.1",
        "GVRS_DATABASE_URL": f"{SERVER}/{DATABASE}",
        "GVRS_TRUSTED_PROXIES": "127.0.0.1/32",
    }
    if not pool:
        env["GVRS_DB_POOL_MAX"] = "0"
    return env


def prepare(home: Path) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    env = environment(home, pool=True)
    run = [sys.executable, "-m", "gvrs"]
    subprocess.run([*run, "migrate", "-v", "0"], env=env, check=True)
    subprocess.run(
        [
            *run,
            "shell",
            "-c",
            "from django.contrib.auth.models import User, Group; "
            "from gvrs.accounts.roles import sync_roles; sync_roles(); "
            f"u = User.objects.create_user('bench', password='{PASSWORD}'); "
            "u.groups.add(Group.objects.get(name='strategy analyst'))",
        ],
        env=env,
        check=True,
    )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(base: str, address: str) -> int:
    """The POST's status (302 = signed in), or 0 if the connection failed."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    headers = {"X-Forwarded-For": address}
    try:
        page = opener.open(
            urllib.request.Request(f"{base}/accounts/login/", headers=headers), timeout=120
        )
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode()
        ).group(1)
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "bench", "password": PASSWORD}
        ).encode()
        request = urllib.request.Request(
            f"{base}/accounts/login/",
            data=data,
            headers={**headers, "Referer": f"{base}/accounts/login/"},
        )
        return opener.open(request, timeout=120).status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, AttributeError):
        return 0


class Others:
    """The other clients: a new connection to the database server every 50 ms, and the
    sign-in page loaded every 50 ms; with the most connections gvrs holds, sampled."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.stop = threading.Event()
        self.db_ok = self.db_failed = self.page_ok = self.page_failed = 0
        self.most = 0
        self.errors: set[str] = set()
        self.monitor = psycopg.connect(f"{SERVER}/postgres", autocommit=True)

    def _database(self) -> None:
        while not self.stop.is_set():
            try:
                with psycopg.connect(f"{SERVER}/postgres", connect_timeout=5) as conn:
                    conn.execute("SELECT 1").fetchone()
                self.db_ok += 1
            except psycopg.Error as exc:
                self.db_failed += 1
                self.errors.add(str(exc).strip().splitlines()[0][:100])
            count = self.monitor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [DATABASE]
            ).fetchone()[0]
            self.most = max(self.most, count)
            time.sleep(0.05)

    def _page(self) -> None:
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(f"{self.base}/accounts/login/", timeout=30) as r:
                    self.page_ok += r.status == 200
            except (OSError, urllib.error.HTTPError):
                self.page_failed += 1
            time.sleep(0.05)

    def __enter__(self) -> Others:
        self.threads = [
            threading.Thread(target=self._database),
            threading.Thread(target=self._page),
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.monitor.close()


def storm(home: Path, pool: bool, args) -> None:
    env = environment(home, pool)
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
            "--threads",
            str(args.threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(1200):
            if server.poll() is not None:
                sys.exit(f"the server stopped (exit {server.returncode})")
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        barrier = threading.Barrier(args.parallel)

        def one(i: int) -> int:
            barrier.wait()
            return sign_in(base, f"10.{i // 250}.{i % 250}.{1 + i % 200}")

        with Others(base) as others, ThreadPoolExecutor(args.parallel) as pool_of_clients:
            started = time.perf_counter()
            statuses = list(pool_of_clients.map(one, range(args.parallel)))
            took = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    label = "with the pool   " if pool else "without the pool"
    print(
        f"{label}: sign-ins {counts} in {took:.1f} s; most connections held {others.most}; "
        f"other database client: {others.db_ok} ok, {others.db_failed} refused; "
        f"sign-in page: {others.page_ok} ok, {others.page_failed} failed"
        + (f"; errors: {sorted(others.errors)}" if others.errors else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parallel", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with psycopg.connect(f"{SERVER}/postgres") as conn:
        limit = conn.execute("SHOW max_connections").fetchone()[0]
    print(
        f"{args.parallel} parallel sign-ins; gunicorn {args.workers} workers x {args.threads} "
        f"threads; PostgreSQL max_connections {limit}; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        prepare(home)
        for _ in range(args.rounds):
            for pool in (False, True):
                storm(home, pool, args)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
