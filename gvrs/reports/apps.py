from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "gvrs.reports"
    verbose_name = "Reports and statistics"

    def ready(self) -> None:
        from gvrs.incidents.signals import registry_changed
        from gvrs.reports.warm import warm_soon

        # An import through the web changed the registry: the landing dashboard is recomputed
        # by the worker, so the next visitor gets it from the cache.
        registry_changed.connect(warm_soon, dispatch_uid="gvrs-warm-landing")
