"""``gvrs scheduled_imports``: run the scheduled imports that are due (for cron or a systemd
timer; ``gvrs worker`` runs them too). Idempotent: a file already imported is "nothing
changed". Prints one line per run."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from gvrs.incidents.models import ScheduledImport, ScheduledRun
from gvrs.incidents.scheduled import describe, run_due, run_schedule


class Command(BaseCommand):
    help = "Run the scheduled imports that are due (a watched folder or an HTTPS address)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="every enabled one, due or not")
        parser.add_argument("--name", help="only this one (due or not)")
        parser.add_argument("--list", action="store_true", help="list them and their last run")

    def handle(self, *args, **options) -> None:
        if options["list"]:
            self._list()
            return
        if options["name"]:
            schedule = ScheduledImport.objects.filter(name=options["name"]).first()
            if schedule is None:
                names = ", ".join(ScheduledImport.objects.values_list("name", flat=True))
                raise CommandError(
                    f"no scheduled import {options['name']!r}; there are: {names or 'none'}",
                    returncode=2,
                )
            runs = run_schedule(schedule)
        else:
            runs = run_due(every=options["all"])
        for run in runs:
            self.stdout.write(describe(run))
        if not runs:
            self.stdout.write("no scheduled import is due")
        if any(run.outcome == ScheduledRun.Outcome.FAILED for run in runs):
            raise CommandError("a scheduled import failed (see above)", returncode=1)

    def _list(self) -> None:
        for schedule in ScheduledImport.objects.all():
            last = schedule.runs.first()
            source = schedule.url or f"{schedule.folder}/{schedule.pattern}"
            state = "on" if schedule.enabled else "off"
            self.stdout.write(
                f"{schedule.name} ({state}, every {schedule.every_minutes} min): {source}; "
                + (f"last: {describe(last)}" if last else "never run")
            )
