"""The one write a sign-in makes to the registry's database: the user's ``last_login``.

On SQLite the registry is one file with one writer at a time, and an import holds it for its
whole transaction. Everything else a sign-in writes is in the activity database
(``accounts.router``); ``last_login`` belongs to the user's row, so it is written only if the
registry is free within a moment, and otherwise left as it was (the sign-in itself goes on;
the next sign-in after the import records it). Elsewhere this is Django's own receiver.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.models import update_last_login as django_update_last_login
from django.db import OperationalError, connections, router, transaction

from gvrs.accounts.router import ACTIVITY

logger = logging.getLogger(__name__)
WAIT_MS = 200  # how long a sign-in waits for the registry before leaving last_login


@contextmanager
def _busy_timeout(connection, ms: int):
    """SQLite's wait for another writer set to ``ms`` on this connection, then restored."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout = {int(ms)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(before)}")


def update_last_login(sender, user, **kwargs) -> None:
    alias = router.db_for_write(type(user), instance=user)
    connection = connections[alias]
    if connection.vendor != "sqlite" or ACTIVITY not in settings.DATABASES:
        django_update_last_login(sender, user, **kwargs)
        return
    try:
        with _busy_timeout(connection, WAIT_MS), transaction.atomic(using=alias):
            django_update_last_login(sender, user, **kwargs)
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        logger.info("last_login of %s left as it was: the registry is busy (an import)", user)
