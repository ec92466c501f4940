from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "gvrs.incidents"
    verbose_name = "Incident registry"

    def ready(self) -> None:
        from django_tasks.signals import task_finished

        from gvrs.incidents import jobs

        task_finished.connect(jobs.upkeep, dispatch_uid="gvrs-import-upkeep")
