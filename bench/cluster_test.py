"""The cluster test (issue 29): two app servers and two workers on one PostgreSQL database,
behind nginx, under a load of mixed roles; then faults during the load.

    python bench/cluster_test.py [--rows 1000000] [--users 100] [--seconds 60]
                                 [--import-rows 200000]

(``make cluster-test``; not part of ``make test``.) It starts, all on loopback:

- a database of its own, ``gvrs_cluster_test``, on the machine's PostgreSQL
  (``GVRS_CLUSTER_POSTGRES_SERVER``, default ``postgresql://postgres@127.0.0.1:5432``),
  emptied first, with ``--rows`` canonical rows loaded (bench/import_bench.py's generator);
- two app servers, ``gvrs serve --production --no-worker`` (gunicorn) on ports 8811 and 8812;
- nginx (Debian's package; ``apt-get install nginx-light``) on port 8810, balancing them with
  deploy/nginx's settings (passive health checks, retry on the other server);
- two workers, ``gvrs worker`` (each with its clock: no job is queued twice).

Then a threaded client (``--users`` virtual users, half public visitors, the rest viewers,
analysts and partner staff, each signed in once; a think time of ``--think`` seconds) runs for
``--seconds`` with 1 app server behind the proxy, then with 2, and prints requests/s and
p50/p95/p99 and errors by page. Then, with 2 servers and the load running:

1. ``kill -9`` of one app server (gunicorn's whole process group): errors in the window and
   how long until the proxy routes around it;
2. ``kill -9`` of the worker running an import of ``--import-rows`` rows (a new place): the
   job is marked interrupted by the other worker, no row of it stored; the upload is submitted
   again, as the user is told, and the other worker finishes it: its incidents equal the file's;
3. every connection of gvrs to PostgreSQL terminated (``pg_terminate_backend``), which is what
   app servers see of a restart of PostgreSQL; a real restart (``pg_ctlcluster 15 main
   restart``) would stop every other user of the machine's server, so it is not done here.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import write_rows

SERVER = os.environ.get("GVRS_CLUSTER_POSTGRES_SERVER", "postgresql://postgres@127.0.0.1:5432")
DATABASE = "gvrs_cluster_test"
PROXY, APPS = 8810, (8811, 8812)
PASSWORD = "cluster-password-123"
PLACE, IMPORT_PLACE = "Bench City", "Import Town"
ROLES = {"viewer": "viewer", "analyst": "strategy analyst", "partner": "partner staff"}


def environment(home: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    key_file = home / "keys"
    if not key_file.exists():
        key_file.write_text(f"{'k' * 60}\n{Fernet.generate_key().decode()}\n")
    secret, field = key_file.read_text().split()
    return {
        **os.environ,
        "GVRS_HOME": str(home),
        "GVRS_DATABASE_URL": f"{SERVER}/{DATABASE}",
        "GVRS_SECRET_KEY": secret,
        "GVRS_FIELD_KEY": field,
        "GVRS_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GVRS_TRUSTED_PROXIES": "127.0.0.1/32",
        "GVRS_DEFAULT_STATE": "CA",
        "GVRS_WORKER_CLOCK_S": "5",
        "GVRS_LOG_LEVEL": "ERROR",
    }


def gvrs(env, *args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gvrs", *args], env=env, check=True, **kwargs)


SETUP = """
from django.contrib.auth.models import Group, User
from gvrs.accounts.models import Membership, Organization
from gvrs.accounts.roles import sync_roles
from gvrs.incidents.models import Jurisdiction
from gvrs.public.models import PublicDashboard
sync_roles()
place = Jurisdiction.objects.get(name={place!r})
PublicDashboard.objects.update_or_create(jurisdiction=place, defaults={{"enabled": True}})
city, _ = Organization.objects.get_or_create(name="City", defaults={{"kind": "city"}})
partner, _ = Organization.objects.get_or_create(name="Partner A", defaults={{"kind": "partner"}})
for name, role in {roles!r}.items():
    user = User.objects.create_user(name, password={password!r})
    user.groups.add(Group.objects.get(name=role))
    Membership.objects.create(user=user, organization=partner if name == "partner" else city)
print(place.slug)
"""


def prepare(home: Path, env, rows: int) -> str:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    gvrs(env, "migrate", "-v", "0")
    gvrs(env, "django", "createcachetable")  # `migrate` alone does not make the cache's table
    data = home / "incidents.csv"
    started = time.perf_counter()
    write_rows(data, rows)
    gvrs(env, "import", str(data), "--format", "gvrs", "-v", "0", stdout=subprocess.DEVNULL)
    took = time.perf_counter() - started
    setup = SETUP.format(place=PLACE, roles=ROLES, password=PASSWORD)
    slug = gvrs(env, "shell", "-c", setup, capture_output=True, text=True).stdout.split()[-1]
    with psycopg.connect(f"{SERVER}/{DATABASE}") as conn:
        incidents = conn.execute("SELECT count(*) FROM incidents_incident").fetchone()[0]
    data.unlink()
    print(f"loaded {rows:,} rows ({incidents:,} incidents) in {took:.0f} s (written and imported)")
    return slug


# -- processes ---------------------------------------------------------------------------------


class Cluster:
    def __init__(self, home: Path, env, workers_per_server: int, threads: int) -> None:
        self.home, self.env = home, env
        self.workers_per_server, self.threads = workers_per_server, threads
        self.apps: dict[int, subprocess.Popen] = {}
        self.workers: list[subprocess.Popen] = []
        self.nginx: subprocess.Popen | None = None
        self.logs = home / "logs"
        self.logs.mkdir(exist_ok=True)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (kept open by the child)
        return subprocess.Popen(args, env=self.env, stdout=log, stderr=log, start_new_session=True)

    def start_app(self, port: int) -> None:
        self.apps[port] = self._spawn(
            f"app-{port}",
            [
                sys.executable,
                "-m",
                "gvrs",
                "serve",
                "--production",
                "--no-worker",
                "--port",
                str(port),
                "--workers",
                str(self.workers_per_server),
                "--threads",
                str(self.threads),
            ],
        )
        wait_for(f"http://127.0.0.1:{port}/healthz", self.apps[port])

    def start_worker(self, clock: bool) -> subprocess.Popen:
        args = [sys.executable, "-m", "gvrs", "worker", "--no-startup-delay", "--no-reload"]
        worker = self._spawn(
            f"worker-{len(self.workers)}", args + ([] if clock else ["--no-clock"])
        )
        self.workers.append(worker)
        return worker

    def proxy(self, ports) -> None:
        """nginx balancing ``ports`` (started, or reloaded with the new list)."""
        conf = self.home / "nginx.conf"
        servers = "\n".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports
        )
        for folder in ("client", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.home / "nginx" / folder).mkdir(parents=True, exist_ok=True)
        conf.write_text(
            NGINX.format(
                servers=servers, port=PROXY, prefix=self.home / "nginx", user=_nginx_user()
            )
        )
        if self.nginx is None:
            self.nginx = subprocess.Popen(
                ["nginx", "-c", str(conf), "-p", str(self.home / "nginx"), "-g", "daemon off;"],
                start_new_session=True,
            )
            wait_for(f"http://127.0.0.1:{PROXY}/healthz", self.nginx)
        else:
            self.nginx.send_signal(signal.SIGHUP)
            time.sleep(1.0)

    def kill(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in [*self.apps.values(), *self.workers, self.nginx]:
            if process is not None and process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for process in [*self.apps.values(), *self.workers, self.nginx]:
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.kill(process)


def _nginx_user() -> str:
    return "user root;" if os.geteuid() == 0 else ""


# The balancing of deploy/nginx/gvrs.conf, on plain HTTP for loopback.
NGINX = """
{user}
worker_processes 1;
error_log {prefix}/error.log error;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream gvrs {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://gvrs;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
"""


def wait_for(url: str, process: subprocess.Popen, limit_s: float = 300) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{url}: the process stopped (exit {process.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.5)
    sys.exit(f"{url} did not answer within {limit_s:.0f} s")


# -- the load ----------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def pages(role: str, slug: str) -> list[tuple[str, str]]:
    """(label, path) a user of the role visits, picked at random."""
    if role == "public":
        return [("public dashboard", f"/public/{slug}/"), ("public index", "/public/")]
    if role == "viewer":
        return [("overview", f"/j/{slug}/"), ("places", "/places/")]
    if role == "analyst":
        return [
            ("overview", f"/j/{slug}/"),
            ("incidents", "/incidents/"),
            ("imports", "/incidents/imports/"),
        ]
    return [("partner list", "/partners/"), ("referrals", "/partners/referrals/")]


class Load:
    """``users`` virtual users, each in a thread of its own, until stopped; every request's
    (time it started, page, seconds, status), status 0 for a failed connection."""

    def __init__(self, users: int, slug: str, think_s: float) -> None:
        self.base = f"http://127.0.0.1:{PROXY}"
        self.slug, self.think_s = slug, think_s
        self.roles = ["public"] * (users // 2) + [
            ("viewer", "analyst", "partner")[i % 3] for i in range(users - users // 2)
        ]
        self.records: list[tuple[float, str, float, int]] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()

    def _request(self, opener, label: str, path: str, data=None, headers=None) -> str:
        started = time.monotonic()
        status, body = 0, ""
        try:
            request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
            with opener.open(request, timeout=60) as response:
                status, body = response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        with self.lock:
            self.records.append((started, label, time.monotonic() - started, status))
        return body if status == 200 else ""

    def _sign_in(self, opener, role: str, address: str) -> bool:
        headers = {"X-Forwarded-For": address}
        page = self._request(opener, "sign-in form", "/accounts/login/", headers=headers)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not found:
            return False
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": found.group(1), "username": role, "password": PASSWORD}
        ).encode()
        self._request(
            opener,
            "sign-in",
            "/accounts/login/",
            data=data,
            headers={**headers, "Referer": self.base + "/accounts/login/"},
        )
        return any(c.name == "sessionid" for c in opener.jar)

    def _user(self, i: int, role: str) -> None:
        rng = random.Random(i)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
        opener.jar = jar
        time.sleep(rng.random() * 2)  # users arrive over two seconds
        if role != "public":
            while not self.stop_event.is_set() and not self._sign_in(
                opener, role, f"10.9.{i // 250}.{1 + i % 250}"
            ):
                self.stop_event.wait(1.0)
        choices = pages(role, self.slug)
        while not self.stop_event.is_set():
            label, path = rng.choice(choices)
            self._request(opener, label, path)
            self.stop_event.wait(rng.uniform(0.5, 1.5) * self.think_s)

    def __enter__(self) -> Load:
        self.threads = [
            threading.Thread(target=self._user, args=(i, role), daemon=True)
            for i, role in enumerate(self.roles)
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=70)

    def window(self, start: float, end: float) -> list[tuple[float, str, float, int]]:
        with self.lock:
            return [r for r in self.records if start <= r[0] < end]


def report(title: str, records, seconds: float) -> dict:
    print(
        f"\n{title}: {len(records):,} requests in {seconds:.0f} s = {len(records) / seconds:.1f}/s"
    )
    by_page = defaultdict(list)
    for _, label, took, status in records:
        by_page[label].append((took, status))
    print(f"  {'page':<18}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    summary = {}
    for label in sorted(by_page):
        times = np.array([t for t, _ in by_page[label]]) * 1000
        errors = sum(1 for _, s in by_page[label] if s not in OK)
        p50, p95, p99 = np.percentile(times, [50, 95, 99])
        summary[label] = (p95, errors)
        print(f"  {label:<18}{len(times):>9}{p50:>9.0f}{p95:>9.0f}{p99:>9.0f}{errors:>8}")
    return summary


OK = (200, 302, 304)


FAULTS: list[tuple[str, float, float]] = []  # (name, start, end): told once the load ends


def fault_window(name: str, at: float, until: float) -> None:
    FAULTS.append((name, at, until))


def fault_summary(name: str, load: Load, at: float, until: float) -> None:
    """Requests that started in the window (each finished or failed by now: the load ended)."""
    records = load.window(at, until)
    bad = [(started, label, status) for started, label, _, status in records if status not in OK]
    last = max((s for s, _, _ in bad), default=None)
    kinds = defaultdict(int)
    for _, label, status in bad:
        kinds[f"{label} {status}"] += 1
    recovered = f"last error {last - at:.1f} s after the fault" if last else "no error"
    worst = max((t for _, _, t, _ in records), default=0.0)
    print(
        f"  {name}: {len(records):,} requests started in the {until - at:.0f} s after it, "
        f"{len(bad)} errors {dict(kinds) or ''}; {recovered}; slowest {worst:.1f} s"
    )


# -- faults ------------------------------------------------------------------------------------


def kill_app_server(cluster: Cluster, load: Load, port: int, window_s: float) -> None:
    at = time.monotonic()
    cluster.kill(cluster.apps[port])
    time.sleep(window_s)
    fault_window(f"kill -9 of app server :{port}", at, time.monotonic())


SUBMIT = """
import shutil
from pathlib import Path
from gvrs.incidents import jobs
from gvrs.incidents.models import ImportJob
folder = jobs.new_upload_folder()
shutil.copy({path!r}, folder / "import-town.csv")
job = ImportJob.objects.create(
    phase="import", state="queued", folder=str(folder), file_name="import-town.csv",
    format_name="gvrs", place_state="CA", new_places=True,
)
jobs.enqueue(job)
print(job.pk)
"""


def submit_import(env, path: Path) -> int:
    done = gvrs(env, "shell", "-c", SUBMIT.format(path=str(path)), capture_output=True, text=True)
    return int(done.stdout.split()[-1])


def job_state(conn, job: int) -> tuple[str, str]:
    return conn.execute(
        "SELECT state, message FROM incidents_importjob WHERE id = %s", [job]
    ).fetchone()


def imported(conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM incidents_incident i JOIN incidents_jurisdiction j"
        " ON j.id = i.jurisdiction_id WHERE j.name = %s",
        [IMPORT_PLACE],
    ).fetchone()[0]


def worker_holding(cluster: Cluster, name: str) -> subprocess.Popen | None:
    """The worker process with the upload ``name`` open (reading it: the import's)."""
    for worker in cluster.workers:
        try:
            for fd in Path(f"/proc/{worker.pid}/fd").iterdir():
                if os.readlink(fd).endswith(name):
                    return worker
        except OSError:
            continue
    return None


def kill_worker_mid_import(cluster: Cluster, home: Path, rows: int) -> None:
    path = home / "import-town.csv"
    write_rows(path, rows, seed=7)
    text = path.read_text().replace("Bench City", IMPORT_PLACE).replace("\nS", "\nT")
    path.write_text(text)
    expected = len({line.split(",", 1)[0] for line in text.splitlines()[1:]})
    conn = psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True)
    job = submit_import(cluster.env, path)
    victim, deadline = None, time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        state, _ = job_state(conn, job)
        if state == "running":
            victim = worker_holding(cluster, "import-town.csv")
        time.sleep(0.2)
    if victim is None:
        print(f"  worker fault: the import job never ran (state {job_state(conn, job)[0]})")
        return
    time.sleep(2.0)  # well into the import
    at = time.monotonic()
    cluster.kill(victim)
    cluster.workers.remove(victim)
    while job_state(conn, job)[0] == "running" and time.monotonic() - at < 180:
        time.sleep(1.0)
    state, message = job_state(conn, job)
    print(
        f"  kill -9 of the worker importing {rows:,} rows: the job is {state} after "
        f"{time.monotonic() - at:.0f} s ({message[:90]}…); incidents of it stored: {imported(conn)}"
    )
    again = submit_import(cluster.env, path)
    started = time.monotonic()
    while job_state(conn, again)[0] in ("queued", "running") and time.monotonic() - started < 600:
        time.sleep(1.0)
    state, message = job_state(conn, again)
    got = imported(conn)
    print(
        f"  the upload submitted again: {state} in {time.monotonic() - started:.0f} s by the other "
        f"worker; incidents {got:,}, the file's {expected:,}: "
        + ("equal, no duplicate" if got == expected else "DIFFERENT")
    )
    third = submit_import(cluster.env, path)
    while job_state(conn, third)[0] in ("queued", "running"):
        time.sleep(1.0)
    print(f"  and a third time: incidents {imported(conn):,} (the import is idempotent)")
    conn.close()
    cluster.start_worker(clock=True)


def drop_database_connections(load: Load, window_s: float) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        at = time.monotonic()
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [DATABASE],
        ).fetchone()[0]
    time.sleep(window_s)
    fault_window(f"every gvrs connection to PostgreSQL terminated ({killed})", at, time.monotonic())


def restart_is_possible() -> str:
    if shutil.which("pg_ctlcluster") is None:
        return "pg_ctlcluster is not installed"
    if os.geteuid() != 0:
        return "this user may not run pg_ctlcluster on the machine's server"
    return (
        "possible as root (pg_ctlcluster), not done: the server is shared with other users'"
        " running tests"
    )


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a user's pages")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        sys.exit("nginx is not installed: apt-get install nginx-light")
    print(
        f"cluster test: 2 app servers (gunicorn {args.workers} workers x {args.threads} threads"
        f" each), nginx, 2 workers, PostgreSQL; {args.users} users, think time {args.think} s;"
        f" load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    home = Path(tempfile.mkdtemp(prefix="gvrs-cluster-"))
    env = environment(home)
    slug = prepare(home, env, args.rows)
    cluster = Cluster(home, env, args.workers, args.threads)
    try:
        cluster.start_app(APPS[0])
        cluster.start_app(APPS[1])
        cluster.start_worker(clock=True)
        cluster.start_worker(clock=True)  # every worker keeps the clock (no copies are queued)
        cluster.proxy(APPS[:1])
        # Warm each server's first pages (the dashboards are computed once, then shared).
        warm = Load(6, slug, 0.2)
        with warm:
            time.sleep(15)
        summaries = {}
        for n in (1, 2):
            cluster.proxy(APPS[:n])
            with Load(args.users, slug, args.think) as load:
                time.sleep(2.5)
                start = time.monotonic()
                time.sleep(args.seconds)
                end = time.monotonic()
                summaries[n] = report(
                    f"{n} app server{'s' * (n > 1)} (load average {os.getloadavg()[0]:.2f})",
                    load.window(start, end),
                    end - start,
                )
        print("\nfaults, during the load on 2 app servers:")
        with Load(args.users, slug, args.think) as load:
            time.sleep(5)
            kill_app_server(cluster, load, APPS[1], window_s=15)
            cluster.start_app(APPS[1])
            time.sleep(10)
            kill_worker_mid_import(cluster, home, args.import_rows)
            drop_database_connections(load, window_s=15)
            print(f"  postgres restart: {restart_is_possible()}")
            try:
                readyz = urllib.request.urlopen(f"http://127.0.0.1:{APPS[0]}/readyz", timeout=60)
                print(f"  /readyz after the faults: {readyz.status} {readyz.read().decode()}")
            except (OSError, urllib.error.HTTPError) as exc:
                print(f"  /readyz after the faults: {exc}")
        print("  requests during each fault (counted once every request of the load had ended):")
        for name, at, until in FAULTS:
            fault_summary(name, load, at, until)
        targets = [
            ("public dashboard", 200),
            ("overview", 500),
        ]
        print()
        for label, target in targets:
            p95, _ = summaries[2].get(label, (float("nan"), 0))
            verdict = "met" if p95 < target else "NOT met"
            print(f"target {label} p95 < {target} ms with 2 app servers: {p95:.0f} ms, {verdict}")
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    finally:
        cluster.stop()
        print(f"logs in {home / 'logs'}")


if __name__ == "__main__":
    main()
