"""A partner's day in a real browser: intake, enrolment, a life plan, a contact logged on a
390 px phone screen, a referral sent to another organization and accepted there; every step
leaves its row in the audit log. Screenshots (1400 px and 390 px) go to test-artifacts/."""

from __future__ import annotations

import time

import pytest

from gvrs.accounts.models import AuditEvent
from gvrs.partners.models import Participant, Referral
from tests.partner_helpers import make_program
from tests.test_browser import browser, shot  # noqa: F401 - the shared Chromium fixture
from tests.test_browser import sign_in as signed_in
from tests.test_partners_figures import city  # noqa: F401 - a town with three areas

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
WIDE, NARROW = {"width": 1400, "height": 900}, {"width": 390, "height": 844}
NAME = "Octavia Brightwater"


def sign_in(browser, live_server, user, viewport=WIDE):  # noqa: F811
    return signed_in(browser, live_server, user, viewport)


def test_intake_plan_contact_referral_and_acceptance_are_audited(browser, live_server, people):  # noqa: F811
    partner, outsider = people["partner"], people["outsider"]
    program = make_program(partner, "Partner A", name="Fellowship", contact_standard_days=1)
    make_program(outsider, "Partner B", name="Jobs", kind="employment")
    base = live_server.url

    page = sign_in(browser, live_server, partner)
    page.goto(f"{base}/partners/intake/")
    page.select_option("#id_program", str(program.pk))
    page.fill("#id_name", NAME)
    page.fill("#id_date_of_birth", "2004-02-11")
    page.fill("#id_phone", "661-555-0177")
    page.fill("#id_address", "14 Larkspur Way")
    page.fill("#id_eligibility_reason", "Shot in March; his cousin's group is in a dispute")
    page.check("#id_consent_referral")
    page.check("input[name=referral_fields][value=name]")
    page.check("input[name=referral_fields][value=phone]")
    page.check("#id_consent_aggregate")
    shot(page, "partners-intake")
    page.click("form[data-testid=intake] button[type=submit]")
    page.wait_for_selector("text=Intake recorded")
    person = Participant.objects.get()
    assert person.name == NAME and person.status == "waiting"
    page.click("[data-testid=enrol]")
    page.wait_for_selector("text=Enrolled.")

    page.click("summary:has-text('Start a plan')")
    page.select_option("form[data-testid=plan-new] select[name=domain]", "employment")
    page.fill("form[data-testid=plan-new] input[name=description]", "Finish the welding course")
    page.click("form[data-testid=plan-new] button[type=submit]")
    page.wait_for_selector("[data-testid=goal]")
    page.fill("input[name=description]", "Enrol by June")
    page.click("button:has-text('Add milestone')")
    page.wait_for_selector("text=Enrol by June")
    shot(page, "partners-plan")

    # A contact from a phone: pick the participant, tap the button; everything else defaults.
    phone = sign_in(browser, live_server, partner, NARROW)
    started = time.perf_counter()
    phone.goto(f"{base}/partners/contact/")
    phone.select_option("#id_participant", str(person.pk))
    phone.click("button.big")
    phone.wait_for_selector("text=Contact logged.")
    elapsed = time.perf_counter() - started
    print(f"quick contact on a 390 px screen: 2 actions, {elapsed:.1f} s in the browser")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "partners-contact-390")
    phone.goto(f"{base}/partners/p/{person.pk}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "partners-detail-390")

    page.goto(f"{base}/partners/p/{person.pk}/")
    assert "met in 1 of" in page.inner_text("[data-testid=compliance]")
    shot(page, "partners-detail")
    page.click("summary:has-text('Refer to another partner')")
    page.select_option("form[data-testid=refer] select[name=to_organization]", label="Partner B")
    page.fill("form[data-testid=refer] textarea[name=reason]", "Wants job training")
    page.click("form[data-testid=refer] button[type=submit]")
    page.wait_for_selector("text=Referral sent with: name, phone.")

    other = sign_in(browser, live_server, outsider)
    other.goto(f"{base}/partners/referrals/")
    other.click("[data-testid=received] a")
    assert other.inner_text("[data-testid=shared-name]") == NAME
    assert "Larkspur" not in other.content() and "welding" not in other.content()
    other.select_option("select[name=decision]", "accept")
    other.select_option("select[name=program]", label="Jobs")
    other.click("form[data-testid=respond] button[type=submit]")
    other.wait_for_selector("[data-testid=status]:has-text('accepted')")
    shot(other, "partners-referral-accepted")
    referral = Referral.objects.get()
    assert referral.status == "accepted"

    events = {(e.username, e.organization, e.action) for e in AuditEvent.objects.all()}
    for expected in [
        ("pia", "Partner A", "participant.intake"),
        ("pia", "Partner A", "participant.enrol"),
        ("pia", "Partner A", "plan.create"),
        ("pia", "Partner A", "plan.milestone"),
        ("pia", "Partner A", "contact.log"),
        ("pia", "Partner A", "referral.send"),
        ("pia", "Partner A", "participant.view"),
        ("pia", "Partner A", "plan.view"),
        ("out", "Partner B", "referral.view"),
        ("out", "Partner B", "referral.accept"),
        ("out", "Partner B", "participant.intake"),
    ]:
        assert expected in events, expected
    accept = AuditEvent.objects.get(action="referral.accept")
    assert accept.object_id == str(referral.pk) and accept.object_type == "partners.Referral"


def test_figures_and_equity_pages_wide_and_narrow(browser, live_server, people):  # noqa: F811
    for viewport, suffix in ((WIDE, ""), (NARROW, "-390")):
        page = sign_in(browser, live_server, people["analyst"], viewport)
        page.goto(f"{live_server.url}/partners/figures/")
        page.wait_for_selector("h1")
        assert "fewer than 11" in page.content() or "0" in page.content()
        shot(page, f"partners-figures{suffix}")
        page.goto(f"{live_server.url}/partners/equity/")
        page.wait_for_selector("h1")
        shot(page, f"partners-equity{suffix}")


def test_corrections_after_intake_in_a_browser_wide_and_narrow(browser, live_server, people):  # noqa: F811
    """Personal details corrected, a goal's status set, a mediation's participants named:
    each page at 1400 and 390 px, nothing wider than the phone's screen."""
    from gvrs.partners import actions
    from gvrs.partners.models import Goal, Mediation
    from tests.partner_helpers import make_participant

    partner = people["partner"]
    program = make_program(partner, "Partner A", name="Fellowship")
    person = make_participant(partner, program, NAME, phone="661-555-0177")
    plan = actions.start_life_plan(partner, person, [("employment", "Welding course", None)])
    base = live_server.url
    for viewport, suffix in ((WIDE, ""), (NARROW, "-390")):
        page = sign_in(browser, live_server, partner, viewport)
        page.goto(f"{base}/partners/p/{person.pk}/")
        page.click("a[data-testid=edit-personal]")
        page.wait_for_selector("form[data-testid=edit-personal]")
        assert page.input_value("#id_phone") in ("661-555-0177", "661-555-0188")
        page.fill("#id_phone", "661-555-0188" if not suffix else "661-555-0199")
        shot(page, f"partners-edit{suffix}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.click("form[data-testid=edit-personal] button[type=submit]")
        page.wait_for_selector("text=Saved: phone.")

        page.goto(f"{base}/partners/plans/{plan.pk}/")
        status = "met" if not suffix else "dropped"
        page.select_option("form[data-testid=goal-status-form] select[name=status]", status)
        page.click("form[data-testid=goal-status-form] button[type=submit]")
        page.wait_for_selector(f"[data-testid=goal-status]:has-text('{status}')")
        shot(page, f"partners-plan-status{suffix}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

        page.goto(f"{base}/partners/field/")
        page.fill("#id_on", "2026-01-10")
        page.fill("#id_parties", "2")
        page.select_option("#id_participants", [str(person.pk)])
        page.select_option("#id_outcome", "resolved")
        page.click("button:has-text('Record mediation')")
        page.wait_for_selector(f"td a:has-text('{NAME}')")
        shot(page, f"partners-field{suffix}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert Participant.objects.get().phone == "661-555-0199"
    assert Goal.objects.get().status == "dropped"
    assert Mediation.objects.count() == 2
    assert AuditEvent.objects.filter(action="participant.edit").count() == 2
    assert not AuditEvent.objects.filter(detail__contains="661-555").exists()


def test_figures_by_program_and_by_organization_wide_and_narrow(browser, live_server, people, city):  # noqa: F811
    from gvrs.incidents.models import Area
    from tests.partner_helpers import make_participant

    west = Area.objects.get(name="West")

    for user, org, sizes in (
        (people["partner"], "Partner A", (4, 30)),
        (people["outsider"], "Partner B", (25, 14)),
    ):
        for k, n in enumerate(sizes):
            program = make_program(
                user, org, name=f"Program {k + 1}", capacity=60, caseload_per_worker=50
            )
            for i in range(n):
                make_participant(
                    user, program, f"{org} {k} {i}", enrol=i % 3 != 0, area=west if i < 5 else None
                )
    for viewport, suffix in ((WIDE, ""), (NARROW, "-390")):
        page = sign_in(browser, live_server, people["analyst"], viewport)
        page.goto(f"{live_server.url}/partners/figures/")
        page.wait_for_selector("text=By organization")
        # Perturbed figures outside the organizations, saying so (docs/disclosure.md).
        assert 'data-perturbed-within="5"' in page.content()
        assert "fewer than 11" not in page.content()
        shot(page, f"partners-figures-by-organization{suffix}")
        # The county's equity page and the town's show the same areas alike.
        rows = {}
        for slug in (city.parent.slug, city.slug):
            page.goto(f"{live_server.url}/partners/equity/?j={slug}")
            page.wait_for_selector("[data-testid=equity]")
            shot(page, f"partners-equity-{slug}{suffix}")
            rows[slug] = page.inner_text("[data-testid=equity] tbody").splitlines()
        assert "the same months on every page of" in page.content()
        county, town = (
            {line.split("\t", 2)[2] for line in rows[s] if "\t" in line and "Total" not in line}
            for s in (city.parent.slug, city.slug)
        )
        assert town <= county
