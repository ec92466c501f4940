"""A strict Content-Security-Policy for every response.

Scripts only from our own origin (no inline script, no CDN): charts are drawn by our own
static JavaScript from JSON data blocks. Plotly sets inline styles on the elements it draws,
so styles allow 'unsafe-inline'; images allow data: URIs for Plotly's icons. Maps are drawn
by MapLibre (inside Plotly's bundle), which runs its tile work in a web worker started from a
blob: URL; a street basemap (``GVRS_MAP_TILES``) adds exactly that tile server's origin.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit


def content_security_policy(map_tiles: str = "") -> str:
    """The policy, with the map tile server's origin (and only it) allowed when one is set."""
    parts = urlsplit(map_tiles) if map_tiles else None
    tiles = f" {parts.scheme}://{parts.netloc}" if parts and parts.scheme and parts.netloc else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob:{tiles}",
            "font-src 'self'",
            f"connect-src 'self'{tiles}",
            "worker-src 'self' blob:",
            "child-src blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


POLICY = content_security_policy()


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.policy = content_security_policy(settings.GVRS_MAP_TILES)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


class NoStoreForSignedInMiddleware:
    """Pages for a signed-in user hold police records, restricted fields or partner data: no
    browser or proxy keeps a copy (``Cache-Control: no-store, private``). A response that
    holds none of it and is versioned by its URL (the areas' shapes) says so with
    ``response.keep_in_browser = True`` and keeps its own header."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if getattr(response, "keep_in_browser", False):
            return response
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
