"""Running queued background tasks inside a test, as ``gvrs worker`` runs them."""

from __future__ import annotations


def run_queued_tasks(*, warm_ups: bool = False) -> int:
    """Run every ready task in this process (the worker's own ``run_task``), returning how
    many ran; the dashboard warm-up an import queues when it ends runs too, counted only when
    ``warm_ups`` asks. The worker's loop is not used: it closes connections between tasks,
    which would end a test's transaction."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="pytest",
        excluded_queue_names=[],
    )
    ran = 0
    while (result := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        result.claim("pytest")
        worker.run_task(result)
        ran += warm_ups or not result.task_path.endswith("warm_landing_dashboards")
    return ran
