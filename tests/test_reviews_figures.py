"""The review's figures on a case counted by hand: group-involved shares with confirmed and
suspected apart and expired designations left out, deadlines met, responses within 24 hours,
custom notifications."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gvrs.reviews import actions
from gvrs.reviews.figures import review_figures
from gvrs.reviews.models import Review
from tests.review_helpers import import_rows, incident, make_group, shooting, town

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def _review(user, source_id: str, involvement: str, victims=(), suspects=(), risk="low"):
    review = Review.objects.get(incident=incident(source_id))
    actions.complete_review(
        user,
        review,
        group_involvement=involvement,
        evidence="Named by two witnesses; the victim's group claims the block",
        circumstance="group_conflict" if involvement in ("confirmed", "suspected") else "other",
        victim_groups=list(victims),
        suspect_groups=list(suspects),
        retaliation_risk=risk,
        risk_reason="A rival group was named",
    )
    return review


def test_the_group_involved_share_reproduces_the_hand_count(tmp_path, people):
    analyst = people["analyst"]
    with time_machine.travel(dt.datetime(2026, 2, 2, 18, 0, tzinfo=UTC), tick=False):
        import_rows(
            tmp_path,
            [
                shooting("H-1", "2026-02-01", "East", kind="homicide"),
                shooting("H-2", "2026-02-01", "West", kind="homicide"),
                shooting("H-3", "2026-02-01", "East", kind="homicide"),
                shooting("H-4", "2026-02-01", "North", kind="homicide"),
                shooting("H-5", "2026-02-01", "East", kind="homicide"),  # never reviewed
                shooting("K-1", "2026-02-01", "East", kind="homicide", weapon="knife"),
                shooting("S-1", "2026-02-01", "West"),
                shooting("S-2", "2026-02-01", "East"),
            ],
        )
        eastside = make_group(analyst, "Eastside", "East", dt.date(2025, 6, 1))
        westside = make_group(analyst, "Westside", "West", dt.date(2025, 6, 1))
        # Designated 1 March 2025: it expires on 28 February 2026 unless renewed.
        northside = make_group(analyst, "Northside", "North", dt.date(2025, 3, 1))
    with time_machine.travel(dt.datetime(2026, 2, 5, 18, 0, tzinfo=UTC), tick=False):
        _review(analyst, "H-1", "confirmed", [eastside], [westside])
        _review(analyst, "H-2", "suspected", [westside])
        _review(analyst, "H-3", "none")
        _review(analyst, "H-4", "confirmed", [northside])
        _review(analyst, "K-1", "none")
        _review(analyst, "S-1", "confirmed", [westside], [eastside])
        _review(analyst, "S-2", "unknown")

    since, until = dt.date(2026, 1, 1), dt.date(2026, 2, 28)
    before = review_figures(town(), since, until, as_of=dt.date(2026, 2, 28))
    # Homicides: 6 (K-1 by knife included), 5 reviewed; confirmed H-1, H-4; suspected H-2.
    assert (before.homicides.total, before.homicides.reviewed) == (6, 5)
    assert (before.homicides.confirmed, before.homicides.suspected) == (2, 1)
    assert before.homicides.confirmed_share == pytest.approx(2 / 5)
    # Shootings: nonfatal shootings and firearm homicides, 7; 6 reviewed (H-5 is not);
    # confirmed H-1, H-4, S-1; suspected H-2.
    assert (before.shootings.total, before.shootings.reviewed) == (7, 6)
    assert (before.shootings.confirmed, before.shootings.suspected) == (3, 1)

    # On the day after Northside's designation expired, H-4 rests on no designated group:
    # it leaves the numerator and stays a reviewed homicide.
    after = review_figures(town(), since, until, as_of=dt.date(2026, 3, 1))
    assert (after.homicides.reviewed, after.homicides.confirmed) == (5, 1)
    assert after.homicides.suspected == 1
    assert (after.shootings.reviewed, after.shootings.confirmed) == (6, 2)
    assert after.homicides.confirmed_share == pytest.approx(1 / 5)


def test_deadlines_responses_and_notifications_are_counted_from_the_queue(tmp_path, people):
    analyst = people["analyst"]
    queued = dt.datetime(2026, 2, 2, 18, 0, tzinfo=UTC)
    with time_machine.travel(queued, tick=False):
        import_rows(
            tmp_path,
            [
                shooting("S-1", "2026-02-01", "East"),  # due 8 February
                shooting("S-2", "2026-02-01", "West"),  # due 8 February
                shooting("S-3", "2026-02-01", "North"),  # due 8 February, never reviewed
            ],
        )
    with time_machine.travel(dt.datetime(2026, 2, 8, 18, 0, tzinfo=UTC), tick=False):
        on_time = _review(analyst, "S-1", "none")  # 8 February in California: on time
    with time_machine.travel(dt.datetime(2026, 2, 10, 18, 0, tzinfo=UTC), tick=False):
        _review(analyst, "S-2", "none")  # two days late
    due = queued + dt.timedelta(hours=24)

    def respond(kind, status, after_hours):
        response = actions.add_response(analyst, on_time, kind=kind, owner="Team", due_at=due)
        if status != "planned":
            actions.update_response(
                analyst,
                response,
                status=status,
                follow_up="",
                done_at=queued + dt.timedelta(hours=after_hours),
            )

    respond("custom_notification", "done", 10)  # delivered within a day
    respond("custom_notification", "attempted", 0)  # tried, not reached
    respond("outreach_visit", "done", 30)  # done, but after 24 hours
    respond("hospital_response", "cancelled", 0)  # not counted
    respond("victim_services", "planned", 0)

    f = review_figures(town(), dt.date(2026, 1, 1), dt.date(2026, 2, 28), as_of=dt.date(2026, 3, 1))
    assert (f.on_time, f.due, f.overdue_open) == (1, 3, 1)
    assert (f.responses_within_24h, f.responses) == (1, 4)
    assert (f.notifications_delivered, f.notifications_attempted, f.notifications) == (1, 2, 2)
