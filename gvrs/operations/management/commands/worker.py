"""``gvrs worker``: run the background jobs (imports and previews uploaded through the web).

It is django-tasks' database worker, with gvrs's upkeep first: jobs whose worker died are
marked interrupted (with the reason) and uploads no job needs are removed; the same upkeep
runs after every job. ``gvrs serve`` starts one beside the server.
"""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker

from gvrs.incidents import jobs


class Command(DatabaseWorker):
    help = "Run the background jobs (web imports and their previews) until stopped."

    def handle(self, *args, **options) -> None:
        interrupted = jobs.interrupt_dead_jobs()
        removed = jobs.purge_stale_uploads()
        if options.get("verbosity", 1) and (interrupted or removed):
            self.stdout.write(
                f"{interrupted} interrupted jobs marked, {removed} stale uploads removed"
            )
        super().handle(*args, **options)
