from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "gvrs.api"
    verbose_name = "Read API"

    def ready(self) -> None:
        # A change this process makes to anything the registry's version reads is seen by
        # the next answer (others' within common.FRESH_S). Connected per model, as the
        # public app does.
        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_delete, post_save

        from gvrs.incidents.models import ImportRun, Jurisdiction, Population

        for model in (LogEntry, ImportRun, Population, Jurisdiction):
            for signal in (post_save, post_delete):
                signal.connect(forget_version, sender=model, dispatch_uid=f"api-{model}")


def forget_version(**kwargs) -> None:
    """Forget the version the API remembers, where this process has loaded the API (a
    process that never answered an API request remembers none): so start-up does not import
    django-ninja and pydantic for every command."""
    import sys

    common = sys.modules.get("gvrs.api.common")
    if common is not None:
        common.forget_version(**kwargs)
