from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PublicConfig(AppConfig):
    name = "gvrs.public"
    verbose_name = "Public dashboard"

    def ready(self) -> None:
        # A change this process makes to anything the public version reads shows at once
        # (other processes see it within ``views.FRESH_S``). Connected per model: a receiver
        # for every model would make every bulk delete in the site fetch its rows.
        from django.contrib.admin.models import LogEntry

        from gvrs.incidents.models import ImportRun, Jurisdiction, Population
        from gvrs.public.models import PublicDashboard
        from gvrs.public.views import forget_versions

        for model in (LogEntry, ImportRun, Population, Jurisdiction, PublicDashboard):
            for signal in (post_save, post_delete):
                signal.connect(forget_versions, sender=model, dispatch_uid=f"public-{model}")
