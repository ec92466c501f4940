"""The shooting review, the group audit and retaliation alerts.

- A ``Review`` is one homicide's or nonfatal shooting's place in the weekly review: it enters
  the queue when the incident enters the registry (``gvrs.reviews.queue``) and is due a
  deadline after the shooting. A finished review sets the incident's ``group_involvement``
  and ``circumstance``; every such change is kept as an ``IncidentChange``.
- A ``Response`` is one task of the 24-hour plan (outreach visit, custom notification,
  victim and family services, hospital response) with its owner, due time and status.
- ``Group`` / ``Designation`` / ``Conflict`` are the group audit. A group counts only while a
  designation is current (``GroupQuerySet.designated``): an expired designation drops the group
  out of every view, count, figure and export until it is renewed. Groups, never people: this
  app holds no list of individuals.
- An ``Alert`` is about a place (and maybe a group), a window, a level and a reason, never a
  person; an ``AlertDelivery`` is its copy sent to a partner organization covering the area.

Changes go through ``gvrs.reviews.actions``, which writes the audit log.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from gvrs.accounts.models import Organization
from gvrs.data.schema import Circumstance
from gvrs.incidents.models import Area, Incident, Jurisdiction

REVIEWED_KINDS = ("homicide", "nonfatal_shooting")


class ReviewPolicy(models.Model):
    """A place's review rules; the places inside it follow it unless they have their own."""

    jurisdiction = models.OneToOneField(
        Jurisdiction, on_delete=models.CASCADE, related_name="review_policy"
    )
    deadline_days = models.PositiveSmallIntegerField(
        help_text="a shooting is due for review this many days after it happened"
    )
    queue_back_days = models.PositiveSmallIntegerField(
        help_text="a shooting older than this when it enters the registry is not queued"
    )
    designation_months = models.PositiveSmallIntegerField(
        help_text="a group designation expires this many months after it is made"
    )
    alert_window_days = models.PositiveSmallIntegerField(
        help_text="a retaliation alert stays open this many days"
    )

    class Meta:
        verbose_name_plural = "review policies"

    def __str__(self) -> str:
        return f"Review policy of {self.jurisdiction}"


class GroupQuerySet(models.QuerySet):
    def designated(self, on: dt.date) -> GroupQuerySet:
        """Groups with a designation current on ``on``: the only groups any page, count,
        figure or export shows."""
        current = Designation.objects.filter(
            group=models.OuterRef("pk"), designated_on__lte=on, expires_on__gte=on
        )
        return self.filter(models.Exists(current))

    def lapsed(self, on: dt.date) -> GroupQuerySet:
        """Groups that were designated and are not any more (the renewal list)."""
        return (
            self.exclude(pk__in=self.designated(on).values("pk"))
            .filter(designations__isnull=False)
            .distinct()
        )


class Group(models.Model):
    """A street group as the review knows it: a name, its place and the areas it claims."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    areas = models.ManyToManyField(Area, blank=True, related_name="groups")

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "name"], name="group_unique_name")
        ]
        permissions = [
            ("manage_groups", "Can designate groups and record conflicts (audited)"),
        ]

    def __str__(self) -> str:
        return self.name


class Designation(models.Model):
    """Why a group is on the audit, who said so, and until when. Renewal is a new row: the
    old one stays as the record of what was believed then."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="designations")
    criteria = models.TextField(help_text="which of the designation criteria are met")
    evidence = models.TextField(help_text="what shows it: incidents, reports, field knowledge")
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    designated_by_name = models.CharField(max_length=150)
    designated_on = models.DateField()
    review_on = models.DateField(help_text="when the designation is to be looked at again")
    expires_on = models.DateField(help_text="the last day it counts unless renewed")

    class Meta:
        ordering = ["group", "-designated_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.group} designated {self.designated_on}, expires {self.expires_on}"


class Conflict(models.Model):
    """A conflict or an alliance between two groups, with the incidents that evidence it."""

    class Kind(models.TextChoices):
        CONFLICT = "conflict"
        ALLIANCE = "alliance"

    group_a = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    group_b = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CONFLICT)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    evidence = models.TextField(blank=True)
    incidents = models.ManyToManyField(Incident, blank=True, related_name="+")
    recorded_by_name = models.CharField(max_length=150)

    class Meta:
        ordering = ["-started_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(group_a=models.F("group_b")), name="conflict_two_groups"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.group_a} / {self.group_b} since {self.started_on}"


class ReviewQuerySet(models.QuerySet):
    def open(self) -> ReviewQuerySet:
        return self.filter(status=Review.Status.OPEN)

    def done(self) -> ReviewQuerySet:
        return self.filter(status=Review.Status.DONE)


class Review(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        DONE = "done"

    class Involvement(models.TextChoices):
        CONFIRMED = "confirmed"
        SUSPECTED = "suspected"
        NONE = "none"
        UNKNOWN = "unknown"

    class Risk(models.TextChoices):
        HIGH = "high"
        MEDIUM = "medium"
        LOW = "low"

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="review")
    queued_at = models.DateTimeField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    group_involvement = models.CharField(max_length=10, choices=Involvement.choices, blank=True)
    evidence = models.TextField(blank=True, help_text="what the involvement rests on")
    circumstance = models.CharField(
        max_length=30, choices=[(c.value, c.value.replace("_", " ")) for c in Circumstance]
    )
    victim_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    suspect_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    retaliation_risk = models.CharField(max_length=10, choices=Risk.choices, blank=True)
    risk_reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"])]
        permissions = [
            ("review_shootings", "Can review shootings and plan responses (audited)"),
            ("view_review_figures", "Can see the review figures (counts only)"),
            ("receive_alerts", "Can read retaliation alerts sent to their organization"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.incident}"

    @property
    def reviewed_on_time(self) -> bool:
        return self.reviewed_at is not None and self.reviewed_on <= self.due_on

    @property
    def reviewed_on(self) -> dt.date | None:
        if self.reviewed_at is None:
            return None
        return self.reviewed_at.astimezone(self.incident.jurisdiction.zone).date()


class Response(models.Model):
    """One task of the 24-hour plan."""

    class Kind(models.TextChoices):
        OUTREACH_VISIT = "outreach_visit", "outreach visit by a partner"
        CUSTOM_NOTIFICATION = "custom_notification", "custom notification"
        VICTIM_SERVICES = "victim_services", "victim and family services"
        HOSPITAL_RESPONSE = "hospital_response", "hospital response"

    class Status(models.TextChoices):
        PLANNED = "planned"
        ATTEMPTED = "attempted", "attempted, not done"
        DONE = "done", "done (delivered)"
        CANCELLED = "cancelled"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="responses")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    owner = models.CharField(max_length=150, help_text="who does it: a person or a team")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    done_at = models.DateTimeField(null=True, blank=True)
    follow_up = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.owner}): {self.status}"


class IncidentChange(models.Model):
    """A value a finished review changed on its incident: the history of that change."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="changes")
    review = models.ForeignKey(Review, null=True, on_delete=models.SET_NULL, related_name="+")
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=40)
    new_value = models.CharField(max_length=40)
    changed_at = models.DateTimeField()
    changed_by_name = models.CharField(max_length=150)

    class Meta:
        ordering = ["incident", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} -> {self.new_value}"


class AreaRisk(models.Model):
    """Expected shootings in an area over the next days, from the contagion model fitted on
    the place's shootings up to ``as_of`` (``gvrs area_risk``, a periodic job: a fit does not
    belong in the request that finishes a review). The alert rule raises an area's alert a
    level where at least one shooting is expected over its window."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField(help_text="the last day of the shootings the model was fitted on")
    horizon_days = models.PositiveSmallIntegerField()
    expected_shootings = models.FloatField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-as_of", "area"]
        constraints = [
            models.UniqueConstraint(fields=["area", "as_of", "horizon_days"], name="area_risk_once")
        ]

    def __str__(self) -> str:
        return f"{self.area.name} {self.as_of}: {self.expected_shootings:.2f}"


class AlertQuerySet(models.QuerySet):
    def open_on(self, on: dt.date) -> AlertQuerySet:
        return self.filter(starts_on__lte=on, ends_on__gte=on)


class Alert(models.Model):
    """Raised risk of retaliation in an area (and perhaps around a group) for a window of
    days. Its fields are the whole message: no person, no address, no coordinate."""

    class Level(models.TextChoices):
        HIGH = "high"
        MEDIUM = "medium"
        LOW = "low"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="alerts")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="the last day it is open")
    reason = models.TextField()
    issued_at = models.DateTimeField()

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "pk"]  # a review's alerts in the rule's order: highest first

    def __str__(self) -> str:
        return f"{self.level} alert for {self.area.name} {self.starts_on}..{self.ends_on}"

    def is_open(self, on: dt.date) -> bool:
        return self.starts_on <= on <= self.ends_on


class AlertDelivery(models.Model):
    """An alert as a partner organization received it (it covers the alert's area)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_deliveries"
    )
    delivered_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-delivered_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "organization"], name="alert_delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.alert} to {self.organization}"


class CoverageArea(models.Model):
    """An area a partner organization works in: retaliation alerts about it reach the
    organization (``gvrs.reviews.actions``). Where a partner works is not case data (it is
    set in the admin); it lives here, beside the alerts it routes."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="coverage",
        limit_choices_to={"kind": Organization.Kind.PARTNER},
    )
    area = models.ForeignKey("incidents.Area", on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["organization", "area"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "area"], name="coverage_area_once")
        ]

    def __str__(self) -> str:
        return f"{self.organization} covers {self.area}"
