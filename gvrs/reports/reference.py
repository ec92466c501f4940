"""The reference pages of docs/ served inside the application, so that a page can link to the
one that explains it and a deployment with no internet still has its manual.

The pages are the repository's docs/*.md, shipped in the package (``gvrs/docs`` points at
them); they are ours, so they are rendered as CommonMark with tables and no raw HTML, and a
link to another page (``statistics.md#periods``) becomes that page's help URL.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

PAGE_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_LINK = re.compile(r'href="([a-z][a-z0-9-]*)\.md(#[^"]*)?"')


def _docs():
    return files("gvrs") / "docs"


def page_names() -> list[str]:
    return sorted(p.name[:-3] for p in _docs().iterdir() if p.name.endswith(".md"))


@lru_cache(maxsize=64)
def rendered(name: str) -> tuple[str, str]:
    """(title, HTML) of one page; the title is its first heading."""
    text = (_docs() / f"{name}.md").read_text(encoding="utf-8")
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), name)
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    html = _LINK.sub(
        lambda m: f'href="{reverse("reports-help-page", args=[m.group(1)])}{m.group(2) or ""}"',
        html,
    )
    return title, html


@login_required
def help_page(request: HttpRequest, name: str = "index") -> HttpResponse:
    if not PAGE_NAME.match(name) or name not in page_names():
        raise Http404("no such help page")
    title, html = rendered(name)
    return render(request, "reports/help.html", {"title": title, "body": mark_safe(html)})
