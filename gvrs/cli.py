"""The ``gvrs`` command: Django's management commands with gvrs's settings preset.

``gvrs import``, ``gvrs stats`` and the rest are management commands of the domain apps, so the
same code serves the terminal, the tests (``call_command``) and the web application. Before a
command that reads or writes the registry, the database is brought up to date, so a fresh
``GVRS_HOME`` needs no separate set-up step.
"""

from __future__ import annotations

import os
import sys

# Commands that must not trigger an automatic migration (they manage the schema themselves,
# or never touch the database).
_NO_AUTO_MIGRATE = {
    "help",
    "--help",
    "-h",
    "version",
    "--version",
    "migrate",
    "makemigrations",
    "sqlmigrate",
    "showmigrations",
    "check",
    "shell",
    "dbshell",
    "squashmigrations",
}


def ensure_database(verbosity: int = 1) -> None:
    """Apply pending migrations, saying so once; a no-op on an up-to-date database."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return
    from django.core.management import call_command

    if verbosity:
        name = connection.settings_dict["NAME"]
        print(f"Preparing the database at {name} ({len(plan)} migrations)", file=sys.stderr)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)


def _use_demo_home() -> None:
    """Point GVRS_HOME at its ``demo`` folder so the demo never touches the real registry."""
    from gvrs.env import gvrs_home

    if not os.environ.get("GVRS_DATABASE_URL"):
        os.environ["GVRS_HOME"] = str(gvrs_home() / "demo")


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["demo"]:
        _use_demo_home()
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    if args and args[0] not in _NO_AUTO_MIGRATE and not args[0].startswith("-"):
        ensure_database()
    execute_from_command_line(["gvrs", *args])


if __name__ == "__main__":
    main()
