"""``gvrs restore FILE``: replace the database's contents with a backup from ``gvrs backup``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from gvrs.operations.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore the database from a FILE written by `gvrs backup` (replaces everything)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")

    def handle(self, *args, **options) -> None:
        try:
            self.stdout.write(restore(options["file"]))
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc), returncode=1) from None
        # A backup from an older gvrs is brought up to this one's schema.
        from gvrs.operations.database import ensure_database

        ensure_database(verbosity=options.get("verbosity", 1))
