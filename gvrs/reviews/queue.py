"""How shootings enter the review queue, and the review policy each place follows.

Every homicide and nonfatal shooting that enters the registry (through any import: the
command line, the web import, the demo) gets a ``Review`` in the open queue, due
``deadline_days`` after the shooting: the strategy's clock runs from the shooting, so a late
import eats into the deadline and the figures show it. A shooting already older than
``queue_back_days`` when it arrives is history (a back-fill of past years), not a case for the
weekly review. ``queue_new_shootings`` is idempotent; ``gvrs review_queue`` runs it by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gvrs.incidents.models import ImportRun, Incident, Jurisdiction
from gvrs.reviews.models import REVIEWED_KINDS, Review, ReviewPolicy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    deadline_days: int
    queue_back_days: int
    designation_months: int
    alert_window_days: int


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or that month's last day (31 Jan + 1 -> 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def default_policy() -> Policy:
    return Policy(
        settings.GVRS_REVIEW_DEADLINE_DAYS,
        settings.GVRS_REVIEW_QUEUE_BACK_DAYS,
        settings.GVRS_DESIGNATION_MONTHS,
        settings.GVRS_ALERT_WINDOW_DAYS,
    )


def policy_for(jurisdiction_id: int, _cache: dict | None = None) -> Policy:
    """The policy of the place or of the nearest place above it that has one."""
    cache = {} if _cache is None else _cache
    if jurisdiction_id in cache:
        return cache[jurisdiction_id]
    node = Jurisdiction.objects.filter(pk=jurisdiction_id).values("pk", "parent_id").first()
    found = None
    while node is not None and found is None:
        stored = ReviewPolicy.objects.filter(jurisdiction_id=node["pk"]).first()
        if stored is not None:
            found = Policy(
                stored.deadline_days,
                stored.queue_back_days,
                stored.designation_months,
                stored.alert_window_days,
            )
        elif node["parent_id"] is not None:
            node = (
                Jurisdiction.objects.filter(pk=node["parent_id"]).values("pk", "parent_id").first()
            )
        else:
            node = None
    cache[jurisdiction_id] = found or default_policy()
    return cache[jurisdiction_id]


def queue_new_shootings(*, run: ImportRun | None = None) -> int:
    """Give each recent homicide and nonfatal shooting without a review its place in the
    queue (those of one import run when ``run`` is given); return how many entered."""
    stored = ReviewPolicy.objects.values_list("queue_back_days", flat=True)
    longest = max([default_policy().queue_back_days, *stored])
    # Dates are local to each place; a day's margin keeps every zone's "today" inside.
    earliest = timezone.now().date() - dt.timedelta(days=longest + 1)
    candidates = Incident.objects.filter(occurred_on__gte=earliest)
    if run is not None:
        candidates = candidates.filter(import_run=run)
    return queue_incidents(candidates, recent_only=True)


def queue_incidents(
    incidents, *, queued_at: dt.datetime | None = None, recent_only: bool = False
) -> int:
    """Queue the homicides and nonfatal shootings among ``incidents`` that have no review
    (all of them, or with ``recent_only`` those inside their place's queue_back_days):
    ``gvrs review_queue --since`` uses it to take a back-fill into the review on purpose.
    ``queued_at`` is when they entered the queue (default now). Returns how many entered."""
    now = queued_at or timezone.now()
    candidates = incidents.filter(kind__in=REVIEWED_KINDS, review__isnull=True).select_related(
        "jurisdiction"
    )
    cache: dict[int, Policy] = {}
    new = []
    for incident in candidates.only("pk", "occurred_on", "circumstance", "jurisdiction"):
        policy = policy_for(incident.jurisdiction_id, cache)
        if recent_only:
            today = incident.jurisdiction.today()
            if incident.occurred_on < today - dt.timedelta(days=policy.queue_back_days):
                continue
        new.append(
            Review(
                incident=incident,
                queued_at=now,
                due_on=incident.occurred_on + dt.timedelta(days=policy.deadline_days),
                circumstance=incident.circumstance,
            )
        )
    with transaction.atomic():
        Review.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def queue_after_import(sender, instance: ImportRun, **kwargs) -> None:
    """post_save of an import run: once it finished with incidents stored, queue them."""
    if (
        instance.finished_at is not None
        and instance.target == "incidents"
        and instance.status in (ImportRun.Status.SUCCEEDED, ImportRun.Status.PARTIAL)
        and (instance.incidents_inserted or instance.incidents_updated)
    ):
        try:
            queue_new_shootings(run=instance)
        except Exception:
            # The import itself has committed and must not read as failed; the queue is
            # repaired by the next import or by `gvrs review_queue`.
            logger.exception("could not queue the shootings of import run %s", instance.pk)
