"""The web application in a real browser: Playwright driving Debian's Chromium against a
live server. Screenshots of the main pages are saved in test-artifacts/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gvrs.analysis.counts import count_in
from gvrs.analysis.periods import day_month_year, year_to_date
from gvrs.data.mapping import load_format
from gvrs.data.metrics import get_metric
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction
from gvrs.reports.series import incident_series
from tests.importing_helpers import row, write_csv
from tests.jobs_helpers import run_queued_tasks
from tests.personas import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, which Django would take for
    # async code; the test itself is plain synchronous code (Playwright's documented advice).
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def town(tmp_path):
    city = simulate("small-town", years=(2019, 2022), seed=3)
    paths = write_city(city, tmp_path / "sim")
    assert import_file(paths["incidents.csv"], load_format("gvrs")).ok
    return Jurisdiction.objects.get(name="Small Town")


def sign_in(browser, live_server, user, viewport=None):
    page = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/**")
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_analyst_reads_the_tiles_filters_and_imports(
    browser, live_server, people, town, tmp_path
):
    page = sign_in(browser, live_server, people["analyst"])
    page.goto(f"{live_server.url}/j/{town.slug}/")
    page.wait_for_selector("[data-chart=chart-annual][data-drawn=true]")
    shot(page, "overview")
    # The tile says what the statistics engine says.
    series = incident_series(get_metric("homicides"), town)
    expected = count_in(series, year_to_date(series.last))
    tile = page.locator("article.tile[data-metric=homicides]")
    assert tile.get_attribute("data-count") == str(expected)
    # The simulated year is over: its window is shown as such, with the data's coverage.
    assert f"{expected} in {series.last.year} to {series.last:%d %b}" in tile.inner_text()
    assert "so far" not in tile.inner_text()
    assert f"Data through {day_month_year(series.last)}" in tile.inner_text()  # house style

    # A filter changes the charts in place and is kept in the URL.
    page.select_option("select[name=metric]", "shootings")
    page.wait_for_function(
        "() => document.getElementById('annual')?._fullLayout?.title?.text"
        "?.startsWith('People shot by year<br>')"
    )
    assert "metric=shootings" in page.url
    shot(page, "overview-shootings")

    # A bad file shows every error by line and column; nothing is imported.
    bad = write_csv(
        tmp_path / "bad.csv", [row("W-1", kind="stabbing"), row("W-2", occurred_at="2022-02-30")]
    )
    page.goto(f"{live_server.url}/incidents/imports/new/")
    page.set_input_files("input[name=file]", str(bad))
    page.click("text=Check the file")
    # The check is a background job: the page shows it queued and polls its progress.
    page.locator("[data-testid=job-progress][data-state=queued]").wait_for()
    shot(page, "import-queued")
    assert run_queued_tasks() == 1  # what `gvrs worker` does
    errors = page.locator("[data-testid=errors]")
    errors.wait_for()
    text = errors.inner_text()
    assert "unknown kind 'stabbing'" in text and "unparseable date" in text
    shot(page, "import-errors")

    # A good file: preview, confirm, and the counts change.
    last = series.last.isoformat()
    good = write_csv(
        tmp_path / "good.csv",
        [
            row("W-3", jurisdiction="Small County > Small Town", occurred_at=last),
            row("W-4", jurisdiction="Small County > Small Town", occurred_at=last),
        ],
    )
    page.goto(f"{live_server.url}/incidents/imports/new/")
    page.set_input_files("input[name=file]", str(good))
    page.click("text=Check the file")
    page.locator("[data-testid=job-progress]").wait_for()
    assert run_queued_tasks() == 1
    page.locator("[data-testid=preview]").wait_for()
    page.click("[data-testid=preview] button[type=submit]")
    page.locator("[data-testid=job-progress] >> text=Importing").wait_for()
    assert run_queued_tasks() == 1
    summary = page.locator("[data-testid=import-summary]")
    summary.wait_for()
    assert page.locator("[data-field=inserted]").inner_text() == "2"
    shot(page, "import-done")
    page.goto(f"{live_server.url}/j/{town.slug}/")
    tile = page.locator("article.tile[data-metric=homicides]")
    assert tile.get_attribute("data-count") == str(expected + 2)


def test_a_viewer_is_refused_the_import_page(browser, live_server, people, town):
    page = sign_in(browser, live_server, people["viewer"])
    response = page.goto(f"{live_server.url}/incidents/imports/new/")
    assert response.status == 403
    page.goto(f"{live_server.url}/incidents/")
    shot(page, "incidents-viewer")
    # The viewer's map: counts per cell, never points.
    page.goto(f"{live_server.url}/j/{town.slug}/")
    page.wait_for_selector("[data-chart=chart-map][data-drawn=true]")
    page.set_viewport_size({"width": 1400, "height": 900})
    shot(page, "overview-viewer-cells")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "overview-viewer-cells-narrow")


@pytest.mark.skipif(
    os.environ.get("GVRS_DATABASE_URL", "") == "",
    reason="needs PostgreSQL: the in-memory SQLite test database reaches a second thread only "
    "through SQLite's shared cache, whose table locks fail a worker thread that writes while "
    "the live server reads (the SQLite job flow is in the test above and test_import_jobs)",
)
def test_an_import_through_the_web_is_a_background_job_with_its_progress(
    browser, live_server, people, tmp_path
):
    """Upload, watch the check's progress (rows read, share done) polled by htmx while a
    worker runs it, confirm, watch the import's progress, see the result."""
    import threading

    rows = [
        row(f"P-{i}", occurred_at=f"20{10 + i % 12}-0{1 + i % 9}-1{i % 10}") for i in range(120_000)
    ]
    big = write_csv(tmp_path / "big.csv", rows)
    page = sign_in(browser, live_server, people["analyst"])
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/incidents/imports/new/")
    page.set_input_files("input[name=file]", str(big))
    page.click("text=Check the file")
    page.locator("[data-testid=job-progress][data-state=queued]").wait_for()

    def worker() -> None:
        from django.db import connections

        run_queued_tasks()
        connections.close_all()

    for phase in ("check", "import"):
        thread = threading.Thread(target=worker)
        thread.start()
        # Progress arrives while the worker runs: some rows read, part of the file done. The
        # check always shows it; an import can finish between two polls, so it may show its
        # result straight away.
        done = "document.querySelector('[data-testid=import-summary]')"
        page.wait_for_function(
            "() => Number(document.querySelector('[data-field=rows-read]')?.textContent"
            f"?.replace(/,/g, '')) > 0{' || ' + done if phase == 'import' else ''}",
            timeout=300_000,
        )
        if page.locator("[data-field=share]").count():
            shot(page, f"job-{phase}-progress")
            page.set_viewport_size({"width": 390, "height": 844})
            shot(page, f"job-{phase}-progress-narrow")
            page.set_viewport_size({"width": 1400, "height": 900})
            share = int(page.locator("[data-field=share]").inner_text())
            assert 0 < share <= 100
        else:
            assert phase == "import"
        thread.join()
        if phase == "check":
            page.locator("[data-testid=preview]").wait_for(timeout=60_000)
            assert "Importing would insert 120,000" in page.inner_text("[data-testid=preview]")
            page.click("[data-testid=preview] button[type=submit]")
            page.locator("[data-testid=job-progress]").wait_for()
    page.locator("[data-testid=import-summary]").wait_for(timeout=60_000)
    assert page.locator("[data-field=inserted]").inner_text() == "120,000"
    shot(page, "job-import-done")


def test_the_evaluation_page_draws_actual_against_counterfactual(
    browser, live_server, people, tmp_path
):
    city = simulate("evaluation", years=(2019, 2023), seed=7, size=0.5)
    paths = write_city(city, tmp_path / "evaluation")
    assert import_file(paths["incidents.csv"], load_format("gvrs")).ok
    place = Jurisdiction.objects.get(name="Treated City")
    page = sign_in(browser, live_server, people["analyst"])
    page.goto(f"{live_server.url}/j/{place.slug}/")
    page.click("text=Did the strategy work?")
    page.select_option("select[name=metric]", "shootings")
    page.fill("input[name=start]", "2022-01-01")
    page.select_option("select[name=method]", "did")
    page.click("button:has-text('Evaluate')")
    page.wait_for_selector("[data-chart=chart-path][data-drawn=true]", timeout=60_000)
    page.wait_for_selector("[data-chart=chart-events][data-drawn=true]")
    verdict = page.locator("[data-testid=verdict]")
    assert verdict.inner_text().count("%") >= 1
    traces = page.evaluate("() => document.getElementById('path').data.map(t => t.name)")
    assert "actual" in traces and "counterfactual" in traces
    for width, name in ((1400, "evaluation-wide"), (390, "evaluation-narrow")):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(1000)
        shot(page, name)
