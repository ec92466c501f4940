"""The community partners' work: programs, participants, their consents, life plans, contacts,
services, mediations, interrupted retaliations, outcomes and referrals.

Every record here belongs to one partner organization and is visible only inside it (the
``visible_to`` QuerySet methods), and to an organization a referral was sent to for what that
referral carries. A participant's name, date of birth, phone and address, and every free-text
field (eligibility and priority reasons, notes of contacts, services, mediations, interrupted
retaliations and exits, goals and milestones, a referral's reason, decline reason and outcome)
are encrypted at rest (``gvrs.partners.crypto``). Changes go through
``gvrs.partners.actions``, which writes the audit log.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from gvrs.accounts.models import Organization
from gvrs.partners.crypto import EncryptedDateField, EncryptedTextField

PARTNER_ROLES = ("partner staff", "partner manager")


def partner_organization(user) -> Organization | None:
    """The partner organization whose case work ``user`` may see, or None: a signed-in user
    in a partner role, belonging to an organization of kind partner. Nobody else (police,
    analysts, viewers, administrators) sees any participant."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    cached = getattr(user, "_gvrs_partner_org", False)
    if cached is not False:
        return cached
    org = None
    membership = getattr(user, "membership", None) if hasattr(user, "membership") else None
    if (
        membership is not None
        and membership.organization.kind == Organization.Kind.PARTNER
        and user.groups.filter(name__in=PARTNER_ROLES).exists()
    ):
        org = membership.organization
    user._gvrs_partner_org = org
    return org


class Program(models.Model):
    class Kind(models.TextChoices):
        FELLOWSHIP = "fellowship"
        MENTORING = "mentoring"
        GANG_INTERVENTION = "gang_intervention", "gang intervention"
        CONFLICT_MEDIATION = "conflict_mediation", "conflict mediation"
        EMPLOYMENT = "employment"
        VICTIM_SERVICES = "victim_services", "victim services"
        HOSPITAL_BASED = "hospital_based", "hospital-based intervention"

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="programs",
        limit_choices_to={"kind": Organization.Kind.PARTNER},
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    capacity = models.PositiveIntegerField(help_text="participants enrolled at once")
    caseload_per_worker = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="participants per outreach worker (10 to 20 is usual)",
    )
    contact_standard_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="a contact is expected at least every this many days (1: daily, for fellows)",
    )
    retention_days = models.PositiveIntegerField(
        default=3 * 365,
        help_text="personal fields are purged this many days after a participant's exit",
    )

    class Meta:
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="program_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ParticipantQuerySet(models.QuerySet):
    def visible_to(self, user) -> ParticipantQuerySet:
        org = partner_organization(user)
        return self.filter(organization=org) if org else self.none()

    def enrolled(self) -> ParticipantQuerySet:
        return self.filter(status=Participant.Status.ENROLLED)

    def in_aggregates(self) -> ParticipantQuerySet:
        """Participants whose latest aggregate-reporting consent is granted: only they are
        counted in figures that leave the organization."""
        latest = (
            Consent.objects.filter(
                participant=models.OuterRef("pk"), kind=Consent.Kind.AGGREGATE_REPORTING
            )
            .order_by("-recorded_at", "-pk")
            .values("granted")[:1]
        )
        return self.annotate(_aggregate_ok=models.Subquery(latest)).filter(_aggregate_ok=True)


class Participant(models.Model):
    """A person a partner works with, from identification (the waiting list) to exit."""

    class Status(models.TextChoices):
        WAITING = "waiting", "waiting list"
        ENROLLED = "enrolled"
        EXITED = "exited"

    class ExitReason(models.TextChoices):
        COMPLETED = "completed"
        DECLINED = "declined", "declined to continue"
        MOVED = "moved", "moved away"
        INCARCERATED = "incarcerated"
        DIED = "died"
        TRANSFERRED = "transferred", "transferred to another program"
        OTHER = "other"

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="participants"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="participants")
    # Personal fields, encrypted at rest.
    name = EncryptedTextField()
    date_of_birth = EncryptedDateField(blank=True, null=True)
    phone = EncryptedTextField(blank=True, default="")
    address = EncryptedTextField(blank=True, default="")
    # Where the participant lives, as a neighborhood: what the equity figures count by.
    area = models.ForeignKey(
        "incidents.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="caseload",
    )
    # Written by a person, never a model's score about a person; free text, encrypted at rest.
    eligibility_reason = EncryptedTextField()
    priority_reason = EncryptedTextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    identified_on = models.DateField(default=dt.date.today)
    intake_on = models.DateField(default=dt.date.today)
    enrolled_on = models.DateField(null=True, blank=True)
    exited_on = models.DateField(null=True, blank=True)
    exit_reason = models.CharField(max_length=20, choices=ExitReason.choices, blank=True)
    exit_note = EncryptedTextField(blank=True)
    # The simulator's person id, for the demo and the outcome comparison on simulator truth.
    simulated_person = models.PositiveIntegerField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "pk"]
        permissions = [
            ("work_with_participants", "Work with the participants of their organization"),
            ("view_partner_figures", "See partner figures (suppressed outside an organization)"),
            ("manage_programs", "Manage their organization's programs"),
        ]

    def __str__(self) -> str:
        return f"participant {self.pk}"

    def current_consent(self, kind: str) -> Consent | None:
        return self.consents.filter(kind=kind).order_by("-recorded_at", "-pk").first()

    def referral_fields(self) -> list[str]:
        """The fields the participant's current consent lets travel with a referral."""
        consent = self.current_consent(Consent.Kind.REFER_TO_PARTNER)
        return list(consent.fields) if consent and consent.granted else []


class Consent(models.Model):
    """A participant's yes or no to one kind of disclosure, with the version of the consent
    text they were shown. The latest record per kind is the one in force."""

    class Kind(models.TextChoices):
        REFER_TO_PARTNER = "refer_to_partner", "disclosure to another partner (referral)"
        AGGREGATE_REPORTING = "aggregate_reporting", "counting in aggregate reports"

    SHAREABLE_FIELDS = ("name", "date_of_birth", "phone", "address", "needs")

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    granted = models.BooleanField()
    fields = models.JSONField(default=list, blank=True)  # for referrals: what may travel
    text_version = models.CharField(max_length=40)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {'granted' if self.granted else 'refused'} ({self.text_version})"


class OwnedQuerySet(models.QuerySet):
    """Records that belong to a participant: visible where the participant is."""

    def visible_to(self, user):
        org = partner_organization(user)
        return self.filter(participant__organization=org) if org else self.none()


class LifePlan(models.Model):
    """A LifeMAP-style plan: goals in life domains, each with milestones."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="life_plans"
    )
    started_on = models.DateField(default=dt.date.today)
    reviewed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-pk"]

    def __str__(self) -> str:
        return f"life plan {self.pk}"


class Goal(models.Model):
    class Domain(models.TextChoices):
        SAFETY = "safety"
        EDUCATION = "education"
        EMPLOYMENT = "employment"
        HOUSING = "housing"
        HEALTH = "health"
        FAMILY = "family"
        LEGAL = "legal"
        WELLBEING = "wellbeing"

    class Status(models.TextChoices):
        OPEN = "open"
        MET = "met"
        DROPPED = "dropped"

    plan = models.ForeignKey(LifePlan, on_delete=models.CASCADE, related_name="goals")
    domain = models.CharField(max_length=20, choices=Domain.choices)
    description = EncryptedTextField()
    target_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"goal {self.pk}"


class Milestone(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="milestones")
    description = EncryptedTextField()
    due_on = models.DateField(null=True, blank=True)
    done_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return f"milestone {self.pk}"


class Contact(models.Model):
    class Kind(models.TextChoices):
        IN_PERSON = "in_person", "in person"
        PHONE = "phone"
        TEXT = "text", "text message"
        VIDEO = "video"
        ATTEMPTED = "attempted", "attempted, not reached"

    class Place(models.TextChoices):
        STREET = "street"
        HOME = "home"
        OFFICE = "office"
        SCHOOL = "school"
        HOSPITAL = "hospital"
        COURT = "court"
        REMOTE = "remote"
        OTHER = "other"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="contacts")
    on = models.DateField()
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    place = models.CharField(max_length=20, choices=Place.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = EncryptedTextField(blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-on", "-pk"]

    def __str__(self) -> str:
        return f"contact {self.pk}"

    @property
    def reached(self) -> bool:
        return self.kind != self.Kind.ATTEMPTED


class Service(models.Model):
    class Kind(models.TextChoices):
        EMPLOYMENT = "employment", "employment or job training"
        EDUCATION = "education"
        HOUSING = "housing"
        MENTAL_HEALTH = "mental_health", "mental health"
        SUBSTANCE_USE = "substance_use", "substance use"
        LEGAL = "legal", "legal aid"
        RELOCATION = "relocation", "emergency relocation"
        STIPEND = "stipend"
        ID_DOCUMENTS = "id_documents", "ID documents"
        OTHER = "other"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="services")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    delivered_on = models.DateField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = EncryptedTextField(blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-delivered_on", "-pk"]

    def __str__(self) -> str:
        return f"service {self.pk}"


class OrganizationQuerySet(models.QuerySet):
    """Records owned by an organization directly (not through one participant)."""

    def visible_to(self, user):
        org = partner_organization(user)
        return self.filter(organization=org) if org else self.none()


class Mediation(models.Model):
    """A conflict mediated: who was in it stays inside the organization."""

    class Outcome(models.TextChoices):
        RESOLVED = "resolved"
        ONGOING = "ongoing"
        ESCALATED = "escalated"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    on = models.DateField()
    area = models.ForeignKey(
        "incidents.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parties = models.PositiveSmallIntegerField(validators=[MinValueValidator(2)])
    participants = models.ManyToManyField(Participant, blank=True, related_name="mediations")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = EncryptedTextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["-on", "-pk"]

    def __str__(self) -> str:
        return f"mediation {self.pk}"


class RetaliationInterrupted(models.Model):
    """A retaliation a worker judged was coming and interrupted (after a shooting, usually)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    on = models.DateField()
    area = models.ForeignKey(
        "incidents.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = EncryptedTextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["-on", "-pk"]
        verbose_name_plural = "retaliations interrupted"

    def __str__(self) -> str:
        return f"retaliation interrupted {self.pk}"


class Outcome(models.Model):
    """How a participant fared over a defined window; None where not known."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="outcomes")
    window_start = models.DateField()
    window_end = models.DateField()
    alive = models.BooleanField(null=True)
    not_shot = models.BooleanField(null=True)
    not_arrested_firearm = models.BooleanField(null=True)
    in_school_or_work = models.BooleanField(null=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-window_end", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gte=models.F("window_start")),
                name="outcome_window_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"outcome {self.pk}"


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A referral is seen by the organization that sent it and the one it was sent to."""
        org = partner_organization(user)
        if not org:
            return self.none()
        return self.filter(models.Q(from_organization=org) | models.Q(to_organization=org))


class Referral(models.Model):
    """A participant referred to another organization. What travels is a copy of the fields
    the participant's consent covered when it was sent, encrypted like the originals; the
    receiving organization never reads the sender's participant record."""

    class Status(models.TextChoices):
        SENT = "sent"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        COMPLETED = "completed"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="referrals")
    from_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="referrals_sent"
    )
    to_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="referrals_received",
        limit_choices_to={"kind": Organization.Kind.PARTNER},
    )
    reason = EncryptedTextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SENT)
    fields = models.JSONField(default=list)  # the fields that travelled
    shared_name = EncryptedTextField(blank=True, default="")
    shared_date_of_birth = EncryptedDateField(blank=True, null=True)
    shared_phone = EncryptedTextField(blank=True, default="")
    shared_address = EncryptedTextField(blank=True, default="")
    shared_needs = EncryptedTextField(blank=True, default="")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decline_reason = EncryptedTextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = EncryptedTextField(blank=True)
    # The receiving organization's own participant, made when it accepts.
    received_as = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"referral {self.pk}"
