"""The API's browsable docs and the token page in a real browser: Swagger UI draws every
operation from the installed package under the site's Content-Security-Policy (no console
error, nothing fetched from another origin), and a token made on the page, pasted into the
docs' "Authorize", reads a series. Screenshots at 1,440 and 390 px go to test-artifacts/."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.test_browser import ARTIFACTS, browser, sign_in  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _screens(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_token_made_on_the_page_reads_a_series_through_the_docs(
    browser,  # noqa: F811
    live_server,
    people,
    city,
):
    page = sign_in(browser, live_server, people["analyst"], {"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/accounts/tokens/")
    page.fill("#id_name", "Power BI")
    page.click("form.token-form button")
    secret = page.locator("code.secret").inner_text().strip()
    assert secret.startswith("gvrs_")
    _screens(page, "api-token-made")

    errors: list[str] = []
    origins: set[str] = set()
    docs = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    docs.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    docs.on("pageerror", lambda e: errors.append(str(e)))
    docs.on("request", lambda r: origins.add(urlsplit(r.url).netloc))
    docs.goto(f"{live_server.url}/api/v1/docs")
    docs.wait_for_selector(".opblock-summary-path")
    paths = docs.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/places/{slug}/series" in [p.strip() for p in paths]
    assert len(paths) == 14
    _screens(docs, "api-docs")

    # Authorize with the token, then try the series operation.
    docs.click("button.authorize")
    docs.locator(".auth-container input").first.fill(secret)
    docs.locator(".auth-container button.authorize").first.click()
    docs.locator("button.btn-done").first.click()
    series = docs.locator("#operations-figures-gvrs_api_figures_series")
    series.locator(".opblock-summary").click()
    series.locator("button.try-out__btn").click()
    series.locator("input[placeholder=slug]").fill(city)
    series.locator("button.execute").click()
    answer = series.locator(".live-responses-table tbody .response-col_status")
    answer.first.wait_for()
    assert answer.first.inner_text().strip() == "200"
    assert '"homicides"' in series.locator(".live-responses-table").inner_text()
    docs.screenshot(path=str(ARTIFACTS / "api-docs-series-answer-1440.png"), full_page=False)
    assert not errors, errors
    assert origins == {urlsplit(live_server.url).netloc}
    docs.close()
    page.close()
