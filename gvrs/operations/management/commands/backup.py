"""``gvrs backup FILE``: a consistent copy of the whole database, taken while serving."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from gvrs.operations.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database to FILE (SQLite online backup, or pg_dump custom format)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")

    def handle(self, *args, **options) -> None:
        try:
            self.stdout.write(backup(options["file"]))
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc), returncode=1) from None
