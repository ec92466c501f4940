"""Sign-in activity in a SQLite database of its own, so an import never blocks a sign-in.

SQLite has one writer at a time per database file, and an import writes the registry in one
transaction (bad input never leaves anything half-written), for as long as it takes to read
a million rows. Everything a sign-in or a page view writes (the session, django-axes' attempt
counters, the audit log, API tokens and the page cache) lives in a second file, ``ACTIVITY``,
whose writers wait only for each other.
The user's ``last_login`` is the one write a sign-in makes to the registry's file; it is
skipped while an import holds that file (``accounts.signals``), and the audit log's
``login`` event keeps the time.

On PostgreSQL, whose writers lock rows, not the database, there is one database and this
router says nothing.
"""

from __future__ import annotations

from django.conf import settings

ACTIVITY = "activity"
# (app label, model name or None for every model of the app)
_ROUTED = {
    ("sessions", None),
    ("axes", None),
    ("accounts", "auditevent"),
    ("accounts", "apitoken"),  # a token's use is written on every request that uses it
    ("evaluation", "evaluationrun"),  # written by the evaluation page as it answers
    ("operations", "workerheartbeat"),  # written while an import holds the registry's file
    ("django_cache", None),  # the database cache's table (rendered dashboards)
}


def activity_alias() -> str:
    """The database alias holding sessions, sign-in attempts and the audit log."""
    return ACTIVITY if ACTIVITY in settings.DATABASES else "default"


def _routed(app_label: str, model_name: str | None) -> bool:
    return (app_label, None) in _ROUTED or (app_label, model_name) in _ROUTED


class ActivityRouter:
    def _db(self, model) -> str | None:
        if ACTIVITY not in settings.DATABASES:
            return None
        # Said outright for the others too: Django would otherwise look an audit event's
        # user up in the event's own database.
        return ACTIVITY if _routed(model._meta.app_label, model._meta.model_name) else "default"

    def db_for_read(self, model, **hints) -> str | None:
        return self._db(model)

    def db_for_write(self, model, **hints) -> str | None:
        return self._db(model)

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # An audit event or a session names its user by id: the audit log keeps the reference
        # without a database constraint (AuditEvent.user), sessions by a value in their data.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints):
        if ACTIVITY not in settings.DATABASES:
            return None
        if _routed(app_label, model_name):
            return db == ACTIVITY
        # Nothing else lives in the activity file (an app's code-only operations included).
        return db != ACTIVITY


def move_to_activity(using: str, replace: bool = False, **kwargs) -> None:
    """After the activity database is migrated (a post_migrate receiver): an installation
    made before it existed has its sessions, sign-in attempts, audit log and cache in the
    registry's file; their rows are copied into the activity database and the old tables
    dropped, once. Nothing is lost: the drop happens only after the copy committed.

    ``replace`` (a restore, whose backup file holds both databases' tables): the activity
    tables' rows are those of the backup, not added to."""
    from django.apps import apps
    from django.db import connections, transaction

    if using != ACTIVITY:
        return
    registry, activity = connections["default"], connections[ACTIVITY]
    in_registry = set(registry.introspection.table_names())
    tables = [
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if _routed(model._meta.app_label, model._meta.model_name)
        and model._meta.db_table in in_registry
    ]
    # Cached pages are not moved: they are made again (and the cache's table is created in
    # the activity database after its migrations).
    cached = [t for t in [_cache_table()] if t and t in in_registry]
    if not tables and not cached:
        return
    # SQLite attaches a database only outside a transaction.
    with activity.cursor() as cursor:
        cursor.execute("ATTACH DATABASE %s AS registry", [str(registry.settings_dict["NAME"])])
    try:
        with transaction.atomic(using=ACTIVITY), activity.cursor() as cursor:
            for table in tables:
                if replace:
                    cursor.execute(f'DELETE FROM main."{table}"')
                cursor.execute(f'PRAGMA main.table_info("{table}")')
                columns = ", ".join(f'"{row[1]}"' for row in cursor.fetchall())
                cursor.execute(
                    f'INSERT OR IGNORE INTO main."{table}" ({columns}) '
                    f'SELECT {columns} FROM registry."{table}"'
                )
    finally:
        with activity.cursor() as cursor:
            cursor.execute("DETACH DATABASE registry")
    with transaction.atomic(), registry.cursor() as cursor:
        for table in tables + cached:
            cursor.execute(f'DROP TABLE "{table}"')


def _cache_table() -> str | None:
    from django.conf import settings

    cache = settings.CACHES.get("default", {})
    if cache.get("BACKEND", "").endswith("DatabaseCache"):
        return cache["LOCATION"]
    return None
