"""The review's part of ``gvrs demo``: the simulator's groups and conflicts (``groups.csv``,
``conflicts.csv``) become the Kern-like county's group audit, the partner organizations cover
the areas their participants live in, and the last 30 days of simulated shootings become
the review queue: those whose weekly meeting has been held are reviewed, with their responses
and the alerts those reviews opened (so alerts of the last days are open today); the newest
wait for the next meeting, due a week after the shooting.

The simulated incident data end yesterday, so the audit has a history: each group was first
designated in the year before and renewed when that designation ran out, except a few whose
designations lapsed and wait on the renewal list. Reviews are written as held at the meeting
after each shooting (``complete_review(at=...)``); what the review finds about groups comes
from the simulator's truth (``events.csv``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
from django.contrib.auth.models import User
from django.utils import timezone

from gvrs.accounts.audit import audited_transaction
from gvrs.accounts.models import Organization
from gvrs.incidents.models import Area, Incident, Jurisdiction
from gvrs.partners.models import Participant
from gvrs.reviews import actions
from gvrs.reviews.models import Group, Response, Review
from gvrs.reviews.queue import queue_incidents

# The queue holds the shootings of the last 30 days (the default queue_back_days: the import
# queued them already, as any import of recent shootings does).
QUEUE_DAYS = 30
LAPSED_GROUPS = 3  # designations left to lapse, to show the renewal list
MEETING_WEEKDAY = 1  # Tuesday


def meeting_after(day: dt.date) -> dt.date:
    """The weekly review meeting at least two days after a shooting."""
    day = day + dt.timedelta(days=2)
    return day + dt.timedelta(days=(MEETING_WEEKDAY - day.weekday()) % 7)


def _at(place: Jurisdiction, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=place.zone)


@audited_transaction()
def build_review_demo(folder: Path, *, county: str, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    analyst = User.objects.get(username="analyst")
    police = User.objects.get(username="police")
    place = Jurisdiction.objects.named(county)
    today = place.today()
    truth = json.loads((folder / "truth.json").read_text())
    start, end = dt.date.fromisoformat(truth["start"]), dt.date.fromisoformat(truth["end"])
    areas = {
        (a.jurisdiction.name, a.name): a
        for a in Area.objects.filter(jurisdiction_id__in=place.descendant_ids()).select_related(
            "jurisdiction"
        )
    }
    towns = {j.name: j for j in Jurisdiction.objects.filter(parent=place)}

    groups: dict[int, Group] = {}
    lapsed = 0
    for row in pd.read_csv(folder / "groups.csv").itertuples():
        turf = areas.get((row.town, row.turf))
        group = actions.create_group(
            analyst, towns[row.town], name=row.name, areas=[turf] if turf else []
        )
        first_on = end - dt.timedelta(days=int(rng.integers(60, 540)))
        first = actions.designate(
            analyst,
            group,
            criteria="A name, a claimed area and a pattern of shootings (simulated)",
            evidence=f"Shootings reviewed as group-involved in {row.turf} (simulated)",
            on=first_on,
        )
        if first.expires_on < today and lapsed < LAPSED_GROUPS:
            lapsed += 1
        else:
            latest = first
            while latest.expires_on < today:  # renewed at each annual audit since
                renew_on = min(
                    today, latest.expires_on - dt.timedelta(days=int(rng.integers(0, 21)))
                )
                latest = actions.designate(
                    police,
                    group,
                    criteria="Still meets the criteria at the annual audit (simulated)",
                    evidence="Shootings and field reports of the last twelve months (simulated)",
                    on=renew_on,
                )
        groups[int(row.group_id)] = group

    events = pd.read_csv(
        folder / "events.csv",
        usecols=["event_id", "t", "group_involved", "victim_group", "shooter_group"],
    ).set_index("event_id")
    source_prefix = f"SIM{seed}-"
    conflicts = 0
    for row in pd.read_csv(folder / "conflicts.csv").itertuples():
        a, b = groups[int(row.group_a)], groups[int(row.group_b)]
        pair = events[
            ((events["victim_group"] == row.group_a) & (events["shooter_group"] == row.group_b))
            | ((events["victim_group"] == row.group_b) & (events["shooter_group"] == row.group_a))
        ]
        evidence = Incident.objects.filter(
            source_id__in=[f"{source_prefix}{i:07d}" for i in pair.index[-5:]]
        )
        actions.record_conflict(
            analyst,
            a,
            b,
            kind="conflict" if row.relation == "rivalry" else "alliance",
            started_on=dt.date.fromisoformat(str(row.since)),
            evidence=f"{len(pair)} shootings between the two since {start:%Y} (simulated)",
            incidents=list(evidence),
        )
        conflicts += 1

    partners = Organization.objects.filter(kind=Organization.Kind.PARTNER)
    for organization in partners:
        covered = Area.objects.filter(
            pk__in=Participant.objects.filter(organization=organization, area__isnull=False)
            .values("area")
            .distinct()
        )
        actions.set_coverage(analyst, organization, covered)

    shootings = Incident.objects.filter(
        jurisdiction_id__in=place.descendant_ids(),
        occurred_on__gt=end - dt.timedelta(days=QUEUE_DAYS),
        occurred_on__lte=end,
    )
    for day in sorted(set(shootings.values_list("occurred_on", flat=True))):
        # Each entered the queue the morning after it happened (the import queued the recent
        # ones when it ran: as if it had run every morning).
        queued_at = _at(place, day + dt.timedelta(days=1), 8)
        queue_incidents(shootings.filter(occurred_on=day), queued_at=queued_at)
        Review.objects.filter(incident__in=shootings.filter(occurred_on=day)).update(
            queued_at=queued_at
        )
    # Reviewed: the shootings whose weekly meeting has been held (before today).
    reviews = [
        review
        for review in Review.objects.filter(incident__in=shootings)
        .select_related("incident__jurisdiction", "incident__area")
        .order_by("incident__occurred_on", "pk")
        if meeting_after(review.incident.occurred_on) < today
    ]
    alerts = 0
    for review in reviews:
        alerts += _review(review, groups, events, source_prefix, analyst, partners, rng)
    lines = [
        f"  Group audit: {len(groups)} groups ({lapsed} designations lapsed, awaiting renewal),"
        f" {conflicts} conflicts and alliances",
        f"  Review queue: {Review.objects.filter(incident__in=shootings).count()} shootings of"
        f" the last {QUEUE_DAYS} days, {len(reviews)} reviewed at the weekly meetings,"
        f" {alerts} alerts opened; {Review.objects.open().count()} wait for the next meeting",
    ]
    return lines


def _review(review, groups, events, prefix, user, partners, rng) -> int:
    incident = review.incident
    truth = events.loc[int(incident.source_id.removeprefix(prefix))]
    victim = groups.get(int(truth["victim_group"]))
    shooter = groups.get(int(truth["shooter_group"]))
    held = _at(incident.jurisdiction, meeting_after(incident.occurred_on), 10)
    if truth["group_involved"] and (victim or shooter):
        confirmed = incident.group_involvement == "yes"
        involvement = "confirmed" if confirmed else "suspected"
        risk = "high" if shooter else "medium"
        found = actions.complete_review(
            user,
            review,
            group_involvement=involvement,
            evidence="Witnesses and the officers who know the groups (simulated)",
            circumstance="group_conflict",
            victim_groups=[victim] if victim else [],
            suspect_groups=[shooter] if shooter else [],
            retaliation_risk=risk,
            risk_reason="The victim's group is in an active conflict (simulated)",
            at=held,
        )
    else:
        found = actions.complete_review(
            user,
            review,
            group_involvement="none",
            evidence="",
            circumstance=incident.circumstance
            if incident.circumstance != "group_conflict"
            else "personal_dispute",
            victim_groups=[],
            suspect_groups=[],
            retaliation_risk="low",
            risk_reason="No group named; a personal dispute (simulated)",
            at=held,
        )
    plan = [
        ("outreach_visit", "Street outreach team", partners.first(), 20),
        ("custom_notification", "Police liaison and a community voice", None, 30),
        ("victim_services", "Victim advocate", None, 12),
    ]
    if incident.kind == "nonfatal_shooting":
        plan.append(("hospital_response", "Hospital violence interrupter", None, 4))
    for kind, owner, organization, hours in plan:
        response = actions.add_response(
            user,
            review,
            kind=kind,
            owner=owner,
            organization=organization,
            due_at=review.queued_at + dt.timedelta(hours=24),
        )
        status = str(rng.choice(["done", "done", "attempted", "planned"]))
        if status != "planned" and review.queued_at + dt.timedelta(hours=hours) <= timezone.now():
            actions.update_response(
                user,
                response,
                status=status if status != "attempted" else Response.Status.ATTEMPTED,
                follow_up="(simulated)",
                done_at=review.queued_at + dt.timedelta(hours=hours),
            )
    return len(found)
