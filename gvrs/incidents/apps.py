from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "gvrs.incidents"
    verbose_name = "Incident registry"

    def ready(self) -> None:
        from django_tasks.signals import task_finished

        task_finished.connect(_upkeep, dispatch_uid="gvrs-import-upkeep")


def _upkeep(**kwargs) -> None:
    """Imports the import machinery (pandas, the readers) only in a process that runs a
    task: every command and web process would otherwise pay for it at start-up."""
    from gvrs.incidents import jobs

    jobs.upkeep(**kwargs)
