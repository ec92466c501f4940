"""The database brought up to date before a command uses it, so a fresh ``GVRS_HOME`` needs no
set-up step."""

from __future__ import annotations

import sys

from django.core.management import call_command
from django.db import connections
from django.db.migrations.executor import MigrationExecutor


def ensure_database(verbosity: int = 1) -> None:
    """Apply pending migrations to each database (on SQLite, the registry and the activity
    database beside it), saying so once; a no-op when they are up to date."""
    pending = {}
    for alias in connections:  # "default" first: the activity database's move reads it
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            pending[alias] = plan
    if not pending:
        return
    for alias, plan in pending.items():
        if verbosity:
            name = connections[alias].settings_dict["NAME"]
            print(f"Preparing the database at {name} ({len(plan)} migrations)", file=sys.stderr)
        call_command("migrate", database=alias, interactive=False, verbosity=0)
        call_command("createcachetable", database=alias, verbosity=0)
