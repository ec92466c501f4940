from __future__ import annotations

from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "gvrs.reviews"
    verbose_name = "Shooting review, group audit and retaliation alerts"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from gvrs.incidents.models import ImportRun
        from gvrs.reviews.queue import queue_after_import

        # An import's run is saved a last time once its transaction has committed: that is
        # when its new homicides and shootings exist for everyone, so the queue takes them.
        post_save.connect(queue_after_import, sender=ImportRun, dispatch_uid="gvrs-review-queue")
