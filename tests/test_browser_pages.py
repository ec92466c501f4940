"""The analyst's daily page in a real browser: sign-in lands on the home jurisdiction, a filter
change leaves every chart as a direct load draws it, the map has its legend and area names, the
ranked area table sorts, and no page logs a console error. Screenshots at 1,400 and 390 px go
to test-artifacts/."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction
from tests.test_browser import ARTIFACTS, browser, sign_in  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

LAYOUT = """() => Array.from(document.querySelectorAll('[data-chart]')).map(e => {
  const box = e.getBoundingClientRect();
  const title = e.querySelector('.gtitle');
  return {
    id: e.id,
    height: Math.round(box.height),
    styled: e.classList.contains('js-plotly-plot'),
    title: title ? title.textContent : null,
    titleTop: title ? Math.round(title.getBoundingClientRect().top - box.top) : null,
  };
})"""


@pytest.fixture
def county(tmp_path, settings):
    city = simulate("small-town", years=(2019, 2022), seed=3)
    paths = write_city(city, tmp_path / "sim")
    assert import_file(paths["incidents.csv"], load_format("gvrs")).ok
    call_command(
        "boundaries",
        str(paths["neighborhoods.geojson"]),
        jurisdiction_field="town",
        parent=city.scenario.county,
        stdout=io.StringIO(),
    )
    settings.GVRS_HOME_JURISDICTION = "Small Town"
    return Jurisdiction.objects.get(name="Small Town"), city


def _watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _screens(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1400, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(400)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def test_sign_in_lands_on_the_home_jurisdiction(browser, live_server, people, county):  # noqa: F811
    town, _ = county
    page = sign_in(browser, live_server, people["analyst"])
    page.wait_for_selector("[data-testid=tiles]")
    assert page.url.rstrip("/").endswith(f"/j/{town.slug}")
    assert page.locator("h1").inner_text().startswith("Small Town")
    page.close()


def test_a_filter_change_keeps_every_charts_layout(browser, live_server, people, county):  # noqa: F811
    town, _ = county
    page = sign_in(browser, live_server, people["admin"])
    errors = _watch_console(page)
    url = f"{live_server.url}/j/{town.slug}/"
    page.goto(f"{url}?metric=shootings")
    page.wait_for_selector("#map .js-plotly-plot, #map.js-plotly-plot")
    page.wait_for_timeout(500)
    direct = page.evaluate(LAYOUT)
    page.goto(url)
    page.wait_for_selector("#annual.js-plotly-plot")
    page.select_option("select[name=metric]", "shootings")
    page.wait_for_url("**metric=shootings**")
    page.wait_for_function(
        "() => (document.querySelector('#annual .gtitle') || {}).textContent"
        " && document.querySelector('#annual .gtitle').textContent.startsWith('People shot')"
    )
    page.wait_for_timeout(800)  # past htmx's settle
    swapped = page.evaluate(LAYOUT)
    assert [c["id"] for c in swapped] == [c["id"] for c in direct]
    for before, after in zip(direct, swapped, strict=True):
        assert after["styled"], after
        assert after == before
    _screens(page, "dashboard-after-filter")
    assert errors == []
    page.close()


def test_the_map_has_a_legend_and_area_names(browser, live_server, people, county):  # noqa: F811
    town, city = county
    page = sign_in(browser, live_server, people["analyst"])
    errors = _watch_console(page)
    page.goto(f"{live_server.url}/j/{town.slug}/?metric=shootings")
    page.wait_for_selector("#map .colorbar")
    legend = page.locator("#map .colorbar").text_content()
    assert "people" in legend  # the colour scale says its unit
    title = page.locator("#map .gtitle").text_content()
    assert "People shot" in title and " to " in title  # what, and when
    names = page.evaluate("() => document.getElementById('map').data.flatMap(t => t.text || [])")
    assert set(city.geography.neighborhoods["name"]) <= set(names)
    _screens(page, "dashboard-map")
    assert errors == []
    page.close()


def test_the_ranked_area_table_sorts(browser, live_server, people, county):  # noqa: F811
    town, _ = county
    page = sign_in(browser, live_server, people["admin"])
    page.goto(f"{live_server.url}/j/{town.slug}/?metric=shootings")
    table = page.locator("[data-testid=area-table] table")
    table.wait_for()

    def column(index: int) -> list[str]:
        return table.locator(f"tbody tr td:nth-child({index})").all_inner_texts()

    counts = [int(c.replace(",", "")) for c in column(2)]
    assert counts == sorted(counts, reverse=True)  # ranked by count as served
    table.locator("th", has_text="Area").click()
    names = column(1)
    assert names == sorted(names, key=str.lower, reverse=True)
    table.locator("th", has_text="Area").click()
    assert column(1) == sorted(names, key=str.lower)
    table.locator("th", has_text="Count").click()
    counts = [int(c.replace(",", "")) for c in column(2)]
    assert counts == sorted(counts, reverse=True)
    page.close()


def test_pages_log_no_console_errors(browser, live_server, people, county):  # noqa: F811
    town, _ = county
    page = sign_in(browser, live_server, people["analyst"])
    errors = _watch_console(page)
    for path, name in (
        ("/places/?q=small", "place-finder"),
        (f"/j/{town.slug}/", "dashboard"),
        (f"/j/{town.parent.slug}/", "county"),
        ("/no/such/page/", "not-found"),
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        _screens(page, name)
    assert [e for e in errors if "404" not in e] == []
    page.close()


def test_the_headline_figures_do_not_wait_for_plotly(browser, live_server, people, county):  # noqa: F811
    """Plotly's 4.8 MB bundle is fetched after the page has loaded: at the load event the
    headline tiles are there and Plotly is not; then every chart is drawn."""
    town, _ = county
    page = sign_in(browser, live_server, people["analyst"])
    errors = _watch_console(page)
    # Read at the load event itself, by a listener added before the page's own scripts (so it
    # runs first): read after goto() returns, a loaded machine had already drawn the charts.
    page.add_init_script(
        "window.addEventListener('load', () => { window.__atLoad = {"
        " plotly: typeof window.Plotly,"
        " tiles: !!document.querySelector('[data-testid=tiles]'),"
        " drawn: document.querySelectorAll('[data-chart][data-drawn]').length}; });"
    )
    page.goto(f"{live_server.url}/j/{town.slug}/", wait_until="load")
    at_load = page.evaluate("() => window.__atLoad")
    assert at_load == {"plotly": "undefined", "tiles": True, "drawn": 0}
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(e => e.dataset.drawn)"
    )
    assert page.locator("[data-chart]").count() >= 3
    assert page.locator("script[src*=plotly]").count() == 1  # fetched once
    assert errors == []
    page.close()
