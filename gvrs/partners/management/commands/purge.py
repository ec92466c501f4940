"""``gvrs purge``: erase the personal fields of participants whose retention period after
exit has passed, keeping what is counted. Idempotent; ``--dry-run`` says what it would do."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F
from django.utils import timezone

from gvrs.partners.actions import purge_participant
from gvrs.partners.models import Participant


class Command(BaseCommand):
    help = "Purge participants' personal fields after their program's retention period."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list, change nothing")
        parser.add_argument("--as-of", help="the date to count retention to (default today)")

    def handle(self, *args, **options) -> None:
        try:
            as_of = (
                dt.date.fromisoformat(options["as_of"])
                if options["as_of"]
                else timezone.localdate()
            )
        except ValueError:
            raise CommandError(
                f"--as-of {options['as_of']!r} is not a date (YYYY-MM-DD)", returncode=2
            ) from None
        due = [
            p
            for p in Participant.objects.filter(
                status=Participant.Status.EXITED, purged_at__isnull=True, exited_on__isnull=False
            )
            .select_related("organization", "program")
            .annotate(retention=F("program__retention_days"))
            .order_by("exited_on", "pk")
            if p.exited_on + dt.timedelta(days=p.retention) <= as_of
        ]
        verb = "would purge" if options["dry_run"] else "purged"
        for p in due:
            if not options["dry_run"]:
                purge_participant(None, p)
            self.stdout.write(
                f"{verb} participant {p.pk} of {p.organization} ({p.program}): exited"
                f" {p.exited_on}, retention {p.retention} days"
            )
        self.stdout.write(
            f"{len(due)} participant{'s' if len(due) != 1 else ''}"
            f" {'would be purged' if options['dry_run'] else 'purged'} as of {as_of};"
            " counts kept"
        )
