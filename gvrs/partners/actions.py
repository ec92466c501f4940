"""Every change to partner data, each writing the audit log in the same transaction
(``audited_transaction``: on SQLite the audit log is a database file of its own).

Views and commands call these functions; none of them saves a partner model directly. Each
function checks the rules the data must keep (capacity, caseload, consent at the moment of
sending a referral, a referral's lifecycle) and raises ``ActionError`` with a sentence a
worker can act on.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from gvrs.accounts.audit import audited_transaction, record
from gvrs.accounts.models import Organization
from gvrs.partners.models import (
    Consent,
    Contact,
    Goal,
    LifePlan,
    Mediation,
    Milestone,
    Outcome,
    Participant,
    Program,
    Referral,
    RetaliationInterrupted,
    Service,
)


class ActionError(ValueError):
    """A change the rules do not allow; the message says why."""


@audited_transaction()
def create_program(user, organization: Organization, **fields) -> Program:
    if organization.kind != Organization.Kind.PARTNER:
        raise ActionError(f"{organization} is not a partner organization")
    program = Program.objects.create(organization=organization, **fields)
    record(user, "program.create", program, program.name)
    return program


@audited_transaction()
def record_consent(
    user, participant: Participant, kind: str, granted: bool, text_version: str, fields=()
) -> Consent:
    unknown = set(fields) - set(Consent.SHAREABLE_FIELDS)
    if unknown:
        raise ActionError(f"consent cannot cover {', '.join(sorted(unknown))}")
    if not text_version.strip():
        raise ActionError("the version of the consent text shown is required")
    consent = Consent.objects.create(
        participant=participant,
        kind=kind,
        granted=granted,
        fields=sorted(fields) if granted else [],
        text_version=text_version.strip(),
        recorded_by=user,
    )
    record(user, "consent.record", participant, f"{kind}: {'granted' if granted else 'refused'}")
    return consent


@audited_transaction()
def record_intake(
    user,
    organization: Organization,
    program: Program,
    *,
    name: str,
    eligibility_reason: str,
    consents: dict[str, tuple[bool, list[str]]],
    consent_text_version: str,
    date_of_birth: dt.date | None = None,
    phone: str = "",
    address: str = "",
    area=None,
    priority_reason: str = "",
    identified_on: dt.date | None = None,
    simulated_person: int | None = None,
    worker=None,
    intake_on: dt.date | None = None,
) -> Participant:
    """A new participant on the program's waiting list, with a consent record for every
    kind of disclosure (each a yes or a no, never left unasked). ``intake_on`` is the day of
    the intake conversation when it is written up later (default today)."""
    if program.organization_id != organization.pk:
        raise ActionError(f"{program} is not a program of {organization}")
    if not name.strip():
        raise ActionError("a name is required")
    if not eligibility_reason.strip():
        raise ActionError("the eligibility reason is required, in a person's words")
    missing = {k for k in Consent.Kind.values} - set(consents)
    if missing:
        raise ActionError(f"consent not asked: {', '.join(sorted(missing))}")
    today = timezone.localdate()
    intake_on = intake_on or today
    if identified_on is not None and identified_on > intake_on:
        raise ActionError(f"identified on {identified_on} is after the intake on {intake_on}")
    participant = Participant.objects.create(
        organization=organization,
        program=program,
        name=name.strip(),
        date_of_birth=date_of_birth,
        phone=phone.strip(),
        address=address.strip(),
        area=area,
        eligibility_reason=eligibility_reason.strip(),
        priority_reason=priority_reason.strip(),
        identified_on=identified_on or today,
        intake_on=intake_on,
        simulated_person=simulated_person,
        worker=worker or user,
    )
    record(user, "participant.intake", participant, f"waiting list of {program}")
    for kind, (granted, fields) in consents.items():
        record_consent(user, participant, kind, granted, consent_text_version, fields)
    return participant


PERSONAL_FIELDS = ("name", "date_of_birth", "phone", "address", "area")


def personal_version(participant: Participant) -> str:
    """A short keyed digest of the personal fields as they are now: an edit form carries it,
    and an edit made from a form opened before someone else's change is refused rather than
    silently undoing it. Keyed (``SECRET_KEY``), so it says nothing about the values."""
    from django.utils.crypto import salted_hmac

    current = "\x1f".join(
        str(getattr(participant, f + "_id" if f == "area" else f) or "") for f in PERSONAL_FIELDS
    )
    return salted_hmac("gvrs.partners.personal", current).hexdigest()[:20]


@audited_transaction()
def update_personal_fields(user, participant: Participant, *, version: str, **changes) -> list:
    """Correct a participant's personal fields after intake (a new phone, a move). Only the
    fields that differ are written; the audit row names them, never their old or new values.
    Returns the names of the fields changed."""
    unknown = set(changes) - set(PERSONAL_FIELDS)
    if unknown:
        raise ActionError(f"not a personal field: {', '.join(sorted(unknown))}")
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.purged_at:
        raise ActionError("the participant's record has been purged; it cannot be edited")
    if version != personal_version(participant):
        raise ActionError(
            "someone changed these details since you opened the form; the current values are"
            " shown, make your change again"
        )
    if "name" in changes and not str(changes["name"]).strip():
        raise ActionError("a name is required")
    cleaned = {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    changed = [f for f, v in cleaned.items() if getattr(participant, f) != v]
    if not changed:
        return []
    for f in changed:
        setattr(participant, f, cleaned[f])
    participant.save(update_fields=changed)
    record(user, "participant.edit", participant, f"changed: {', '.join(changed)}")
    return changed


@audited_transaction()
def enrol_participant(user, participant: Participant, on: dt.date | None = None) -> Participant:
    """Move a participant from the waiting list into the program, within its capacity and
    the worker's caseload limit."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.status != Participant.Status.WAITING:
        raise ActionError(
            f"only someone on the waiting list can be enrolled (now {participant.status})"
        )
    program = Program.objects.select_for_update().get(pk=participant.program_id)
    enrolled = Participant.objects.filter(program=program).enrolled().count()
    if enrolled >= program.capacity:
        raise ActionError(
            f"{program} is full ({enrolled} of {program.capacity}); the participant stays on"
            " the waiting list"
        )
    if participant.worker_id:
        caseload = (
            Participant.objects.filter(program=program, worker_id=participant.worker_id)
            .enrolled()
            .count()
        )
        if caseload >= program.caseload_per_worker:
            raise ActionError(
                f"the worker already has {caseload} participants, the program's limit per worker"
            )
    participant.status = Participant.Status.ENROLLED
    participant.enrolled_on = on or timezone.localdate()
    participant.save(update_fields=["status", "enrolled_on"])
    record(user, "participant.enrol", participant, f"enrolled in {program}")
    return participant


@audited_transaction()
def exit_participant(
    user, participant: Participant, reason: str, on: dt.date | None = None, note: str = ""
) -> Participant:
    if participant.status == Participant.Status.EXITED:
        raise ActionError("the participant has already exited")
    if reason not in Participant.ExitReason.values:
        raise ActionError(f"unknown exit reason {reason!r}")
    participant.status = Participant.Status.EXITED
    participant.exited_on = on or timezone.localdate()
    participant.exit_reason = reason
    participant.exit_note = note
    participant.save(update_fields=["status", "exited_on", "exit_reason", "exit_note"])
    record(user, "participant.exit", participant, reason)
    return participant


@audited_transaction()
def start_life_plan(user, participant: Participant, goals=()) -> LifePlan:
    """``goals``: (domain, description, target_on) triples."""
    plan = LifePlan.objects.create(participant=participant, created_by=user)
    record(user, "plan.create", plan, f"for participant {participant.pk}")
    for domain, description, target_on in goals:
        add_goal(user, plan, domain, description, target_on)
    return plan


@audited_transaction()
def add_goal(user, plan: LifePlan, domain: str, description: str, target_on=None) -> Goal:
    if domain not in Goal.Domain.values:
        raise ActionError(f"unknown life domain {domain!r}")
    goal = Goal.objects.create(
        plan=plan, domain=domain, description=description, target_on=target_on
    )
    record(user, "plan.goal", plan, f"goal {goal.pk} ({domain})")
    return goal


@audited_transaction()
def set_goal_status(user, goal: Goal, status: str) -> Goal:
    if status not in Goal.Status.values:
        raise ActionError(f"unknown goal status {status!r}")
    before = goal.status
    if before == status:
        return goal
    goal.status = status
    goal.save(update_fields=["status"])
    record(user, "plan.goal_status", goal.plan, f"goal {goal.pk}: {before} to {status}")
    return goal


@audited_transaction()
def add_milestone(user, goal: Goal, description: str, due_on=None) -> Milestone:
    milestone = Milestone.objects.create(goal=goal, description=description, due_on=due_on)
    record(user, "plan.milestone", goal.plan, f"milestone {milestone.pk} of goal {goal.pk}")
    return milestone


@audited_transaction()
def complete_milestone(user, milestone: Milestone, on: dt.date | None = None) -> Milestone:
    milestone.done_on = on or timezone.localdate()
    milestone.save(update_fields=["done_on"])
    record(user, "plan.milestone_done", milestone.goal.plan, f"milestone {milestone.pk}")
    return milestone


@audited_transaction()
def log_contact(
    user, participant: Participant, *, on, duration_minutes: int, kind: str, place: str, note=""
) -> Contact:
    if on > timezone.localdate():
        raise ActionError("a contact cannot be logged in the future")
    contact = Contact.objects.create(
        participant=participant,
        on=on,
        duration_minutes=duration_minutes,
        kind=kind,
        place=place,
        by=user if getattr(user, "is_authenticated", False) else None,
        note=note,
    )
    record(user, "contact.log", contact, f"participant {participant.pk}, {kind}")
    return contact


@audited_transaction()
def record_service(user, participant: Participant, *, kind: str, delivered_on, note="") -> Service:
    service = Service.objects.create(
        participant=participant,
        kind=kind,
        delivered_on=delivered_on,
        by=user if getattr(user, "is_authenticated", False) else None,
        note=note,
    )
    record(user, "service.record", service, f"participant {participant.pk}, {kind}")
    return service


@audited_transaction()
def record_mediation(
    user, organization, *, on, parties: int, outcome: str, area=None, participants=(), note=""
) -> Mediation:
    if any(p.organization_id != organization.pk for p in participants):
        raise ActionError("a mediation can name only the organization's own participants")
    mediation = Mediation.objects.create(
        organization=organization,
        on=on,
        parties=parties,
        outcome=outcome,
        area=area,
        note=note,
        by=user,
    )
    mediation.participants.set(participants)
    record(user, "mediation.record", mediation, outcome)
    return mediation


@audited_transaction()
def record_retaliation_interrupted(
    user, organization, *, on, area=None, participant=None, note=""
) -> RetaliationInterrupted:
    if participant is not None and participant.organization_id != organization.pk:
        raise ActionError("the participant is not one of the organization's")
    entry = RetaliationInterrupted.objects.create(
        organization=organization, on=on, area=area, participant=participant, note=note, by=user
    )
    record(user, "retaliation.interrupted", entry)
    return entry


@audited_transaction()
def record_outcome(
    user, participant: Participant, *, window_start, window_end, **answers
) -> Outcome:
    if window_end < window_start:
        raise ActionError("the outcome window ends before it starts")
    outcome = Outcome.objects.create(
        participant=participant,
        window_start=window_start,
        window_end=window_end,
        recorded_by=user,
        **answers,
    )
    record(user, "outcome.record", outcome, f"participant {participant.pk}")
    return outcome


@audited_transaction()
def send_referral(
    user, participant: Participant, to_organization: Organization, *, reason: str, needs: str = ""
) -> Referral:
    """Refer a participant to another partner. The participant's consent is read now, at
    the moment of sending: without a granted consent nothing is sent, and only the fields it
    covers are copied into the referral."""
    if to_organization.kind != Organization.Kind.PARTNER:
        raise ActionError("referrals go only to partner organizations")
    if to_organization.pk == participant.organization_id:
        raise ActionError("a referral goes to another organization")
    if participant.status == Participant.Status.EXITED and participant.purged_at:
        raise ActionError("the participant's record has been purged")
    consent = participant.current_consent(Consent.Kind.REFER_TO_PARTNER)
    if consent is None or not consent.granted:
        raise ActionError(
            "the participant has not consented to disclosure to another partner; record their"
            " consent first"
        )
    fields = list(consent.fields)
    referral = Referral.objects.create(
        participant=participant,
        from_organization_id=participant.organization_id,
        to_organization=to_organization,
        reason=reason,
        fields=fields,
        shared_name=participant.name if "name" in fields else "",
        shared_date_of_birth=participant.date_of_birth if "date_of_birth" in fields else None,
        shared_phone=participant.phone if "phone" in fields else "",
        shared_address=participant.address if "address" in fields else "",
        shared_needs=needs if "needs" in fields else "",
        consent=consent,
        sent_by=user,
    )
    record(
        user,
        "referral.send",
        referral,
        f"participant {participant.pk} to {to_organization}; fields: {', '.join(fields) or 'none'}",
    )
    return referral


def _respond(referral: Referral) -> None:
    if referral.status != Referral.Status.SENT:
        raise ActionError(f"the referral was already {referral.status}")


@audited_transaction()
def accept_referral(user, referral: Referral, program: Program) -> Referral:
    """The receiving organization accepts and puts the person on its program's waiting list,
    knowing only what the referral carried."""
    _respond(referral)
    if program.organization_id != referral.to_organization_id:
        raise ActionError("the program must be one of the receiving organization's")
    received = Participant.objects.create(
        organization_id=referral.to_organization_id,
        program=program,
        name=referral.shared_name or f"referral {referral.pk} (name not shared)",
        date_of_birth=referral.shared_date_of_birth,
        phone=referral.shared_phone,
        address=referral.shared_address,
        eligibility_reason=f"referred by {referral.from_organization}: {referral.reason}",
        worker=user,
    )
    record(user, "participant.intake", received, f"from referral {referral.pk}")
    referral.status = Referral.Status.ACCEPTED
    referral.responded_at = timezone.now()
    referral.responded_by = user
    referral.received_as = received
    referral.save(update_fields=["status", "responded_at", "responded_by", "received_as"])
    record(user, "referral.accept", referral, f"into {program}")
    return referral


@audited_transaction()
def decline_referral(user, referral: Referral, reason: str) -> Referral:
    _respond(referral)
    if not reason.strip():
        raise ActionError("a declined referral needs its reason")
    referral.status = Referral.Status.DECLINED
    referral.responded_at = timezone.now()
    referral.responded_by = user
    referral.decline_reason = reason.strip()
    referral.save(update_fields=["status", "responded_at", "responded_by", "decline_reason"])
    # The reason is free text, kept encrypted on the referral; the log says only what happened.
    record(user, "referral.decline", referral, "declined, with a reason")
    return referral


@audited_transaction()
def complete_referral(user, referral: Referral, outcome: str) -> Referral:
    if referral.status != Referral.Status.ACCEPTED:
        raise ActionError("only an accepted referral can be completed")
    if not outcome.strip():
        raise ActionError("a completed referral needs its outcome")
    referral.status = Referral.Status.COMPLETED
    referral.completed_at = timezone.now()
    referral.outcome = outcome.strip()
    referral.save(update_fields=["status", "completed_at", "outcome"])
    record(user, "referral.complete", referral, "completed, with an outcome")
    return referral


PURGED = "[purged]"


@audited_transaction()
def purge_participant(user, participant: Participant, now=None) -> None:
    """Erase a participant's personal fields and free text, keeping the records that are
    counted (status, dates, program, area, contacts, services, outcomes)."""
    now = now or timezone.now()
    participant.name = PURGED
    participant.date_of_birth = None
    participant.phone = ""
    participant.address = ""
    participant.eligibility_reason = PURGED
    participant.priority_reason = ""
    participant.exit_note = ""
    participant.purged_at = now
    participant.save()
    participant.contacts.update(note="")
    participant.services.update(note="")
    Goal.objects.filter(plan__participant=participant).update(description=PURGED)
    Milestone.objects.filter(goal__plan__participant=participant).update(description=PURGED)
    participant.referrals.update(
        shared_name="",
        shared_date_of_birth=None,
        shared_phone="",
        shared_address="",
        shared_needs="",
        reason=PURGED,
    )
    RetaliationInterrupted.objects.filter(participant=participant).update(note="")
    record(user, "participant.purge", participant, "personal fields erased after retention")
