"""Sign-in throttling with django-axes, and the client's address as a configured proxy says.

- A lockout is per (user name, address) pair: failures for a made-up name never lock a real
  user out, and one address failing never locks out everyone behind the same proxy.
- Checking the count and recording a failure happen under one lock per pair (a PostgreSQL
  advisory lock for the transaction; on SQLite every write transaction of the attempts'
  database is serialised), so
  parallel attempts are evaluated one at a time: the sixth sees the first five.
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

LOCKED_MESSAGE = (
    "Too many failed sign-in attempts for this user name from this address. "
    "Try again in 15 minutes."
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


@contextmanager
def one_attempt_at_a_time(username: str, ip: str | None):
    """A transaction during which no other sign-in attempt for this (user name, address) is
    evaluated, so the lockout check and the failure record are one step. It is a transaction
    of the database holding the attempts (on SQLite, not the registry an import may hold)."""
    from gvrs.accounts.router import activity_alias

    alias = activity_alias()
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            key = hashlib.sha256(f"gvrs-signin|{username}|{ip}".encode()).digest()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s)",
                    [int.from_bytes(key[:8], "big", signed=True)],
                )
        yield
