"""Accessibility of the public pages and of every page of the navigation, in a real browser:
axe-core (WCAG 2.1 A and AA rules) finds no serious or critical violation on any of them, and
the public dashboard is usable with the keyboard alone (Tab, Enter, Space; the year's list
with its arrow keys, as every native list). Counts per page are printed (pytest -s) and
written to test-artifacts/axe-*.json."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gvrs.navigation import items_for
from gvrs.public.models import PublicDashboard
from tests.a11y import axe, context, require_axe, serious, sign_in
from tests.personas import PASSWORD
from tests.test_browser import browser  # noqa: F401 (the fixture)
from tests.test_browser_pages import county  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def published(county):  # noqa: F811
    town, _ = county
    PublicDashboard.objects.create(jurisdiction=town, enabled=True)
    return town


def _settle(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


def test_the_public_pages_have_no_serious_accessibility_violation(browser, live_server, published):  # noqa: F811
    require_axe()
    opened = context(browser, viewport={"width": 1280, "height": 900})
    page = opened.new_page()
    failures = {}
    for name, path in (
        ("public-index", "/public/"),
        ("public-dashboard", f"/public/{published.slug}/"),
        ("public-dashboard-year", f"/public/{published.slug}/?year=2020"),
        ("public-refused", f"/public/{published.slug}/?year=1999"),
        ("public-dashboard-es", f"/public/language/es/?next=/public/{published.slug}/"),
        ("public-index-es", "/public/"),
    ):
        page.goto(f"{live_server.url}{path}")
        _settle(page)
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-chart]')].every(e => e.dataset.drawn)"
        )
        found = axe(page, name)
        if serious(found):
            failures[name] = serious(found)
    opened.close()
    assert failures == {}


def test_every_page_of_the_navigation_for_each_role(browser, live_server, people, county):  # noqa: F811
    """Each role's navigation, page by page (the Django administration is Django's own and is
    left out)."""
    require_axe()
    failures = {}
    for role in ("admin", "analyst", "police", "partner", "viewer"):
        user = people[role]
        page = sign_in(browser, live_server, user, PASSWORD)
        for item in items_for(user):
            if item.staff:
                continue
            page.goto(f"{live_server.url}{reverse(item.url_name)}")
            _settle(page)
            found = axe(page, f"{role}-{item.url_name}")
            if serious(found):
                failures[f"{role} {item.url_name}"] = serious(found)
        page.context.close()
    assert failures == {}


def test_the_public_dashboard_works_with_the_keyboard_alone(browser, live_server, published):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/public/{published.slug}/")
    _settle(page)

    def focused() -> str:
        return page.evaluate(
            "() => { const e = document.activeElement; return (e.dataset.testid || e.className"
            " || e.tagName) + '|' + (e.textContent || '').trim().slice(0, 40); }"
        )

    def tab_to(predicate, limit: int = 200) -> str:
        for _ in range(limit):
            page.keyboard.press("Tab")
            where = focused()
            if predicate(where):
                return where
        raise AssertionError("not reached with Tab")

    # The first Tab reaches the skip link, visible when focused; Enter moves to the content.
    page.keyboard.press("Tab")
    assert focused().startswith("skip-link")
    assert page.locator(".skip-link").bounding_box()["y"] >= 0
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "content"
    # The download: Tab to it, Enter.
    tab_to(lambda w: w.startswith("download|"))
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.startswith(f"{published.slug}-latest-")
    # Sorting the table of areas: Tab to its first numeric heading, Space, then Enter.
    table = page.locator("table[data-table=areas]")
    tab_to(lambda w: w.startswith("sort|") and w.split("|")[1][:4].isdigit())
    page.keyboard.press("Space")
    heading = table.locator("thead th").nth(1)
    assert heading.get_attribute("aria-sort") == "descending"
    values = [
        int(t.replace(",", "")) if t.replace(",", "").isdigit() else -1
        for t in table.locator("tbody td").all_inner_texts()
    ]
    assert values == sorted(values, reverse=True)
    page.keyboard.press("Enter")
    assert heading.get_attribute("aria-sort") == "ascending"
    assert table.locator("tfoot th").inner_text() == "Total"  # the total stays last
    # The year of the breakdowns: Tab to the list, an arrow key, Tab to Show, Enter.
    year = page.locator("select[name=year]")
    before = year.input_value()
    tab_to(lambda w: w.startswith("SELECT"))
    page.keyboard.press("ArrowUp")
    chosen = year.input_value()
    assert chosen != before
    tab_to(lambda w: w.endswith("|Show"), limit=3)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**?year={chosen}")
    assert chosen in page.locator("[data-testid=breakdowns] h2").inner_text()
    # The language switch is reached the same way.
    page.keyboard.press("Tab")
    tab_to(lambda w: w.endswith("|Español"))
    page.keyboard.press("Enter")
    page.wait_for_selector("html[lang=es]")
    context.close()
