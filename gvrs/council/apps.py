from django.apps import AppConfig


class CouncilConfig(AppConfig):
    name = "gvrs.council"
    verbose_name = "The report to the council"
