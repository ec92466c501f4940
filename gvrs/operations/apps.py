from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OperationsConfig(AppConfig):
    name = "gvrs.operations"
    verbose_name = "Operations: serving, jobs, backups, the demo"

    def ready(self) -> None:
        # The cache lives in a database table that no migration makes: every migrate (gvrs's
        # own start-up, `gvrs django migrate` in a deployment recipe) makes it too, else the
        # first page of a freshly migrated server answers 500.
        post_migrate.connect(_cache_table, sender=self, dispatch_uid="gvrs-cache-table")


def _cache_table(**kwargs) -> None:
    """On every database: the router puts the table in the one it belongs to (the activity
    database, ``gvrs.accounts.router``), whichever database was migrated."""
    from django.core.management import call_command
    from django.db import connections

    for alias in connections:
        call_command("createcachetable", database=alias, verbosity=0)
