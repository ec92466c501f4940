"""Load benchmark: the overview page under 20 concurrent users, served by
`gvrs serve --production` (gunicorn + WhiteNoise) on loopback, with 1,000,000 canonical rows
loaded. Target (issue 5): p95 under 300 ms. Uses wrk (Debian package `wrk`).

    python bench/web_bench.py [--rows 1000000] [--seconds 20] [--connections 20]
                              [--baseline REV] [--role ROLE] [--public]

With ``--baseline REV`` the same registry is served by that revision's source too (taken
from git, run with this environment's packages) and the two are measured in turn, baseline
first, in one run (issue 25: before/after in one run).

``--role`` signs in as that role (default: strategy analyst; ``viewer`` for issue 24's
target). ``--public`` publishes the place and measures its public page too, anonymously, on
the same server (issue 24: the overview and the public page within 1.5x of their p95 before
the disclosure policy).

The first request computes the dashboard (reported as "cold"); the load then measures what
users see while the registry does not change (the dashboard is cached per registry version).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import run_worker, write_rows

PORT = 8799
WRK_SCRIPT = """
local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50=%d p95=%d p99=%d requests=%d errors=%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.timeout + bad))
end
"""


def sign_in(base: str) -> tuple[str, float, int]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "bench", "password": "bench-password-123"}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    opener.open(request).read()
    started = time.perf_counter()
    response = opener.open(f"{base}/j/bench-city/")
    body = response.read().decode()
    cold = time.perf_counter() - started
    if response.status != 200 or response.url != f"{base}/j/bench-city/" or "tile" not in body:
        sys.exit(f"the overview did not render for the signed-in user: {response.url}")
    session = next(c.value for c in jar if c.name == "sessionid")
    return session, cold, len(body.encode())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--baseline", default="", help="a git revision to compare against")
    parser.add_argument("--role", default="strategy analyst", help="the signed-in user's role")
    parser.add_argument("--public", action="store_true", help="measure the public page too")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "home"
        rows = tmp / "rows.csv"
        write_rows(rows, args.rows)
        loaded = run_worker(str(Path(__file__).parent / "import_bench.py"), "sqlite", rows, home)
        env = {**os.environ, "GVRS_HOME": str(home)}
        env.pop("GVRS_DATABASE_URL", None)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "gvrs",
                "shell",
                "-c",
                (
                    "from django.contrib.auth.models import User, Group; "
                    "from gvrs.accounts.roles import sync_roles; sync_roles(); "
                    "u = User.objects.create_user('bench', password='bench-password-123'); "
                    f"u.groups.add(Group.objects.get(name={args.role!r}))"
                )
                + (
                    "; from gvrs.incidents.models import Jurisdiction; "
                    "from gvrs.public.models import PublicDashboard; "
                    "PublicDashboard.objects.update_or_create("
                    "jurisdiction=Jurisdiction.objects.get(slug='bench-city'), "
                    "defaults={'enabled': True})"
                    if args.public
                    else ""
                ),
            ],
            env=env,
            check=True,
        )
        sources = {"this checkout": None}
        if args.baseline:
            sources = {f"baseline {args.baseline}": _checkout(args.baseline, tmp / "baseline")}
            sources["this checkout"] = None
        results = []
        for label, source in sources.items():
            results.append((label, *_measure(env, source, tmp, args)))
    for label, loaded_cold, out, size, public in results:
        cold = loaded_cold
        print(
            f"{label}: incidents loaded {loaded['incidents']:,}; page {size / 1024:.0f} KB; "
            f"cold first render {cold * 1000:.0f} ms"
        )
        _report(f"overview page as {args.role}", out, args)
        if public is not None:
            public_cold, public_out, public_size = public
            print(
                f"  public page {public_size / 1024:.0f} KB, cold first render "
                f"{public_cold * 1000:.0f} ms"
            )
            _report("public page, anonymous", public_out, args)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _report(what: str, out: str, args) -> None:
    result = dict(re.findall(r"(\w+)=(\d+)", out.split("RESULT", 1)[1]))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    print(
        f"  {what}, {args.connections} concurrent users, {args.seconds} s: "
        f"p50 {int(result['p50']) / 1000:.1f} ms, p95 {int(result['p95']) / 1000:.1f} ms, "
        f"p99 {int(result['p99']) / 1000:.1f} ms; {rps} requests/s; "
        f"{result['requests']} requests, {result['errors']} errors"
    )


def _wrk(url: str, script: Path, args, cookie: str | None) -> str:
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "-s", str(script)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    return subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=args.seconds + 60
    ).stdout


def _checkout(rev: str, into: Path) -> Path:
    import io
    import tarfile

    archive = subprocess.run(
        ["git", "-C", str(Path(__file__).resolve().parents[1]), "archive", rev, "gvrs"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _measure(env: dict, source: Path | None, tmp: Path, args):
    """Serve the registry with ``source`` (None: this checkout), sign in, load it with wrk."""
    env = {**env, "GVRS_ALLOWED_HOSTS": "127.0.0.1"}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gvrs",
            "serve",
            "--production",
            "--port",
            str(PORT),
            "--workers",
            "4",
        ],
        env=env,
        cwd=tmp,  # `python -m` puts the working folder first on sys.path
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(2000):
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        session, cold, size = sign_in(base)
        script = tmp / "report.lua"
        script.write_text(WRK_SCRIPT)
        out = _wrk(f"{base}/j/bench-city/", script, args, f"sessionid={session}")
        public = None
        if args.public:
            started = time.perf_counter()
            response = urllib.request.urlopen(f"{base}/public/bench-city/", timeout=600)
            body = response.read()
            public_cold = time.perf_counter() - started
            if response.status != 200:
                sys.exit(f"the public page did not render: {response.status}")
            public_out = _wrk(f"{base}/public/bench-city/", script, args, None)
            public = (public_cold, public_out, len(body))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return cold, out, size, public


if __name__ == "__main__":
    main()
