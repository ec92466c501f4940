"""Which emails are due and sending them, once each.

An event is something a subscriber should hear of: a retaliation alert that is open, a
shooting review past its due day, a scheduled import that failed. Each reaches the users
subscribed to its kind for its place or a place containing it, who still hold a role that may
see it (a partner worker hears only of alerts delivered to their own organization, as the
inbox shows them). Each (user, event) gets one ``Notice``: a sweep sends what has none yet, so
``gvrs notify`` and the worker can run it as often as they like.

A message carries the kind, the place and the day, and a link to sign in: never an area,
a group, a victim, a participant or any other detail of the event. Those are read on the
page, behind the sign-in and its audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from gvrs.incidents.models import Jurisdiction, ScheduledRun
from gvrs.notifications.models import KIND_PERMISSIONS, Kind, Notice, Subscription
from gvrs.reviews.models import Alert, AlertDelivery, Review

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5  # a message the mail server keeps refusing is given up after this many
FAILED_RUNS_BACK = dt.timedelta(days=7)  # older failures are history, not news


@dataclass(frozen=True)
class Event:
    kind: str
    key: str
    place: Jurisdiction | None  # None: of no place (a schedule without one): every subscriber
    day: dt.date
    organizations: frozenset[int] = field(default_factory=frozenset)  # alerts: delivered to


@dataclass
class Sweep:
    sent: int = 0
    failed: int = 0
    no_address: int = 0
    off: str = ""  # why nothing was sent (email not configured)

    def describe(self) -> str:
        if self.off:
            return self.off
        return (
            f"{self.sent} emails sent, {self.failed} failed (retried next time), "
            f"{self.no_address} subscribers without an email address"
        )


def email_configured() -> bool:
    return bool(settings.EMAIL_HOST)


def _ancestors(place: Jurisdiction) -> list[int]:
    ids, node = [], place
    while node is not None and len(ids) < 10:
        ids.append(node.pk)
        node = node.parent
    return ids


def recipients(event: Event) -> list:
    """The active users subscribed to this event's kind for its place (or one above it) whose
    role may see it now."""
    subscriptions = Subscription.objects.filter(kind=event.kind, user__is_active=True)
    if event.place is not None:
        subscriptions = subscriptions.filter(place_id__in=_ancestors(event.place))
    users = {s.user_id: s.user for s in subscriptions.select_related("user__membership")}
    wanted = KIND_PERMISSIONS[Kind(event.kind)]
    found = []
    for user in users.values():
        if not any(user.has_perm(p) for p in wanted):
            continue
        if event.kind == Kind.RETALIATION_ALERT and not user.has_perm("reviews.review_shootings"):
            # Partner staff: alerts reach them through their organization's coverage only.
            membership = getattr(user, "membership", None)
            if membership is None or membership.organization_id not in event.organizations:
                continue
        found.append(user)
    return found


def _site(path: str) -> str:
    return settings.GVRS_SITE_URL.rstrip("/") + path


def message(event: Event, user) -> tuple[str, str]:
    """(subject, body): the kind, the place and the day, and where to sign in."""
    where = event.place.name if event.place is not None else "gvrs"
    if event.kind == Kind.RETALIATION_ALERT:
        partner = not user.has_perm("reviews.review_shootings")
        subject = f"gvrs: a retaliation alert is open in {where}"
        what = f"A retaliation alert was opened in {where} on {event.day:%-d %b %Y}."
        path = reverse("reviews-inbox" if partner else "reviews-alerts")
    elif event.kind == Kind.OVERDUE_REVIEW:
        subject = f"gvrs: a shooting review is overdue in {where}"
        what = f"A shooting review in {where} was due on {event.day:%-d %b %Y} and is not done."
        path = reverse("reviews-queue")
    else:
        subject = f"gvrs: a scheduled import failed for {where}"
        what = f"A scheduled import for {where} failed on {event.day:%-d %b %Y}."
        path = reverse("incidents-imports")
    body = (
        f"{what}\n\n"
        f"Sign in to read it: {_site(path)}\n\n"
        "This message holds no details on purpose; they are on the page, behind your sign-in.\n"
        f"You receive it because you subscribed to {Kind(event.kind).label} for a place that "
        f"includes {where}. Change what you receive: {_site(reverse('notifications-settings'))}\n"
    )
    return subject, body


def events(today: dt.date | None = None) -> list[Event]:
    """Everything a subscriber should hear of now. Alerts are placed in the town of their
    shooting, never by area: a subscriber hears where, not which corner."""
    today = today or timezone.localdate()
    found = []
    # One email per reviewed shooting, however many areas its alerts cover.
    by_review: dict[int, list[Alert]] = {}
    for alert in Alert.objects.open_on(today).select_related("review__incident__jurisdiction"):
        by_review.setdefault(alert.review_id, []).append(alert)
    for review_id, alerts in by_review.items():
        delivered = AlertDelivery.objects.filter(alert__in=alerts)
        found.append(
            Event(
                Kind.RETALIATION_ALERT,
                f"alerts-of-review-{review_id}",
                alerts[0].review.incident.jurisdiction,
                min(a.starts_on for a in alerts),
                frozenset(delivered.values_list("organization_id", flat=True)),
            )
        )
    for review in (
        Review.objects.open()
        .filter(due_on__lt=today)
        .select_related("incident__jurisdiction__parent")
    ):
        found.append(
            Event(
                Kind.OVERDUE_REVIEW,
                f"review-{review.pk}",
                review.incident.jurisdiction,
                review.due_on,
            )
        )
    since = timezone.now() - FAILED_RUNS_BACK
    for run in ScheduledRun.objects.filter(
        outcome=ScheduledRun.Outcome.FAILED, started_at__gte=since
    ).select_related("schedule__place__parent"):
        found.append(_failed_run_event(run))
    return found


def _failed_run_event(run: ScheduledRun) -> Event:
    return Event(
        Kind.IMPORT_FAILED,
        f"scheduled-run-{run.pk}",
        run.schedule.place,
        timezone.localtime(run.started_at).date(),
    )


def send(found: list[Event]) -> Sweep:
    """Send each event to each recipient who has not had it; record every attempt."""
    sweep = Sweep()
    if not email_configured():
        sweep.off = (
            f"email is not configured (GVRS_EMAIL_HOST): {len(found)} events not sent; "
            "see docs/configuration.md"
        )
        return sweep
    done = {
        (user_id, kind, key)
        for user_id, kind, key, status, attempts in Notice.objects.filter(
            key__in=[e.key for e in found]
        ).values_list("user_id", "kind", "key", "status", "attempts")
        if status != Notice.Status.FAILED or attempts >= MAX_ATTEMPTS
    }
    connection = None
    try:
        for event in found:
            for user in recipients(event):
                if (user.pk, event.kind, event.key) in done:
                    continue
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    connection.open()
                _deliver(connection, event, user, sweep)
    finally:
        if connection is not None:
            connection.close()
    return sweep


def _deliver(connection, event: Event, user, sweep: Sweep) -> None:
    subject, body = message(event, user)
    status, error = Notice.Status.SENT, ""
    if not user.email:
        status = Notice.Status.NO_ADDRESS
        sweep.no_address += 1
    else:
        try:
            EmailMessage(
                subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], connection=connection
            ).send()
            sweep.sent += 1
        except Exception as exc:  # the server refused or vanished: recorded, retried
            log.warning("email to %s about %s failed: %s", user.get_username(), event.key, exc)
            status, error = Notice.Status.FAILED, f"{exc.__class__.__name__}: {exc}"[:300]
            sweep.failed += 1
    notice, created = Notice.objects.get_or_create(
        user=user,
        kind=event.kind,
        key=event.key,
        defaults={
            "place": event.place,
            "subject": subject[:200],
            "recipient": user.email,
            "status": status,
            "error": error,
            "at": timezone.now(),
        },
    )
    if not created:
        Notice.objects.filter(pk=notice.pk).update(
            status=status, error=error, attempts=notice.attempts + 1, at=timezone.now()
        )


def send_pending() -> Sweep:
    return send(events())


@task()
def send_notices() -> str:
    """The worker's job: send what is due."""
    return send_pending().describe()


def on_alert_saved(sender, instance, created: bool, **kwargs) -> None:
    """A new alert: the worker sends its emails as soon as the review's transaction commits."""
    if created:
        transaction.on_commit(lambda: send_notices.enqueue())


def on_import_failed(sender, run: ScheduledRun, **kwargs) -> int:
    """A failed scheduled import is told at once to the subscribed administrators; returns
    how many were emailed."""
    return send([_failed_run_event(run)]).sent
