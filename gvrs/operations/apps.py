from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "gvrs.operations"
    verbose_name = "Operations: serving, jobs, backups, the demo"
