"""Load what the first request would otherwise load: every view module and what they import
(pandas, scipy, plotly, matplotlib for the council report), the landing pages' templates and
the manifest of static files.

A server process pays these imports once. Paid inside the first request, they made the first
dashboard visit after a start about 600 ms slower than the next one (issue 17's bench). The
development server calls this before it listens; gunicorn loads the application with
``--preload``, so its workers are forked with all of it already in memory. No database is
touched here, so no connection is opened before the fork.
"""

from __future__ import annotations

TEMPLATES = (
    "reports/overview.html",
    "reports/_dashboard.html",
    "reports/index.html",
    "accounts/login.html",
    "base.html",
)


def preload() -> None:
    """Import every view and compile the landing templates; safe to call more than once."""
    import plotly.graph_objects as go
    from django.template.loader import get_template
    from django.templatetags.static import static
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - importing every URLconf imports every view
    go.Figure(go.Scatter(x=[0], y=[0])).to_plotly_json()  # plotly's validators load lazily
    for name in TEMPLATES:
        get_template(name)
    static("gvrs/site.css")  # with hashed names, this reads the manifest of static files
