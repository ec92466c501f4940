"""The review's figures for a place and a period, each with the counts behind it.

- **Reviewed within the deadline**: of the shootings whose deadline fell in the period (and
  has passed), how many were reviewed by it.
- **Group-involved share** of homicides and of shootings (nonfatal shootings and firearm
  homicides), confirmed and suspected apart, among those *reviewed*; the ones still in the
  queue are counted beside it, never guessed. A shooting counts as group-involved only while
  one of the groups its review names is designated: on the day after a designation expires,
  the shootings resting on that group alone leave the numerator (they stay in the
  denominator, as shootings).
- **Responses done within 24 hours** of the shooting entering the queue.
- **Custom notifications** attempted and delivered.
- **Alerts** issued, and what followed: whether another homicide or shooting happened in the
  alert's area inside its window. An alert whose window is still open, or runs past the end
  of the incident data's recorded coverage, is not judged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q

from gvrs.incidents.coverage import source_coverage
from gvrs.incidents.models import Incident, Jurisdiction
from gvrs.reviews.models import REVIEWED_KINDS, Alert, Group, Response, Review


@dataclass(frozen=True)
class Share:
    label: str
    total: int  # in the period
    reviewed: int
    confirmed: int
    suspected: int

    @property
    def not_reviewed(self) -> int:
        return self.total - self.reviewed

    @property
    def confirmed_share(self) -> float | None:
        return self.confirmed / self.reviewed if self.reviewed else None

    @property
    def suspected_share(self) -> float | None:
        return self.suspected / self.reviewed if self.reviewed else None

    @property
    def involved_share(self) -> float | None:
        return (self.confirmed + self.suspected) / self.reviewed if self.reviewed else None


@dataclass(frozen=True)
class AlertOutcome:
    alert: Alert
    followed: int | None  # shootings in its area and window; None: not judged yet
    why_not_judged: str = ""


@dataclass(frozen=True)
class ReviewFigures:
    place: Jurisdiction
    since: dt.date
    until: dt.date
    as_of: dt.date
    due: int
    on_time: int
    overdue_open: int
    homicides: Share
    shootings: Share
    responses: int
    responses_within_24h: int
    notifications: int
    notifications_attempted: int
    notifications_delivered: int
    alerts: list[AlertOutcome] = field(default_factory=list)
    covered_through: dt.date | None = None

    @property
    def alerts_judged(self) -> int:
        return sum(1 for a in self.alerts if a.followed is not None)

    @property
    def alerts_unjudged(self) -> int:
        return len(self.alerts) - self.alerts_judged

    @property
    def shares(self) -> tuple[Share, Share]:
        return (self.homicides, self.shootings)

    @property
    def alerts_followed(self) -> int:
        return sum(1 for a in self.alerts if a.followed)


def _is_shooting(incident: Incident) -> bool:
    return incident.kind == "nonfatal_shooting" or (
        incident.kind == "homicide" and incident.weapon == "firearm"
    )


def review_figures(
    place: Jurisdiction, since: dt.date, until: dt.date, *, as_of: dt.date | None = None
) -> ReviewFigures:
    as_of = as_of or place.today()
    places = place.descendant_ids()
    designated = set(Group.objects.designated(as_of).values_list("pk", flat=True))

    incidents = list(
        Incident.objects.filter(
            jurisdiction_id__in=places, kind__in=REVIEWED_KINDS, occurred_on__range=(since, until)
        ).only("pk", "kind", "weapon", "occurred_on")
    )
    reviews = {
        r.incident_id: r
        for r in Review.objects.filter(incident_id__in=[i.pk for i in incidents])
        .select_related("incident__jurisdiction")
        .prefetch_related("victim_groups", "suspect_groups")
    }

    def share(label: str, chosen: list[Incident]) -> Share:
        reviewed = confirmed = suspected = 0
        for incident in chosen:
            review = reviews.get(incident.pk)
            if review is None or review.status != Review.Status.DONE:
                continue
            reviewed += 1
            named = {g.pk for g in review.victim_groups.all()} | {
                g.pk for g in review.suspect_groups.all()
            }
            if not named & designated:
                continue
            if review.group_involvement == Review.Involvement.CONFIRMED:
                confirmed += 1
            elif review.group_involvement == Review.Involvement.SUSPECTED:
                suspected += 1
        return Share(label, len(chosen), reviewed, confirmed, suspected)

    homicides = share("homicides", [i for i in incidents if i.kind == "homicide"])
    shootings = share("shootings", [i for i in incidents if _is_shooting(i)])

    queue = Review.objects.filter(incident__jurisdiction_id__in=places).select_related(
        "incident__jurisdiction"
    )
    due_reviews = list(queue.filter(due_on__range=(since, min(until, as_of - dt.timedelta(1)))))
    on_time = sum(1 for r in due_reviews if r.reviewed_on_time)
    overdue_open = queue.open().filter(due_on__lt=as_of).count()

    responses = list(
        Response.objects.filter(review__incident_id__in=[i.pk for i in incidents])
        .exclude(status=Response.Status.CANCELLED)
        .select_related("review")
    )
    within = sum(
        1
        for r in responses
        if r.done_at is not None and r.done_at - r.review.queued_at <= dt.timedelta(hours=24)
    )
    notes = [r for r in responses if r.kind == Response.Kind.CUSTOM_NOTIFICATION]

    covered_through = _covered_through(places)
    outcomes = []
    alerts = Alert.objects.filter(
        review__incident__jurisdiction_id__in=places, starts_on__range=(since, until)
    ).select_related("area", "group", "review")
    for alert in alerts:
        if alert.ends_on >= as_of:
            outcomes.append(AlertOutcome(alert, None, "its window is still open"))
        elif covered_through is None or alert.ends_on > covered_through:
            outcomes.append(AlertOutcome(alert, None, "the data do not cover its window yet"))
        else:
            followed = (
                Incident.objects.filter(
                    area=alert.area,
                    kind__in=REVIEWED_KINDS,
                    occurred_on__range=(alert.starts_on, alert.ends_on),
                )
                .exclude(pk=alert.review.incident_id)
                .count()
            )
            outcomes.append(AlertOutcome(alert, followed))
    return ReviewFigures(
        place=place,
        since=since,
        until=until,
        as_of=as_of,
        due=len(due_reviews),
        on_time=on_time,
        overdue_open=overdue_open,
        homicides=homicides,
        shootings=shootings,
        responses=len(responses),
        responses_within_24h=within,
        notifications=len(notes),
        notifications_attempted=sum(
            1 for r in notes if r.status in (Response.Status.ATTEMPTED, Response.Status.DONE)
        ),
        notifications_delivered=sum(1 for r in notes if r.status == Response.Status.DONE),
        alerts=outcomes,
        covered_through=covered_through,
    )


def _covered_through(places: list[int]) -> dt.date | None:
    """The last day the place's incident sources record (issue 10's coverage)."""
    sources = list(
        Incident.objects.filter(Q(jurisdiction_id__in=places))
        .values_list("source", flat=True)
        .distinct()
    )
    coverage = source_coverage(sources) if sources else {}
    lasts = [c.last for c in coverage.values() if c.last is not None]
    return max(lasts) if lasts else None
