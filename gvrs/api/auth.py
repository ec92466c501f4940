"""Who is asking: a personal token (``gvrs.accounts.tokens``) sent as ``Authorization: Bearer``
or, for tools that can only fetch a URL, as the ``access_token`` query parameter (RFC 6750,
section 2.3). Requests with a token are throttled per token.

The token's user becomes ``request.user``, so every permission check is the one the pages
make, with the user's roles as they are now.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from ninja.security import APIKeyQuery, HttpBearer
from ninja.throttling import BaseThrottle

from gvrs.accounts import tokens

QUERY_PARAMETER = "access_token"


def _signed_in(request, secret: str):
    found = tokens.authenticate(secret)
    if found is None:
        return None
    request.user, request.api_token = found
    return found[1]


class BearerToken(HttpBearer):
    """``Authorization: Bearer gvrs_…``"""

    def authenticate(self, request, token: str):
        return _signed_in(request, token)


class QueryToken(APIKeyQuery):
    """``?access_token=gvrs_…``, for a spreadsheet's "from web" that cannot set a header. A URL
    is written to browser histories and proxy logs: docs/api.md says so, and the header is
    the way to prefer."""

    param_name = QUERY_PARAMETER

    def authenticate(self, request, key: str | None):
        return _signed_in(request, key) if key else None


TOKEN = [BearerToken(), QueryToken()]


def parse_rate(text: str) -> tuple[int, int]:
    """ "600/minute" -> (600, 60): requests allowed per window of seconds."""
    count, _, unit = text.partition("/")
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}.get(unit.rstrip("s"))
    if seconds is None or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{text!r}: give a rate as N/second, N/minute, N/hour or N/day")
    return int(count), seconds


class TokenRate(BaseThrottle):
    """At most ``GVRS_API_RATE`` requests per token per window, counted in the shared cache
    (every app server sees the same count). A fixed window: one counter per token and
    window, one read and one write per request."""

    def allow_request(self, request) -> bool:
        token = getattr(request, "api_token", None)
        if token is None:
            return True
        allowed, seconds = parse_rate(settings.GVRS_API_RATE)
        window = int(time.time() // seconds)
        key = f"api-rate-{token.pk}-{seconds}-{window}"
        self.reset_at = (window + 1) * seconds
        if cache.add(key, 1, seconds + 5):
            return True
        try:
            used = cache.incr(key)
        except ValueError:  # expired between the two calls: a new window
            cache.set(key, 1, seconds + 5)
            return True
        return used <= allowed

    def wait(self) -> float | None:
        return max(0.0, getattr(self, "reset_at", time.time()) - time.time())
