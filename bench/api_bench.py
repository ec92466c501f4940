"""Load benchmark: the API's series endpoint under 50 concurrent tokens, served by
`gvrs serve --production` (gunicorn + WhiteNoise) on loopback, with 1,000,000 canonical rows
loaded. Uses wrk (Debian package `wrk`).

    python bench/api_bench.py [--rows 1000000] [--seconds 20] [--connections 50]

Each request carries one of 50 tokens (of 5 users: a token is a user's), round robin, and
asks one of 12 series (4 metrics by year, month and week), as JSON or as CSV in turn: every
request pays for its token's look-up, the user's permissions and the per-token throttle, and
the answers come from the cache the registry's version keys (the first of each, reported as
"cold", computes it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import run_worker, write_rows

PORT = 8798
METRICS = ("homicides", "shootings", "shooting_incidents", "nonfatal_shootings")
BY = ("year", "month", "week")
WRK_SCRIPT = """
local tokens = {%(tokens)s}
local paths = {%(paths)s}
local n = 0
request = function()
  n = n + 1
  local headers = {}
  headers["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]
  if n %% 2 == 0 then headers["Accept"] = "text/csv" end
  return wrk.format("GET", paths[(n %% #paths) + 1], headers)
end
local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50=%%d p95=%%d p99=%%d requests=%%d errors=%%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.timeout + bad))
end
"""
MAKE_TOKENS = """
import json
from django.contrib.auth.models import Group, User
from gvrs.accounts.roles import sync_roles
from gvrs.accounts.tokens import create_token
sync_roles()
secrets = []
for u in range(5):
    user = User.objects.create_user(f"bench{u}", password="bench-password-123")
    user.groups.add(Group.objects.get(name="strategy analyst"))
    secrets += [create_token(user, f"bench {t}", 30).secret for t in range(10)]
print(json.dumps(secrets))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "home"
        rows = tmp / "rows.csv"
        write_rows(rows, args.rows)
        loaded = run_worker(str(Path(__file__).parent / "import_bench.py"), "sqlite", rows, home)
        env = {**os.environ, "GVRS_HOME": str(home), "GVRS_API_RATE": "1000000/minute"}
        env.pop("GVRS_DATABASE_URL", None)
        made = subprocess.run(
            [sys.executable, "-m", "gvrs", "shell", "-c", MAKE_TOKENS],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        tokens = json.loads(made.stdout.strip().splitlines()[-1])
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
                str(args.workers),
                "--no-worker",
            ],
            env={**env, "GVRS_ALLOWED_HOSTS": "127.0.0.1"},
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "server.log", "w"),  # noqa: SIM115 (closed with the folder)
        )
        try:
            base = f"http://127.0.0.1:{PORT}"
            # Static files are collected and compressed before it listens: minutes on a busy
            # machine the first time.
            deadline = time.monotonic() + 900
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=5)
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        sys.exit("the server did not start:\n" + (tmp / "server.log").read_text())
                    time.sleep(1)
            paths = [
                f"/api/v1/places/bench-city/series?metric={m}&by={b}" for m in METRICS for b in BY
            ]
            cold = []
            for path in paths:
                request = urllib.request.Request(
                    base + path, headers={"Authorization": f"Bearer {tokens[0]}"}
                )
                started = time.perf_counter()
                with urllib.request.urlopen(request, timeout=120) as response:
                    body = json.loads(response.read())
                cold.append(time.perf_counter() - started)
                assert body["rows"], path
            script = tmp / "api.lua"
            script.write_text(
                WRK_SCRIPT
                % {
                    "tokens": ", ".join(f'"{t}"' for t in tokens),
                    "paths": ", ".join(f'"{p}"' for p in paths),
                }
            )
            out = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{args.seconds}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(script),
                    base,
                ],
                capture_output=True,
                text=True,
                check=True,
                timeout=args.seconds + 60,
            ).stdout
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = dict(re.findall(r"(\w+)=(\d+)", out.split("RESULT", 1)[1]))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    load = os.getloadavg()
    print(
        f"incidents loaded: {loaded['incidents']:,}; cold series (computed): median "
        f"{sorted(cold)[len(cold) // 2] * 1000:.0f} ms, slowest {max(cold) * 1000:.0f} ms"
    )
    print(
        f"series endpoint, {args.connections} concurrent connections over {len(tokens)} tokens, "
        f"{args.seconds} s: p50 {int(result['p50']) / 1000:.1f} ms, "
        f"p95 {int(result['p95']) / 1000:.1f} ms, p99 {int(result['p99']) / 1000:.1f} ms; "
        f"{rps} requests/s; {result['requests']} requests, {result['errors']} errors "
        f"(load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f})"
    )


if __name__ == "__main__":
    main()
