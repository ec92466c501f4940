"""The reference in docs/ is served inside the application, and every page that links to it
links to a page that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from gvrs.reports.reference import page_names

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_every_reference_page_in_docs_is_served(client_for, people):
    client = client_for(people["viewer"])
    assert set(page_names()) == {p.stem for p in DOCS.glob("*.md")}
    for name in page_names():
        response = client.get(reverse("reports-help-page", args=[name]))
        assert response.status_code == 200, name
        assert "<h1>" in response.content.decode()


def test_links_between_reference_pages_become_help_urls(client_for, people):
    page = client_for(people["viewer"]).get(reverse("reports-help")).content.decode()
    assert f'href="{reverse("reports-help-page", args=["statistics"])}"' in page
    assert '.md"' not in page


def test_a_page_that_is_not_in_docs_is_a_404(client_for, people):
    client = client_for(people["viewer"])
    for name in ("nope", "index.md", "..", "%2e%2e%2fsettings"):
        assert client.get(f"/help/{name}/").status_code == 404


def test_help_needs_a_sign_in(client):
    response = client.get(reverse("reports-help"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_raw_html_in_a_page_is_not_rendered():
    from markdown_it import MarkdownIt

    # The renderer the pages use: a page's text can show HTML, never run it.
    rendered = MarkdownIt("commonmark", {"html": False}).render("<script>x()</script>")
    assert "<script>" not in rendered


@pytest.mark.parametrize("template", sorted((ROOT / "gvrs").glob("**/templates/**/*.html")))
def test_every_help_link_in_a_template_names_a_page(template):
    for name in re.findall(r'_help\.html" with page="([^"]+)"', template.read_text()):
        assert name in page_names(), f"{template.name} links to help page {name!r}"


def test_every_docs_link_in_the_readme_and_the_docs_exists():
    for source in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(
            r"\]\(((?:docs/)?[a-z0-9-]+\.md)(?:#[^)]*)?\)", source.read_text()
        ):
            base = ROOT if target.startswith("docs/") else source.parent
            assert (base / target).exists(), f"{source.name} links to missing {target}"
