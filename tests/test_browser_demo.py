"""The demo as people meet it, in a real browser at 1440 and 390 px: `gvrs demo --no-serve`
builds it (to yesterday), `gvrs serve --demo` serves it, and Playwright (Debian's Chromium)
signs in as each role and opens the landing page and every item of the navigation.

Each page answers (no 404) and never scrolls sideways; each map draws its areas inside its
frame; the group network's labels do not overlap; the review queue holds reviews still due.
Screenshots go to test-artifacts/demo/. Slow: the demo takes a minute or two to build."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "demo"
PASSWORD = "demo-password-in-tests"
ROLES = ("admin", "analyst", "police", "partner", "viewer")
WIDTHS = (1440, 390)
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(base URL, path of the demo's database) of a demo built and served for this module."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    home = tmp_path_factory.mktemp("demo-home")
    env = {**os.environ, "GVRS_HOME": str(home), "GVRS_DEMO_PASSWORD": PASSWORD}
    env.pop("GVRS_DATABASE_URL", None)
    gvrs = [sys.executable, "-m", "gvrs"]
    built = subprocess.run(
        [*gvrs, "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=1200
    )
    assert built.returncode == 0, built.stderr
    port = _free_port()
    server = subprocess.Popen(
        [*gvrs, "serve", "--demo", "--port", str(port), "--no-worker"],
        env={**env, "GVRS_ALLOWED_HOSTS": "127.0.0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)
                break
            except OSError:
                assert server.poll() is None, "gvrs serve --demo ended"
                time.sleep(1)
        yield base, home / "demo" / "gvrs.sqlite3"
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        yield chromium
        chromium.close()
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def _signed_in(browser, base: str, role: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def _sideways(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ROLES)
def test_every_navigation_item_opens_and_no_page_scrolls_sideways(demo, browser, role, width):
    base, _ = demo
    context, page = _signed_in(browser, base, role, width)
    try:
        assert "/accounts/login/" not in page.url, f"{role} could not sign in"
        assert _sideways(page) <= 0, f"{role}'s landing page scrolls sideways at {width} px"
        _shot(page, f"{role}-landing-{width}")
        links = page.eval_on_selector_all(
            "#site-nav a", "links => links.map(a => [a.textContent.trim(), a.href])"
        )
        assert links, f"no navigation for {role}"
        names = [name for name, _ in links]
        assert len(set(names)) == len(names), names
        # The menu folds on a phone, and opens from its button.
        button = page.locator("[data-menu-button]")
        if width < 1100:
            assert not page.locator("#site-nav").is_visible()
            button.click()
            assert page.locator("#site-nav").is_visible()
        else:
            assert not button.is_visible() and page.locator("#site-nav").is_visible()
        for name, href in links:
            response = page.goto(href)
            assert response.status == 200, f"{role}: {name} gives {response.status}"
            page.wait_for_timeout(300)
            assert _sideways(page) <= 0, f"{role}: {name} scrolls sideways at {width} px"
            _shot(page, f"{role}-{name.lower().replace(' ', '-')}-{width}")
    finally:
        context.close()


FITS = """el => {
  const map = el._fullLayout.map._subplot.map;
  const [west, south, east, north] = el.layout.meta.fit;
  const frame = map.getCanvas().getBoundingClientRect();
  const a = map.project([west, north]), b = map.project([east, south]);
  return {frame: [frame.width, frame.height], corners: [a.x, a.y, b.x, b.y]};
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_maps_draw_their_areas_inside_the_frame(demo, browser, width):
    base, _ = demo
    context, page = _signed_in(browser, base, "analyst", width)
    try:
        for place in ("kern-like-county", "philadelphia"):
            page.goto(f"{base}/j/{place}/")
            # The fit is a relayout after the first drawing; it marks the chart when done.
            chart = page.locator("[data-fit][data-fitted]").first
            chart.wait_for(timeout=60_000)
            page.wait_for_timeout(500)
            found = chart.evaluate(FITS)
            width_px, height_px = found["frame"]
            x0, y0, x1, y1 = found["corners"]
            assert 0 <= x0 < x1 <= width_px, (place, width, found)
            assert 0 <= y0 < y1 <= height_px, (place, width, found)
            # ... and fill it: the longer side of the extent takes most of the frame.
            assert max((x1 - x0) / width_px, (y1 - y0) / height_px) > 0.6, (place, found)
            chart.screenshot(path=str(ARTIFACTS / f"map-{place}-{width}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_group_network_labels_do_not_overlap(demo, browser, width):
    base, _ = demo
    context, page = _signed_in(browser, base, "analyst", width)
    try:
        page.goto(f"{base}/reviews/groups/?place=kern-like-county")
        network = page.locator("[data-testid=network][data-drawn]")
        network.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        boxes = network.evaluate(
            """el => [...el.querySelectorAll('.textpoint text')]
                .filter(t => t.style.display !== 'none')
                .map(t => { const r = t.getBoundingClientRect();
                            return [r.left, r.top, r.right, r.bottom]; })"""
        )
        frame = network.bounding_box()
        for left, _, right, _ in boxes:  # and none is cut at the chart's edge
            assert frame["x"] - 1 <= left and right <= frame["x"] + frame["width"] + 1
        groups = network.evaluate("el => el.querySelectorAll('.textpoint text').length")
        assert groups >= 30
        assert len(boxes) >= min(groups, 12 if width < 600 else 25)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                assert apart, (width, a, b)
        # Incidents named as evidence of a conflict link to their record.
        assert page.locator("[data-testid=conflicts] a[href^='/incidents/']").count() > 0
        network.screenshot(path=str(ARTIFACTS / f"network-{width}.png"))
    finally:
        context.close()


def test_the_review_queue_holds_reviews_still_due(demo, browser):
    """The demo runs to yesterday: the newest shootings wait for the next weekly meeting,
    due a week after they happened."""
    base, database = demo
    today = dt.date.today()
    with sqlite3.connect(database) as db:
        open_due = [
            dt.date.fromisoformat(d)
            for (d,) in db.execute("SELECT due_on FROM reviews_review WHERE status = 'open'")
        ]
        newest = db.execute(
            "SELECT max(occurred_on) FROM incidents_incident"
            " WHERE source = 'gvrs' AND kind IN ('homicide', 'nonfatal_shooting')"
        ).fetchone()[0]
    assert dt.date.fromisoformat(newest) >= today - dt.timedelta(days=14)
    if dt.date.fromisoformat(newest) >= today - dt.timedelta(days=6):
        assert any(due >= today for due in open_due), open_due
    context, page = _signed_in(browser, base, "analyst", 1440)
    try:
        page.goto(f"{base}/reviews/")
        rows = page.locator("[data-testid=queue] tbody tr:has(a)")
        assert rows.count() == len(open_due)
        not_late = [
            rows.nth(i).inner_text()
            for i in range(rows.count())
            if "overdue" not in rows.nth(i).inner_text()
        ]
        assert len(not_late) == sum(due >= today for due in open_due)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_california_leads_with_its_published_homicides(demo, browser, width):
    """Issue 23: the simulated county's incidents are not California's figure; the state's
    published series leads, the incident series says it records 1 county of many, and the
    counties inside show their agencies' published figures summed."""
    base, _ = demo
    context, page = _signed_in(browser, base, "analyst", width)
    try:
        page.goto(f"{base}/j/california/")
        tile = page.locator(".tile").first.inner_text()
        assert "California DOJ OpenJustice" in tile, tile
        assert "2022" in tile, tile
        text = page.inner_text("body")
        assert "incidents recorded in 1 of" in text
        inside = page.locator("[data-testid=places-inside]").inner_text()
        assert "Kern County" in inside and "places inside)" in inside, inside
        assert _sideways(page) <= 0
        _shot(page, f"california-{width}")
    finally:
        context.close()
