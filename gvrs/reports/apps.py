from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "gvrs.reports"
    verbose_name = "Reports and statistics"
