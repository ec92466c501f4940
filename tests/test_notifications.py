"""Alerts that reach people: a retaliation alert and an overdue review emailed through a real
SMTP server to the users who subscribed, each once, with no personal detail in the message,
and every delivery recorded."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from gvrs.accounts.models import Organization
from gvrs.notifications.models import Kind, Notice, Subscription
from gvrs.reviews import actions
from gvrs.reviews.models import Alert, Review
from tests.partner_helpers import make_participant, make_program
from tests.review_helpers import area, county, import_rows, incident, make_group, shooting

pytestmark = pytest.mark.django_db
REVIEWED = dt.datetime(2026, 3, 9, 18, 0, tzinfo=dt.UTC)
PARTICIPANT = "Darnell Quintanilla-Reyes"


@pytest.fixture
def alert(tmp_path, people):
    """A shooting in East on 6 March reviewed on 9 March: victim of Eastside, suspect of
    Westside (whose turf is West); Partner A covers West and works with a participant."""
    analyst = people["analyst"]
    with time_machine.travel(dt.datetime(2026, 3, 7, 18, tzinfo=dt.UTC), tick=False):
        import_rows(
            tmp_path,
            [
                shooting("S-1", "2026-03-06", "East", victim_age="19", victim_race="Hispanic"),
                shooting("W-0", "2025-11-20", "West"),
            ],
        )
        eastside = make_group(analyst, "Eastside", "East", dt.date(2025, 9, 1))
        westside = make_group(analyst, "Westside", "West", dt.date(2025, 9, 1))
        actions.record_conflict(
            analyst, eastside, westside, kind="conflict", started_on=dt.date(2025, 1, 1)
        )
        actions.set_coverage(analyst, Organization.objects.get(name="Partner A"), [area("West")])
        program = make_program(people["colleague"], "Partner A")
        make_participant(people["colleague"], program, PARTICIPANT, phone="661-555-0199")
    with time_machine.travel(REVIEWED, tick=False):
        actions.complete_review(
            analyst,
            Review.objects.get(incident=incident("S-1")),
            group_involvement="confirmed",
            evidence="Both groups named by witnesses",
            circumstance="group_conflict",
            victim_groups=[eastside],
            suspect_groups=[westside],
            retaliation_risk="high",
            risk_reason="Eastside has struck back within days before",
        )
    assert Alert.objects.filter(area__name="West").exists()
    for name in ("analyst", "partner", "outsider", "viewer"):
        people[name].email = f"{people[name].username}@example.org"
        people[name].save()
    return county()


def _notify() -> str:
    out = io.StringIO()
    with time_machine.travel(REVIEWED + dt.timedelta(hours=1), tick=False):
        call_command("notify", stdout=out)
    return out.getvalue()


def test_an_alert_email_reaches_the_smtp_server_with_no_personal_detail(alert, people, smtp_server):
    for name in ("analyst", "partner", "outsider", "viewer"):
        Subscription.objects.create(user=people[name], place=alert, kind=Kind.RETALIATION_ALERT)
    assert "2 emails sent" in _notify()
    # The analyst (the review's meeting) and Partner A's worker (West is theirs); not Partner
    # B's worker (the alert was not delivered to B), not a viewer (no right to alerts).
    assert sorted(to[0] for to, _ in smtp_server.received) == [
        "ana@example.org",
        "pia@example.org",
    ]
    for text in smtp_server.texts():
        assert "a retaliation alert is open in Oakdale" in text
        assert "opened in Oakdale on 9 Mar 2026" in text
        assert "https://gvrs.example.org/reviews/" in text
        for secret in (PARTICIPANT, "Quintanilla", "661-555", "Eastside", "Westside"):
            assert secret not in text
        for detail in ("West", "East", "Hispanic", "19", "S-1", "witness", "struck back"):
            assert detail not in text.replace("Kern-like", ""), detail
    partner_text = next(t for t in smtp_server.texts() if "pia@" in t)
    assert "/reviews/inbox/" in partner_text  # a partner reads alerts in its inbox
    sent = Notice.objects.filter(kind=Kind.RETALIATION_ALERT, status=Notice.Status.SENT)
    assert sorted(n.recipient for n in sent) == ["ana@example.org", "pia@example.org"]

    # Idempotent: nothing is sent twice.
    assert "0 emails sent" in _notify()
    assert len(smtp_server.received) == 2


def test_an_overdue_review_is_emailed_once_to_those_who_run_the_review(alert, people, smtp_server):
    Subscription.objects.create(user=people["analyst"], place=alert, kind=Kind.OVERDUE_REVIEW)
    overdue = Review.objects.create(
        incident=incident("W-0"), queued_at=REVIEWED, due_on=dt.date(2026, 3, 1)
    )
    assert "1 emails sent" in _notify()
    [(to, message)] = smtp_server.received
    assert to == ["ana@example.org"]
    assert message["Subject"] == "gvrs: a shooting review is overdue in Oakdale"
    assert "https://gvrs.example.org/reviews/" in message.get_body().get_content()
    assert Notice.objects.get(key=f"review-{overdue.pk}").status == Notice.Status.SENT
    assert "0 emails sent" in _notify()


def test_without_a_mail_server_nothing_is_sent_and_nothing_is_marked_done(alert, people, settings):
    settings.EMAIL_HOST = ""
    Subscription.objects.create(user=people["analyst"], place=alert, kind=Kind.RETALIATION_ALERT)
    assert "email is not configured (GVRS_EMAIL_HOST)" in _notify()
    assert not Notice.objects.exists()


def test_a_user_subscribes_only_to_what_their_role_may_receive(people, alert):
    client = Client()
    client.force_login(people["viewer"])
    page = client.get("/notifications/").content.decode()
    assert "Your role receives none of these by email" in page
    client.force_login(people["partner"])
    page = client.get("/notifications/").content.decode()
    assert "retaliation alerts" in page and "failed scheduled imports" not in page
    answer = client.post("/notifications/", {"place": "Kern-like County", "kinds": "import_failed"})
    assert answer.status_code == 200 and not Subscription.objects.exists()
    client.post("/notifications/", {"place": "Kern-like County", "kinds": "retaliation_alert"})
    assert Subscription.objects.get().kind == Kind.RETALIATION_ALERT
    wrong = client.post("/notifications/", {"place": "Atlantis", "kinds": "retaliation_alert"})
    assert "No place is called" in wrong.content.decode()
