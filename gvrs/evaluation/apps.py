from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "gvrs.evaluation"
    verbose_name = "Evaluation of strategies"
