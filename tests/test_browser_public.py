"""The public dashboard in a real browser, never signed in: the charts and the area map draw
with no console error, suppressed cells read as such, the year choice works without
JavaScript, and the download is offered. Screenshots at 1,400 and 390 px go to
test-artifacts/."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction
from gvrs.public.models import PublicDashboard
from tests.test_browser import ARTIFACTS, browser  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def county(tmp_path):
    """A Kern-like county, as the demo builds it, with its public dashboard on."""
    city = simulate("bakersfield-like", years=(2020, 2023), seed=2)
    paths = write_city(city, tmp_path / "sim")
    assert import_file(paths["incidents.csv"], load_format("gvrs"), state="CA").ok
    call_command("populations", str(paths["populations.csv"]), state="CA", stdout=io.StringIO())
    call_command(
        "boundaries",
        str(paths["neighborhoods.geojson"]),
        jurisdiction_field="town",
        parent=city.scenario.county,
        state="CA",
        stdout=io.StringIO(),
    )
    place = Jurisdiction.objects.named(city.scenario.county)
    PublicDashboard.objects.create(jurisdiction=place, enabled=True)
    return place


def test_a_visitor_reads_the_public_dashboard(browser, live_server, county):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/public/{county.slug}/")
    for chart in ("chart-annual", "chart-monthly", "chart-map"):
        page.wait_for_selector(f"[data-chart={chart}][data-drawn=true]")
    assert page.locator("h1").inner_text().startswith("Kern-like County")
    # A hidden count reads as such, never as zero or blank.
    hidden = page.locator("td.fewer, td.suppressed")
    assert hidden.count() > 0
    assert {t.strip() for t in hidden.all_inner_texts()} <= {"fewer than 11", "suppressed"}
    assert page.locator("[data-testid=coverage]").inner_text().startswith("Data coverage.")
    assert "Last imported" in page.locator("[data-testid=last-imported]").inner_text()
    # The map's areas carry their names on hover; the map has a colour scale in people.
    names = page.evaluate(
        "() => document.getElementById('map').data.flatMap(t => t.locations || [])"
    )
    assert len(names) > 5
    unit = page.evaluate("() => document.getElementById('map').data[0].colorbar.title.text")
    assert unit == "people"
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1400, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"public-{width}.png"), full_page=True)
    # The year of the breakdowns is a plain form.
    page.set_viewport_size({"width": 1400, "height": 900})
    page.select_option("select[name=year]", "2021")
    page.click("[data-testid=breakdowns] button[type=submit]")
    page.wait_for_url("**?year=2021")
    page.wait_for_selector("[data-chart=chart-map][data-drawn=true]")
    assert "2021" in page.locator("[data-testid=breakdowns] h2").inner_text()
    with page.expect_download() as download:
        page.click("[data-testid=download]")
    assert download.value.suggested_filename.startswith(f"{county.slug}-2021-")
    assert errors == []
    # No cookie was ever set for the visitor.
    assert context.cookies() == []
    context.close()


def test_a_visitor_switches_the_dashboard_to_spanish(browser, live_server, county):  # noqa: F811
    """The language switch is a link: the page comes back in Spanish, with its charts, and
    stays in Spanish on the next visit (the cookie); a browser that prefers Spanish gets it
    at once. Screenshots of the Spanish page at 1,440 and 390 px."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/public/{county.slug}/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("[data-testid=languages] a[lang=es]")
    page.wait_for_selector("html[lang=es]")
    for chart in ("chart-annual", "chart-monthly", "chart-map"):
        page.wait_for_selector(f"[data-chart={chart}][data-drawn=true]")
    assert page.locator("[data-testid=coverage]").inner_text().startswith("Período de los datos.")
    assert "ene–" in page.locator("[data-testid=ytd-sentence]").inner_text()
    hidden = {t.strip() for t in page.locator("td.fewer, td.suppressed").all_inner_texts()}
    assert hidden <= {"menos de 11", "oculto"} and hidden
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"public-es-{width}.png"), full_page=True)
    # Remembered: a new visit is in Spanish.
    page.goto(f"{live_server.url}/public/{county.slug}/?year=2021")
    assert page.locator("html").get_attribute("lang") == "es"
    assert [c["name"] for c in context.cookies()] == ["django_language"]
    context.close()
    # A browser whose first language is Spanish.
    context = browser.new_context(locale="es-MX")
    page = context.new_page()
    page.goto(f"{live_server.url}/public/{county.slug}/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert errors == []
    context.close()
