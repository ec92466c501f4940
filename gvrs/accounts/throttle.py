"""Sign-in throttling with django-axes, and the client's address as a configured proxy says.

- A lockout is per (user name, address) pair: failures for a made-up name never lock a real
  user out, and one address failing for one name never locks out everyone behind the same
  proxy.
- Besides, an address is locked out after ``GVRS_SIGNIN_FAILURES_PER_ADDRESS`` failures
  across all user names (20 by default) within the cool-off: one address spraying a few
  passwords at each of many names (20 names x 4 passwords stays under the per-pair limit)
  is stopped at its 20th failure (``gvrs.accounts.lockout``).
- Checking the counts and recording a failure happen under one lock per address (a
  PostgreSQL advisory lock for the transaction; on SQLite every write transaction of the
  attempts' database is serialised), so parallel attempts from one address are evaluated
  one at a time: the sixth for a name sees the first five, the 21st for an address the
  first twenty.
- The client's address comes from ``X-Forwarded-For`` only when the request arrives from one
  of ``GVRS_TRUSTED_PROXIES``; otherwise from the connection itself. ``X-Forwarded-Proto`` is
  believed on the same condition (``TrustedProxyMiddleware``).
"""

from __future__ import annotations

import hashlib
import ipaddress
from contextlib import contextmanager

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Sum

LOCKED_MESSAGE = (
    "Too many failed sign-in attempts for this user name from this address. "
    "Try again in 15 minutes."
)
ADDRESS_LOCKED_MESSAGE = (
    "Too many failed sign-in attempts from this address. Try again in 15 minutes."
)


def _trusted(address: str | None) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(p, strict=False) for p in settings.GVRS_TRUSTED_PROXIES)


def client_ip(request) -> str | None:
    """The client's address: the connection's, unless the connection is a trusted proxy, in
    which case the last address in ``X-Forwarded-For`` that is not itself a trusted proxy
    (the one the proxy saw; earlier entries are whatever the client chose to send)."""
    remote = request.META.get("REMOTE_ADDR")
    if not _trusted(remote):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return remote  # a malformed header: fall back to the proxy itself
        if not _trusted(address):
            return address
    return remote


class TrustedProxyMiddleware:
    """Believe ``X-Forwarded-Proto: https`` only from a trusted proxy (Django's
    SECURE_PROXY_SSL_HEADER would believe it from anyone)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _trusted(request.META.get("REMOTE_ADDR")):
            proto = request.META.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip()
            if proto in ("http", "https"):
                request.META["wsgi.url_scheme"] = proto
        return self.get_response(request)


def address_failures(request, ip: str | None) -> int:
    """Failed sign-ins from ``ip`` for any user name within the cool-off (django-axes keeps
    one row per user name, address and browser, each with its count)."""
    from axes.attempts import get_cool_off_threshold
    from axes.models import AccessAttempt

    if not ip:
        return 0
    found = AccessAttempt.objects.filter(
        ip_address=ip, attempt_time__gte=get_cool_off_threshold(request)
    ).aggregate(failures=Sum("failures_since_start"))
    return found["failures"] or 0


def locked_message(request) -> str:
    """What a locked-out attempt is told: which of the two limits it reached."""
    if getattr(request, "gvrs_address_locked", False):
        return ADDRESS_LOCKED_MESSAGE
    return LOCKED_MESSAGE


@contextmanager
def one_attempt_at_a_time(username: str, ip: str | None):
    """A transaction during which no other sign-in attempt from this address is evaluated, so
    the lockout checks (per user name and address, and per address) and the failure record
    are one step. It is a transaction of the database holding the attempts (on SQLite, not
    the registry an import may hold). ``username`` is not part of the lock: attempts from one
    address at many names must be counted one at a time too."""
    from gvrs.accounts.router import activity_alias

    alias = activity_alias()
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            key = hashlib.sha256(f"gvrs-signin|{ip}".encode()).digest()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s)",
                    [int.from_bytes(key[:8], "big", signed=True)],
                )
        yield
