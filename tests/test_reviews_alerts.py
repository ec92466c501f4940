"""Retaliation alerts with time frozen: an alert opens the day its shooting is reviewed,
closes after its window, reaches the partner organizations covering its area and nobody
else, and carries no personal data on the way."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gvrs.accounts.models import AuditEvent, Organization
from gvrs.reviews import actions
from gvrs.reviews.models import Alert, AlertDelivery, Review
from tests.review_helpers import area, import_rows, incident, make_group, shooting

pytestmark = pytest.mark.django_db
SHOT = "2026-03-06"
REVIEWED = dt.datetime(2026, 3, 9, 18, 0, tzinfo=dt.UTC)  # Monday 9 March in California


def _at(day: str, hour: int = 18) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


@pytest.fixture
def reviewed(tmp_path, people):
    """A shooting in East on 6 March: victim from Eastside, suspect from Westside (whose
    area is West). Partner A covers West, Partner B covers North only."""
    analyst = people["analyst"]
    with time_machine.travel(_at("2026-03-07"), tick=False):
        import_rows(
            tmp_path,
            [
                shooting("S-1", SHOT, "East", victim_age="19", victim_race="Hispanic"),
                shooting("S-0", "2026-03-01", "North"),
                shooting("W-0", "2025-11-20", "West"),  # history: its area exists, not queued
            ],
        )
        eastside = make_group(analyst, "Eastside", "East", dt.date(2025, 9, 1))
        westside = make_group(analyst, "Westside", "West", dt.date(2025, 9, 1))
        actions.record_conflict(
            analyst, eastside, westside, kind="conflict", started_on=dt.date(2025, 1, 1)
        )
        actions.set_coverage(analyst, Organization.objects.get(name="Partner A"), [area("West")])
        actions.set_coverage(analyst, Organization.objects.get(name="Partner B"), [area("North")])
    review = Review.objects.get(incident=incident("S-1"))
    assert not Alert.objects.exists()  # nothing opens before the review
    with time_machine.travel(REVIEWED, tick=False):
        actions.complete_review(
            analyst,
            review,
            group_involvement="confirmed",
            evidence="Both groups named by witnesses; a known dispute",
            circumstance="group_conflict",
            victim_groups=[eastside],
            suspect_groups=[westside],
            retaliation_risk="high",
            risk_reason="Eastside has struck back within days before",
        )
    return review


def test_an_alert_opens_on_the_review_day_and_closes_after_its_window(reviewed):
    alerts = {a.area.name: a for a in reviewed.alerts.select_related("area", "group")}
    assert set(alerts) == {"West", "East"}
    west = alerts["West"]
    assert (west.level, west.group.name) == ("high", "Westside")
    # Opens the day of the review (not the shooting's), ends 14 days after the shooting.
    assert (west.starts_on, west.ends_on) == (dt.date(2026, 3, 9), dt.date(2026, 3, 20))
    assert (alerts["East"].level, alerts["East"].group) == ("low", None)
    assert west.issued_at == REVIEWED
    assert list(Alert.objects.open_on(dt.date(2026, 3, 8))) == []
    assert set(Alert.objects.open_on(dt.date(2026, 3, 20))) == set(alerts.values())
    assert list(Alert.objects.open_on(dt.date(2026, 3, 21))) == []


def test_the_alert_reaches_the_partner_covering_its_area_and_closes_there(client, people, reviewed):
    deliveries = AlertDelivery.objects.select_related("alert__area", "organization")
    assert [(d.organization.name, d.alert.area.name) for d in deliveries] == [("Partner A", "West")]
    client.force_login(people["partner"])
    with time_machine.travel(_at("2026-03-20"), tick=False):
        page = client.get("/reviews/inbox/").content.decode()
        open_part = page.split("Closed")[0]
        assert "West" in open_part and "20 Mar 2026" in open_part and "high" in open_part
    with time_machine.travel(_at("2026-03-21"), tick=False):
        page = client.get("/reviews/inbox/").content.decode()
        assert "None." in page.split("Closed")[0]  # nothing open any more
        assert "West" in page.split("Closed")[1]
    # Partner B covers North: nothing reached it.
    client.force_login(people["outsider"])
    assert "None." in client.get("/reviews/inbox/").content.decode()
    delivery = deliveries.get()
    assert client.post(f"/reviews/inbox/{delivery.pk}/read/").status_code == 404
    client.force_login(people["partner"])
    assert client.post(f"/reviews/inbox/{delivery.pk}/read/").status_code == 302
    delivery.refresh_from_db()
    assert delivery.read_at is not None


def test_an_alert_carries_no_personal_data(client, people, reviewed):
    # The stored alert is its fields: area, group, level, window, reason; no person.
    fields = {f.name for f in Alert._meta.concrete_fields}
    assert fields == {
        "id",
        "review",
        "area",
        "group",
        "level",
        "starts_on",
        "ends_on",
        "reason",
        "issued_at",
    }
    shooting_incident = reviewed.incident
    private = [
        "35.3712",
        "-119.0187",
        "Hispanic",
        "19 years",
        shooting_incident.source_id,
        "witnesses",  # the review's evidence stays with the review
        "struck back",  # so does the risk's reason
    ]
    client.force_login(people["partner"])
    with time_machine.travel(REVIEWED, tick=False):
        inbox = client.get("/reviews/inbox/").content.decode()
    for alert in reviewed.alerts.all():
        for text in private:
            assert text not in alert.reason
    for text in private:
        assert text not in inbox, text


def test_reviewing_and_alerting_are_in_the_audit_log(reviewed, people):
    actions_logged = list(
        AuditEvent.objects.filter(username=people["analyst"].username).values_list(
            "action", flat=True
        )
    )
    for action in ("review", "change", "open alert", "deliver alert", "designate", "add conflict"):
        assert action in actions_logged, action


def test_a_finished_review_updates_the_incident_and_keeps_the_history(reviewed):
    shooting_incident = incident("S-1")
    assert (shooting_incident.group_involvement, shooting_incident.circumstance) == (
        "yes",
        "group_conflict",
    )
    history = [(c.field, c.old_value, c.new_value) for c in shooting_incident.changes.all()]
    assert history == [
        ("group_involvement", "unknown", "yes"),
        ("circumstance", "unknown", "group_conflict"),
    ]
    # Saving the review again opens no second set of alerts.
    before = Alert.objects.count()
    with time_machine.travel(REVIEWED + dt.timedelta(days=1), tick=False):
        actions.complete_review(
            None,
            reviewed,
            group_involvement="suspected",
            evidence="On second look, only suspected",
            circumstance="group_conflict",
            victim_groups=list(reviewed.victim_groups.all()),
            suspect_groups=list(reviewed.suspect_groups.all()),
            retaliation_risk="high",
            risk_reason="Unchanged",
        )
    assert Alert.objects.count() == before
    assert incident("S-1").group_involvement == "unknown"
    assert incident("S-1").changes.last().new_value == "unknown"
