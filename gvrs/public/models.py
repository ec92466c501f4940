"""Which places publish a public dashboard, and how: an administrator's choice, kept in the
database so every stateless app server sees the same."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from gvrs.analysis.suppression import DEFAULT_THRESHOLD
from gvrs.data.metrics import load_metrics

DEFAULT_METRIC = "shootings"


class PublicDashboardQuerySet(models.QuerySet):
    def published(self) -> PublicDashboardQuerySet:
        return self.filter(enabled=True)


class PublicDashboard(models.Model):
    """A place's public page at ``/public/<slug>/``: off until an administrator switches it
    on. One metric per page: metrics overlap (homicides are among the people shot), so two
    published side by side would let a reader subtract one suppressed table from another."""

    jurisdiction = models.OneToOneField(
        "incidents.Jurisdiction", on_delete=models.CASCADE, related_name="public_dashboard"
    )
    enabled = models.BooleanField(
        default=False, help_text="publish this place's dashboard to anyone, without sign-in"
    )
    metric = models.CharField(
        max_length=100,
        default=DEFAULT_METRIC,
        help_text="the metric the page publishes (counted from incidents), e.g. shootings",
    )
    threshold = models.PositiveSmallIntegerField(
        default=DEFAULT_THRESHOLD,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="counts from 1 to this are shown as 'fewer than N+1' (10: 'fewer than 11')",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublicDashboardQuerySet.as_manager()

    class Meta:
        ordering = ["jurisdiction__name"]

    def __str__(self) -> str:
        return f"Public dashboard of {self.jurisdiction} ({'on' if self.enabled else 'off'})"

    def clean(self) -> None:
        metrics = load_metrics()
        if self.metric not in metrics:
            raise ValidationError(
                {"metric": f"no metric {self.metric!r}; one of: {', '.join(metrics)}"}
            )
        if metrics[self.metric].published_only or metrics[self.metric].ratio:
            raise ValidationError(
                {"metric": f"{self.metric} is not counted from incidents; choose one that is"}
            )
