"""The shooting review in a real browser: a new shooting appears in the queue, the police
analyst reviews it, a retaliation alert opens, the partner covering the area reads it on a
phone, and on the way the police analyst meets no partner data. Screenshots (1400 px and
390 px) go to test-artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest

from gvrs.accounts.models import AuditEvent, Organization
from gvrs.analysis.periods import day_month_year
from gvrs.reviews import actions
from gvrs.reviews.models import Alert, AlertDelivery, Review
from tests.partner_helpers import make_participant, make_program
from tests.review_helpers import area, county, import_rows, make_group, shooting, town
from tests.test_browser import browser, shot  # noqa: F401 - the shared Chromium fixture
from tests.test_browser import sign_in as signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
WIDE, NARROW = {"width": 1400, "height": 900}, {"width": 390, "height": 844}
PARTICIPANT = "Octavia Brightwater"


def sign_in(browser, live_server, user, viewport=WIDE):  # noqa: F811
    return signed_in(browser, live_server, user, viewport)


def test_a_shooting_is_reviewed_and_its_alert_reaches_the_partner_covering_the_area(
    browser,  # noqa: F811
    live_server,
    people,
    tmp_path,
):
    police, partner, analyst = people["police"], people["partner"], people["analyst"]
    base = live_server.url
    # Partner A's case work: what the police must never see.
    program = make_program(partner, "Partner A", name="Peacekeepers")
    make_participant(partner, program, PARTICIPANT, phone="661-555-0199")
    # The county's history and group audit.
    import_rows(
        tmp_path,
        [shooting("W-0", "2025-06-01", "West"), shooting("E-0", "2025-06-02", "East")],
        name="history.csv",
    )
    eastside = make_group(analyst, "Eastside", "East", dt.date.today() - dt.timedelta(days=90))
    westside = make_group(analyst, "Westside", "West", dt.date.today() - dt.timedelta(days=90))
    actions.record_conflict(
        analyst, eastside, westside, kind="conflict", started_on=dt.date(2025, 1, 1)
    )
    actions.set_coverage(analyst, Organization.objects.get(name="Partner A"), [area("West")])

    # A new shooting arrives with the night's import.
    yesterday = town().today() - dt.timedelta(days=1)
    import_rows(tmp_path, [shooting("NEW-7", yesterday.isoformat(), "East")], name="new.csv")
    review = Review.objects.get(incident__source_id="NEW-7")

    page = sign_in(browser, live_server, police)
    page.goto(f"{base}/reviews/")
    row = page.locator("[data-testid=queue] tr", has_text="NEW-7")
    assert "East" in row.inner_text()
    shot(page, "reviews-queue")
    row.locator("a").click()
    page.wait_for_selector("[data-testid=review-form]")
    page.select_option("#id_group_involvement", "confirmed")
    page.fill("#id_evidence", "Two witnesses name both groups; a dispute since spring")
    page.select_option("#id_circumstance", "group_conflict")
    page.check(f"input[name=victim_groups][value='{eastside.pk}']")
    page.check(f"input[name=suspect_groups][value='{westside.pk}']")
    page.select_option("#id_retaliation_risk", "high")
    page.fill("#id_risk_reason", "Eastside answered the last shooting within a week")
    page.click("[data-testid=review-form] button[type=submit]")
    page.wait_for_selector("text=retaliation alert(s) opened")
    alerts = page.locator("[data-testid=alerts]").inner_text()
    assert "West" in alerts and "Westside" in alerts and "high" in alerts
    shot(page, "reviews-review")

    # The 24-hour plan: a response with its owner, on one printable screen.
    page.goto(f"{base}/reviews/{review.pk}/plan/")
    page.click("summary:has-text('Add a response')")
    page.select_option("[data-testid=response-form] #id_kind", "custom_notification")
    page.fill("[data-testid=response-form] #id_owner", "Sgt. Liaison team")
    page.click("[data-testid=response-form] button[type=submit]")
    page.wait_for_selector("[data-testid=responses] >> text=Sgt. Liaison team")
    shot(page, "reviews-plan")
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    assert not page.locator("[data-testid=response-form]").is_visible()
    page.emulate_media(media="screen")

    page.goto(f"{base}/reviews/alerts/?place={county().slug}")
    assert "West" in page.locator("[data-testid=open-alerts]").inner_text()
    page.goto(f"{base}/reviews/groups/?place={county().slug}")
    page.wait_for_selector("[data-chart=chart-network][data-drawn=true]")
    shot(page, "reviews-groups")
    page.goto(f"{base}/reviews/figures/?place={county().slug}")
    shootings = page.locator("[data-testid=share-shootings]").inner_text()
    assert "1 confirmed and 0 suspected of 1 reviewed shootings" in shootings
    shot(page, "reviews-figures")
    # On the way: no page the police analyst saw named the participant, and the partners'
    # pages and inbox are the same 404 as a page that does not exist.
    for url in ("/reviews/", f"/reviews/{review.pk}/", f"/reviews/{review.pk}/plan/"):
        page.goto(f"{base}{url}")
        assert PARTICIPANT not in page.content() and "661-555-0199" not in page.content()
    for url in ("/partners/", "/reviews/inbox/"):
        assert page.goto(f"{base}{url}").status == 404
    assert not AuditEvent.objects.filter(
        username=police.username, object_type__startswith="partners."
    ).exists()

    # The partner covering West reads the alert on a phone.
    phone = sign_in(browser, live_server, partner, NARROW)
    phone.goto(f"{base}/reviews/inbox/")
    inbox = phone.locator("[data-testid=inbox-open]").inner_text()
    alert = Alert.objects.get(review=review, area__name="West")
    assert "West" in inbox and "high" in inbox and day_month_year(alert.ends_on) in inbox
    assert "NEW-7" not in phone.content()  # the incident's record number stays police-side
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "reviews-inbox-390")
    assert AlertDelivery.objects.get(alert=alert).organization.name == "Partner A"

    narrow = sign_in(browser, live_server, police, NARROW)
    narrow.goto(f"{base}/reviews/")
    shot(narrow, "reviews-queue-390")
    narrow.goto(f"{base}/reviews/{review.pk}/")
    shot(narrow, "reviews-review-390")
