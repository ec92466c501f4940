"""Organizations, membership, the audit log and personal API tokens (sign-in throttling is
django-axes')."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Organization(models.Model):
    """The body a user works for: the city, the police department, or a partner nonprofit.
    Partner case data belongs to the organization that enrolled the participant."""

    class Kind(models.TextChoices):
        CITY = "city"
        POLICE = "police"
        PARTNER = "partner"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CITY)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user belongs to one organization."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="members")

    def __str__(self) -> str:
        return f"{self.user} at {self.organization}"


class AuditEvent(models.Model):
    """Who read or changed what, and when. Written by ``gvrs.accounts.audit.record``.

    Append-only: the admin offers no add, change or delete, and on PostgreSQL a trigger refuses
    UPDATE and DELETE (migration 0002). Each row keeps the user's name, roles and organization
    as they were when it was written, so renaming, regrouping or deleting the user later
    changes nothing here. ``user`` is a reference without a database constraint and with
    DO_NOTHING: deleting a user leaves their events, and their ``user_id``, as they were.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)  # "" for an anonymous visitor
    roles = models.CharField(max_length=300, blank=True)  # group names, "; "-separated
    organization = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=40)  # "view", "import", "login", ...
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=60, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        who = self.username or "anonymous"
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_type}"


class ApiToken(models.Model):
    """A personal token for the read API (``gvrs.accounts.tokens``): made and revoked by its
    user on the account page, shown once, stored only as its SHA-256.

    It lives beside the sessions and the audit log (``accounts.router``): using a token writes
    its ``last_used_at``, and on SQLite that write must never wait for an import. Like an
    audit event it names its user without a database constraint; a deleted user's tokens are
    deleted with them (``tokens.forget_user``).
    """

    class Scope(models.TextChoices):
        READ = "read", "read only"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    name = models.CharField(max_length=100, help_text="what the token is for")
    prefix = models.CharField(max_length=16, help_text="its first characters, to recognise it")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
