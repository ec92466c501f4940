"""What the audit log says about a partner organization's case work, and who reads it.

The case events (``CASE_ACTIONS``: intake, consents, exits, contacts, services, plans,
referrals...) carry per-participant details: an outcome ("died"), a consent
("aggregate_reporting: refused"), a service's kind. They are the organization's: the admin's
audit list shows them without their detail (``gvrs.accounts.admin``), and the organization's
managers read them in full on their access page, beside every grant of access to their case
work (``gvrs.accounts.grants``).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from gvrs.accounts.audit import case_work
from gvrs.accounts.grants import GRANT, PARTNER_ROLES, REVOKE
from gvrs.accounts.models import AuditEvent, Organization

CASE_ACTIONS = (
    "participant.",
    "consent.",
    "plan.",
    "contact.",
    "service.",
    "mediation.",
    "retaliation.",
    "outcome.",
    "referral.",
    "program.",
)


def access_changes(organization: Organization) -> QuerySet[AuditEvent]:
    """Access to the organization's case work given and taken away, newest first."""
    return AuditEvent.objects.filter(
        action__in=(GRANT, REVOKE),
        object_type=Organization._meta.label,
        object_id=str(organization.pk),
    )


def case_events(organization: Organization) -> QuerySet[AuditEvent]:
    """The organization's case events, newest first: those written by its members (each
    event keeps the organization its user belonged to when it was written)."""
    return AuditEvent.objects.filter(case_work(), organization=organization.name)


def readers(organization: Organization):
    """Who can read the organization's participants now: its members in a partner role."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            membership__organization=organization,
            groups__name__in=PARTNER_ROLES,
            is_active=True,
        )
        .distinct()
        .prefetch_related("groups")
        .order_by("username")
    )


def oversight_events() -> QuerySet[AuditEvent]:
    """Every partner event an oversight body reviews: case work and access to it."""
    grants = Q(action__in=(GRANT, REVOKE), object_type=Organization._meta.label)
    return AuditEvent.objects.filter(case_work() | grants).order_by("at", "pk")
