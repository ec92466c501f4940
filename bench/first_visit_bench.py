"""First visit of the demo dashboard, as `make demo` serves it: how long until the page has
loaded and its charts are drawn, and how many bytes travel, in a browser with an empty cache.

Two ways of serving static files, in the same run on the same demo database:
- before: files straight from the packages, uncompressed (what gvrs served until issue 17);
- after: collected, hashed, compressed with Brotli and gzip, cached immutably (`gvrs serve`).

For each, the first visit after the server starts (the dashboard is computed) and a second
visit in a fresh browser (the dashboard comes from the cache, the browser cache is empty).
Target (issue 17): the first load under 500 ms. Printed for each: the first contentful paint,
the load event (the headline figures and tables are there; Plotly is fetched after it), the
first chart drawn, and every chart drawn. Uses Debian's Chromium through Playwright.

    python bench/first_visit_bench.py [--home DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PASSWORD = "bench-password-123"
PORT = 8797
MEASURE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const bytes = nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0);
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return {loaded_ms: nav.loadEventEnd - nav.startTime, bytes: bytes,
          painted_ms: paint ? paint.startTime : NaN, requests: 1 + resources.length};
}"""


def serve(home: Path, compressed: bool) -> subprocess.Popen:
    env = {**os.environ, "GVRS_HOME": str(home), "GVRS_COMPRESSED_STATIC": str(int(compressed))}
    env.pop("GVRS_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gvrs", "serve", "--demo", "--port", str(PORT)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/accounts/login/", timeout=2)
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("the demo server did not start")
            time.sleep(0.5)


def sign_in(browser, base: str) -> dict:
    """Sign in once: the session cookie, which every visit reuses (sign-in is throttled)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if "/accounts/login/" in page.url:
        sys.exit("could not sign in as the demo analyst (GVRS_DEMO_PASSWORD)")
    state = context.storage_state()
    context.close()
    return state


def visit(browser, base: str, session: dict) -> dict:
    """Open the home dashboard, signed in, in a browser whose cache is empty."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, storage_state=session)
    page = context.new_page()
    url = f"{base}/"
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_selector("#annual.js-plotly-plot")
    drawn_ms = (time.perf_counter() - started) * 1000
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(e => e.dataset.drawn)"
    )
    all_drawn_ms = (time.perf_counter() - started) * 1000
    figures = page.evaluate(MEASURE)
    context.close()
    return {**figures, "drawn_ms": drawn_ms, "all_drawn_ms": all_drawn_ms}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, help="a GVRS_HOME whose demo is already built")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        env = {**os.environ, "GVRS_HOME": str(home), "GVRS_DEMO_PASSWORD": PASSWORD}
        env.pop("GVRS_DATABASE_URL", None)
        if not (home / "demo" / "gvrs.sqlite3").exists():
            subprocess.run(
                [sys.executable, "-m", "gvrs", "demo", "--no-serve"],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        results: dict[str, list[dict]] = {}
        session = None
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for name, compressed in (("before", False), ("after", True)):
                for _ in range(args.runs):
                    subprocess.run(
                        [
                            sys.executable,
                            "-m",
                            "gvrs",
                            "django",
                            "shell",
                            "-c",
                            "from django.core.cache import cache; cache.clear()",
                        ],
                        env={**env, "GVRS_HOME": str(home / "demo")},
                        check=True,
                        stdout=subprocess.DEVNULL,
                    )
                    server = serve(home, compressed)
                    try:
                        base = f"http://127.0.0.1:{PORT}"
                        session = session or sign_in(browser, base)
                        first = visit(browser, base, session)
                        second = visit(browser, base, session)
                    finally:
                        server.terminate()
                        server.wait(timeout=30)
                    results.setdefault(f"{name} first", []).append(first)
                    results.setdefault(f"{name} second", []).append(second)
            browser.close()
    print(f"demo dashboard, first visit in an empty browser cache (median of {args.runs}):")
    medians = {}
    for label, runs in results.items():
        loaded = statistics.median(r["loaded_ms"] for r in runs)
        drawn = statistics.median(r["drawn_ms"] for r in runs)
        every = statistics.median(r["all_drawn_ms"] for r in runs)
        painted = statistics.median(r["painted_ms"] for r in runs)
        kb = statistics.median(r["bytes"] for r in runs) / 1024
        medians[label] = (loaded, kb)
        print(
            f"  {label:<14} first paint {painted:6.0f} ms, load event {loaded:6.0f} ms, "
            f"first chart {drawn:6.0f} ms, every chart {every:6.0f} ms, "
            f"{kb:6.0f} KB in {runs[0]['requests']} requests"
        )
    for visit_kind in ("first", "second"):
        (b_ms, b_kb), (a_ms, a_kb) = medians[f"before {visit_kind}"], medians[f"after {visit_kind}"]
        print(
            f"  {visit_kind} visit: {b_ms / a_ms:.1f}x faster, {b_kb / a_kb:.1f}x fewer bytes "
            "(before / after, same run)"
        )


if __name__ == "__main__":
    main()
