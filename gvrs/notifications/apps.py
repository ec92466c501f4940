from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "gvrs.notifications"
    verbose_name = "Email notifications"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from gvrs.incidents.signals import scheduled_import_failed
        from gvrs.notifications import sending
        from gvrs.reviews.models import Alert

        scheduled_import_failed.connect(sending.on_import_failed, dispatch_uid="gvrs-notify")
        post_save.connect(sending.on_alert_saved, sender=Alert, dispatch_uid="gvrs-notify")
