"""A strict Content-Security-Policy for every response.

Scripts only from our own origin (no inline script, no CDN): charts are drawn by our own
static JavaScript from JSON data blocks. Plotly sets inline styles on the elements it draws,
so styles allow 'unsafe-inline'; images allow data: URIs for Plotly's icons.
"""

from __future__ import annotations

import logging

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


class NoStoreForSignedInMiddleware:
    """Pages for a signed-in user hold police records, restricted fields or partner data: no
    browser or proxy keeps a copy (``Cache-Control: no-store, private``)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.headers["Cache-Control"] = "no-store, private"
        return response


class NoTracebackBelow500(logging.Filter):
    """A refused request (403, 404, 429) is logged in one line: its traceback says nothing
    an operator needs and fills the log. Server errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
