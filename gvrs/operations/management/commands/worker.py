"""``gvrs worker``: run the background jobs (imports and previews uploaded through the web,
scheduled imports, emails).

It is django-tasks' database worker, with gvrs's upkeep first: jobs whose worker died are
marked interrupted (with the reason) and uploads no job needs are removed; the same upkeep
runs after every job. Its clock (``gvrs.operations.clock``) queues the scheduled imports that
are due and the emails to send every ``GVRS_WORKER_CLOCK_S`` seconds (``--no-clock``: not in
this worker). It writes a heartbeat every few seconds (``gvrs.operations.heartbeat``), which
``/readyz`` reads. ``gvrs serve`` starts one beside the server.
"""

from __future__ import annotations

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker

from gvrs.incidents import jobs
from gvrs.operations import clock, heartbeat


class Command(DatabaseWorker):
    help = "Run the background jobs (web imports, scheduled imports, emails) until stopped."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-clock",
            action="store_true",
            help="do not queue scheduled imports and emails from this worker",
        )

    def handle(self, *args, **options) -> None:
        interrupted = jobs.interrupt_dead_jobs()
        removed = jobs.purge_stale_uploads()
        if options.get("verbosity", 1) and (interrupted or removed):
            self.stdout.write(
                f"{interrupted} interrupted jobs marked, {removed} stale uploads removed"
            )
        # /readyz: a worker is alive; and a job whose worker was killed is marked interrupted
        # within STALE_AFTER_S + 10 s, even when no other job runs here to trigger the upkeep.
        heartbeat.start(chore=jobs.interrupt_dead_jobs)
        if not options.pop("no_clock", False):
            clock.start(settings.GVRS_WORKER_CLOCK_S)
        super().handle(*args, **options)
