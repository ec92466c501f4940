"""Who wants which emails (``Subscription``) and every email sent or attempted (``Notice``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    RETALIATION_ALERT = "retaliation_alert", "retaliation alerts"
    OVERDUE_REVIEW = "overdue_review", "overdue shooting reviews"
    IMPORT_FAILED = "import_failed", "failed scheduled imports"


# What a role must hold to receive each kind (any one of the permissions).
KIND_PERMISSIONS = {
    Kind.RETALIATION_ALERT: ("reviews.review_shootings", "reviews.receive_alerts"),
    Kind.OVERDUE_REVIEW: ("reviews.review_shootings",),
    Kind.IMPORT_FAILED: ("incidents.add_importrun",),
}


class Subscription(models.Model):
    """A user wants emails of one kind about a place and the places inside it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    place = models.ForeignKey(
        "incidents.Jurisdiction", on_delete=models.CASCADE, related_name="subscriptions"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["place__name", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["user", "place", "kind"], name="subscription_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()} in {self.place}"


class Notice(models.Model):
    """One email to one user about one thing (``key``: "alert-12", "review-40",
    "scheduled-run-7"), sent once: the unique key makes every sweep idempotent."""

    class Status(models.TextChoices):
        SENT = "sent"
        FAILED = "failed"  # the mail server refused it or could not be reached; retried
        NO_ADDRESS = "no_address", "no email address"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    key = models.CharField(max_length=60)
    place = models.ForeignKey(
        "incidents.Jurisdiction", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=200)
    recipient = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "key"], name="notice_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.user} ({self.status})"
