"""axe-core in the browser tests: WCAG 2.1 A and AA rules run on a page as a reader has it.

The script is the npm package's (package.json pins it; `make install` and `make browser` run
`npm ci`), injected by Playwright from node_modules: never a CDN, never served to users. The site's
Content-Security-Policy forbids inline scripts, so the pages checked are opened in a browser
context made with ``bypass_csp=True`` (``context()``); nothing else about the page changes. Each
check writes its findings to test-artifacts/axe-<name>.json and returns the violations by
impact; the tests allow none at the serious and critical levels.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
IMPACTS = ("critical", "serious", "moderate", "minor")


def require_axe() -> None:
    if not AXE.exists():
        # make install and make browser run `npm ci`: a missing axe-core is a broken install,
        # which must fail the accessibility tests, never skip them unseen.
        pytest.fail(f"axe-core is not installed at {AXE}: run make install (it runs npm ci)")


def context(browser, **options):
    """A browser context that lets Playwright inject axe-core past the site's CSP."""
    return browser.new_context(bypass_csp=True, **options)


def sign_in(browser, live_server, user, password: str):
    page = context(browser, viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/**")
    return page


def axe(page, name: str) -> dict[str, list[dict]]:
    """The page's WCAG 2.1 A/AA violations by impact: {"serious": [{"id", "help",
    "nodes": [selector, ...]}, ...], ...}; written to test-artifacts/axe-<name>.json."""
    require_axe()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values:"
        " tags}, resultTypes: ['violations']}); return r.violations.map(v => ({id: v.id,"
        " impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})); }",
        TAGS,
    )
    found: dict[str, list[dict]] = {impact: [] for impact in IMPACTS}
    for violation in result:
        found[violation["impact"] or "minor"].append(violation)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(found, indent=1))
    counts = {impact: len(v) for impact, v in found.items() if v}
    print(f"axe {name}: {counts or 'no violations'}")
    return found


def serious(found: dict[str, list[dict]]) -> list[tuple[str, str, list[str]]]:
    """The violations a test must not allow: (id, help, first nodes) of each serious or
    critical one."""
    return [
        (v["id"], v["help"], v["nodes"][:3])
        for impact in ("critical", "serious")
        for v in found[impact]
    ]
