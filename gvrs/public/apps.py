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

        for model in (LogEntry, ImportRun, Population, Jurisdiction, PublicDashboard):
            for signal in (post_save, post_delete):
                signal.connect(forget_versions, sender=model, dispatch_uid=f"public-{model}")


def forget_versions(**kwargs) -> None:
    """Forget the versions the public views remember, where this process has loaded them (a
    process that never served a public page remembers none): so start-up does not import
    the views and their charts."""
    import sys

    views = sys.modules.get("gvrs.public.views")
    if views is not None:
        views.forget_versions(**kwargs)
