"""The Reports page in a real browser: an analyst fills in the form, reads the report in the
page (its charts and map as images), downloads the PDF, and no console error is logged.
Screenshots at 1,400 and 390 px go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.council_helpers import make_town
from tests.test_browser import ARTIFACTS, browser, sign_in  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_an_analyst_makes_the_report_and_downloads_the_pdf(
    browser,  # noqa: F811
    live_server,
    people,
    tmp_path,
):
    make_town(tmp_path)
    page = sign_in(browser, live_server, people["analyst"])
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.click("header.site nav >> text=Council report")
    page.fill("#id_place", "Bakersfield")
    page.fill("#id_period", "2022")
    page.fill("#id_baseline", "2019")
    page.click("text=Make the report")
    page.wait_for_selector("article.council")
    report = page.locator("article.council")
    assert "Shooting incidents fell 7%, from 150 in 2021 to 140 in 2022" in report.inner_text()
    assert "A comparison of before and after is not evidence" in report.inner_text()
    # Charts and the map are vector images that loaded (an <img> that failed has no width).
    images = report.locator("figure img")
    assert images.count() == 3  # two history charts and the map
    for i in range(images.count()):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1400, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"council-report-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    with page.expect_download() as download:
        page.click("[data-testid=pdf-link]")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "gvrs-report-bakersfield-2022.pdf"
    assert saved.read_bytes().startswith(b"%PDF-")
    assert errors == []
    page.close()
