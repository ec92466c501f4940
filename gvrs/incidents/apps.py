from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "gvrs.incidents"
    verbose_name = "Incident registry"
