from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "gvrs.risk"
    verbose_name = "Risk: near repeats, hot spots, contagion"
