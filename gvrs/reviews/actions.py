"""Every change to reviews, responses, the group audit and alerts, each audited in the same
transaction (``gvrs.accounts.audit.record``). Views call these, never ``.save()``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.utils import timezone

from gvrs.accounts.audit import audited_transaction, record
from gvrs.accounts.models import Organization
from gvrs.incidents.models import Area
from gvrs.reviews.models import (
    Alert,
    AlertDelivery,
    Conflict,
    CoverageArea,
    Designation,
    Group,
    IncidentChange,
    Response,
    Review,
)
from gvrs.reviews.queue import add_months, policy_for

# What a finished review writes on its incident: the incident's field is coarser than the
# review (yes/no/unknown), so a suspected involvement stays "unknown" there; the review, its
# figures and its page keep confirmed and suspected apart.
INCIDENT_INVOLVEMENT = {
    Review.Involvement.CONFIRMED: "yes",
    Review.Involvement.SUSPECTED: "unknown",
    Review.Involvement.NONE: "no",
    Review.Involvement.UNKNOWN: "unknown",
}


class ActionError(ValueError):
    """A change that the rules refuse; the message says why."""


def _name(user) -> str:
    return user.get_username() if getattr(user, "is_authenticated", False) else "system"


@audited_transaction()
def complete_review(
    user,
    review: Review,
    *,
    group_involvement: str,
    evidence: str,
    circumstance: str,
    victim_groups: Sequence[Group],
    suspect_groups: Sequence[Group],
    retaliation_risk: str,
    risk_reason: str,
    at: dt.datetime | None = None,
) -> list[Alert]:
    """Record the review's findings, carry them to the incident (keeping the history) and,
    the first time a review is finished, open its retaliation alerts. Returns new alerts.

    ``at`` is when the review was held, when it is written up later (default now)."""
    if group_involvement in (Review.Involvement.CONFIRMED, Review.Involvement.SUSPECTED):
        if not victim_groups and not suspect_groups:
            raise ActionError("a confirmed or suspected group involvement names a group")
        if not evidence.strip():
            raise ActionError("a confirmed or suspected group involvement says its evidence")
    if retaliation_risk and not risk_reason.strip():
        raise ActionError("a retaliation risk gives its reason")
    first_time = review.status == Review.Status.OPEN
    now = at or timezone.now()
    review.group_involvement = group_involvement
    review.evidence = evidence
    review.circumstance = circumstance
    review.retaliation_risk = retaliation_risk
    review.risk_reason = risk_reason
    review.status = Review.Status.DONE
    if first_time:
        review.reviewed_by = user
        review.reviewed_at = now
    review.save()
    review.victim_groups.set(victim_groups)
    review.suspect_groups.set(suspect_groups)
    _carry_to_incident(user, review, now)
    record(user, "review", review, f"{group_involvement}; risk {retaliation_risk or 'unset'}")
    return issue_alerts(user, review, at=now) if first_time else []


def _carry_to_incident(user, review: Review, now: dt.datetime) -> None:
    incident = review.incident
    wanted = {
        "group_involvement": INCIDENT_INVOLVEMENT[review.group_involvement],
        "circumstance": review.circumstance,
    }
    changed = []
    for field, value in wanted.items():
        old = getattr(incident, field)
        if old != value:
            IncidentChange.objects.create(
                incident=incident,
                review=review,
                field=field,
                old_value=old,
                new_value=value,
                changed_at=now,
                changed_by_name=_name(user),
            )
            setattr(incident, field, value)
            changed.append(f"{field} {old}->{value}")
    if changed:
        incident.save(update_fields=[*wanted, "updated_at"])
        record(user, "change", incident, "from review: " + ", ".join(changed))


@audited_transaction()
def add_response(
    user,
    review: Review,
    *,
    kind: str,
    owner: str,
    due_at: dt.datetime,
    organization: Organization | None = None,
    follow_up: str = "",
) -> Response:
    response = Response.objects.create(
        review=review,
        kind=kind,
        owner=owner,
        organization=organization,
        due_at=due_at,
        follow_up=follow_up,
    )
    record(user, "add response", response, f"{kind} by {owner}")
    return response


@audited_transaction()
def update_response(
    user, response: Response, *, status: str, follow_up: str, done_at: dt.datetime | None = None
) -> Response:
    """A response's status and follow-up; ``done_at`` is stamped when it is first done."""
    if status == Response.Status.DONE and response.done_at is None:
        response.done_at = done_at or timezone.now()
    if status != Response.Status.DONE:
        response.done_at = None
    response.status = status
    response.follow_up = follow_up
    response.save()
    record(user, "update response", response, status)
    return response


@audited_transaction()
def create_group(user, jurisdiction, *, name: str, areas: Iterable[Area]) -> Group:
    group = Group.objects.create(jurisdiction=jurisdiction, name=name)
    group.areas.set(areas)
    record(user, "add group", group, name)
    return group


@audited_transaction()
def designate(
    user,
    group: Group,
    *,
    criteria: str,
    evidence: str,
    on: dt.date,
    review_on: dt.date | None = None,
    expires_on: dt.date | None = None,
) -> Designation:
    """Designate (or renew) a group: a new designation, expiring after the place's
    designation months unless an earlier date is given."""
    if not criteria.strip() or not evidence.strip():
        raise ActionError("a designation states its criteria and its evidence")
    months = policy_for(group.jurisdiction_id).designation_months
    longest = add_months(on, months) - dt.timedelta(days=1)
    expires_on = expires_on or longest
    if expires_on > longest:
        raise ActionError(f"a designation lasts at most {months} months (to {longest})")
    if expires_on < on:
        raise ActionError("a designation cannot expire before it is made")
    review_on = review_on or expires_on - dt.timedelta(days=30)
    designation = Designation.objects.create(
        group=group,
        criteria=criteria,
        evidence=evidence,
        designated_by=user if getattr(user, "is_authenticated", False) else None,
        designated_by_name=_name(user),
        designated_on=on,
        review_on=review_on,
        expires_on=expires_on,
    )
    record(user, "designate", designation, f"{group.name} until {expires_on}")
    return designation


@audited_transaction()
def record_conflict(
    user,
    group_a: Group,
    group_b: Group,
    *,
    kind: str,
    started_on: dt.date,
    ended_on: dt.date | None = None,
    evidence: str = "",
    incidents: Iterable = (),
) -> Conflict:
    if group_a.pk == group_b.pk:
        raise ActionError("a conflict or alliance is between two different groups")
    if ended_on is not None and ended_on < started_on:
        raise ActionError("a conflict cannot end before it started")
    conflict = Conflict.objects.create(
        group_a=group_a,
        group_b=group_b,
        kind=kind,
        started_on=started_on,
        ended_on=ended_on,
        evidence=evidence,
        recorded_by_name=_name(user),
    )
    conflict.incidents.set(incidents)
    record(user, f"add {kind}", conflict, f"{group_a.name} / {group_b.name}")
    return conflict


def issue_alerts(user, review: Review, *, at: dt.datetime | None = None) -> list[Alert]:
    """Open the retaliation alerts a reviewed shooting calls for and deliver each to the
    partner organizations covering its area (inside the caller's transaction)."""
    from gvrs.reviews.alerting import alert_areas

    now = at or timezone.now()
    alerts = []
    for found in alert_areas(review):
        alert = Alert.objects.create(
            review=review,
            area=found.area,
            group=found.group,
            level=found.level,
            starts_on=found.starts,
            ends_on=found.ends,
            reason=found.reason,
            issued_at=now,
        )
        record(user, "open alert", alert, f"{alert.level} {alert.starts_on}..{alert.ends_on}")
        for organization_id in CoverageArea.objects.filter(
            area=alert.area, organization__kind=Organization.Kind.PARTNER
        ).values_list("organization_id", flat=True):
            delivery = AlertDelivery.objects.create(
                alert=alert, organization_id=organization_id, delivered_at=now
            )
            record(user, "deliver alert", delivery, f"alert {alert.pk}")
        alerts.append(alert)
    return alerts


@audited_transaction()
def mark_alert_read(user, delivery: AlertDelivery) -> AlertDelivery:
    if delivery.read_at is None:
        delivery.read_at = timezone.now()
        delivery.save(update_fields=["read_at"])
        record(user, "read alert", delivery)
    return delivery


@audited_transaction()
def set_coverage(user, organization: Organization, areas: Iterable[Area]) -> None:
    """The areas a partner organization covers (replacing what it covered)."""
    if organization.kind != Organization.Kind.PARTNER:
        raise ActionError("only a partner organization covers areas for alerts")
    areas = list(areas)
    CoverageArea.objects.filter(organization=organization).exclude(area__in=areas).delete()
    for area in areas:
        CoverageArea.objects.get_or_create(organization=organization, area=area)
    record(user, "set coverage", organization, f"{len(areas)} areas")
