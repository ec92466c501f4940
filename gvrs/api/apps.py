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

        from gvrs.api.common import forget_version
        from gvrs.incidents.models import ImportRun, Jurisdiction, Population

        for model in (LogEntry, ImportRun, Population, Jurisdiction):
            for signal in (post_save, post_delete):
                signal.connect(forget_version, sender=model, dispatch_uid=f"api-{model}")
