"""Administrators are not case workers (issue 24, finding 5).

The admin's audit list showed partner case events in full: per-participant exits ("died"),
consents ("aggregate_reporting: refused"), services and free-text referral reasons. And a
superuser could make itself a member of a partner organization and give itself a partner
role in the admin, then read names and phones, with no trace in the audit log. Now the admin
lists case events without their detail, the grant is an audit event, and the organization's
managers see both the grant and their full case log on their access page.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from gvrs.accounts import roles
from gvrs.accounts.audit import CASE_DETAIL_HIDDEN
from gvrs.accounts.models import AuditEvent, Membership, Organization
from gvrs.partners import actions
from gvrs.partners.models import Consent
from tests.partner_helpers import make_participant, make_program
from tests.personas import make_user

pytestmark = pytest.mark.django_db
REASON = "needs a bed at Juniper House before Friday"
# What the admin's audit list must never show: a participant's outcome, consent, services
# and the free text of a referral.
SECRETS = ["died", "aggregate_reporting: refused", "refused", "housing", "Juniper", "mentoring"]


@pytest.fixture
def casework(people):
    partner = people["partner"]
    program = make_program(partner, "Partner A")
    make_program(people["outsider"], "Partner B", name="Mentoring", kind="mentoring")
    person = make_participant(partner, program, "Dana Example", aggregate=False)
    actions.record_service(partner, person, kind="housing", delivered_on=dt.date(2026, 1, 7))
    referral = actions.send_referral(
        partner, person, Organization.objects.get(name="Partner B"), reason=REASON
    )
    actions.decline_referral(people["outsider"], referral, "we only take mentoring cases")
    actions.exit_participant(partner, person, "died", dt.date(2026, 2, 1), "shot on Elm St")
    return person


@pytest.fixture
def root():
    return User.objects.create_superuser("root", password="x" * 20)


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_audit_list_shows_case_events_without_their_details(casework, root):
    client = _admin(root)
    changelist = reverse("admin:accounts_auditevent_changelist")
    page = client.get(changelist).content.decode()
    # The events are listed: who, when, what kind of action, on which record...
    for action in ("participant.exit", "consent.record", "service.record", "referral.send"):
        assert action in page
    assert CASE_DETAIL_HIDDEN.replace("'", "&#x27;") in page
    # ...but no outcome, consent, service or referral reason.
    for secret in SECRETS:
        assert secret not in page, secret
    # One event opened on its own shows no more.
    exit_event = AuditEvent.objects.get(action="participant.exit")
    one = client.get(reverse("admin:accounts_auditevent_change", args=[exit_event.pk]))
    assert one.status_code == 200
    for secret in SECRETS:
        assert secret not in one.content.decode(), secret
    # Searching the details cannot find whose exit it was either.
    for term in ("died", "refused", "housing"):
        found = client.get(changelist, {"q": term}).context["cl"].result_list
        assert not [e.action for e in found], term
    # Events that are not case work keep their detail, and stay searchable by it.
    AuditEvent.objects.create(action="import", detail="kern-2026.csv (done)")
    found = client.get(changelist, {"q": "kern-2026"}).context["cl"].result_list
    assert [e.detail for e in found] == ["kern-2026.csv (done)"]


def test_free_text_of_a_referral_is_not_copied_into_the_audit_log(casework):
    everything = " ".join(AuditEvent.objects.values_list("detail", flat=True))
    assert REASON not in everything
    assert "we only take mentoring cases" not in everything


def test_a_superusers_self_grant_is_an_audit_event_and_shows_on_the_managers_page(
    casework, people, root
):
    admin = _admin(root)
    partner_a = Organization.objects.get(name="Partner A")
    staff = Group.objects.get(name=roles.PARTNER_STAFF)
    # In the admin, as an administrator would: a membership of Partner A, then the role.
    made = admin.post(
        reverse("admin:accounts_membership_add"),
        {"user": root.pk, "organization": partner_a.pk},
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    changed = admin.post(
        reverse("admin:auth_user_change", args=[root.pk]),
        {
            "username": "root",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [staff.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    assert set(root.groups.values_list("name", flat=True)) == {roles.PARTNER_STAFF}
    # Now root reads Partner A's participants...
    assert admin.get(reverse("partners-participant", args=[casework.pk])).status_code == 200
    # ...and that is on record: both halves of the grant, by root, about Partner A.
    grants = AuditEvent.objects.filter(action="access.grant", username="root").order_by("pk")
    assert [(e.object_type, e.object_id) for e in grants] == [
        ("accounts.Organization", str(partner_a.pk))
    ] * 2
    assert grants[0].detail.startswith("root (a superuser) made a member")
    assert (
        grants[1].detail
        == "root (a superuser) given the role partner staff: reads its participants"
    )
    # Partner A's manager sees it, with root among the readers...
    manager = _admin(people["colleague"])
    page = manager.get(reverse("partners-access")).content.decode()
    assert "root (a superuser) made a member" in page
    assert "root (a superuser) given the role partner staff" in page
    assert "(superuser)" in page
    # ...and the organization's own case log in full, which the admin does not show.
    assert "died" in page and "aggregate_reporting: refused" in page
    # Taking it away is on record too.
    Membership.objects.filter(user=root).delete()
    revoked = AuditEvent.objects.get(action="access.revoke")
    assert revoked.detail.startswith("root is no longer a member")
    assert revoked.detail.endswith("(outside the web application: a command or the shell)")


def test_the_access_page_is_for_the_organizations_managers_only(casework, people, root):
    assert _admin(people["colleague"]).get(reverse("partners-access")).status_code == 200
    for who in ("partner", "outsider", "police", "analyst", "admin", "viewer"):
        assert _admin(people[who]).get(reverse("partners-access")).status_code == 404, who
    assert _admin(root).get(reverse("partners-access")).status_code == 404
    # Another organization's manager sees its own, never A's case work.
    b_manager = make_user("bob", roles.PARTNER_MANAGER, "Partner B", "partner")
    page = _admin(b_manager).get(reverse("partners-access")).content.decode()
    assert "Access to Partner B" in page
    assert "participant.exit" not in page and "died" not in page
    assert "referral.decline" in page  # B's own event: it declined A's referral


def test_grants_by_every_path_are_recorded(people):
    """From the group's side, a role taken away, an organization made a partner."""
    user = make_user("newbie", roles.VIEWER, "Partner A", "partner")
    Group.objects.get(name=roles.PARTNER_MANAGER).user_set.add(user)
    user.groups.remove(Group.objects.get(name=roles.PARTNER_MANAGER))
    outreach = Organization.objects.create(name="Outreach Co", kind="city")
    member = make_user("otto", roles.PARTNER_STAFF, "Outreach Co", "city")
    assert not AuditEvent.objects.filter(
        object_type="accounts.Organization",
        object_id=str(outreach.pk),
        action__startswith="access.",
    )
    outreach.kind = Organization.Kind.PARTNER
    outreach.save()
    events = [
        (e.action, e.detail.replace(" (outside the web application: a command or the shell)", ""))
        for e in AuditEvent.objects.filter(action__startswith="access.").order_by("pk")
        if e.detail.startswith(("newbie", "made a partner"))
    ]
    assert events == [
        (
            "access.grant",
            "newbie made a member, with no partner role"
            " (no access to participants until given one)",
        ),
        ("access.grant", "newbie given the role partner manager: reads its participants"),
        ("access.revoke", "newbie no longer has the role partner manager"),
        ("access.grant", "made a partner organization (was city); members in partner roles: otto"),
    ]
    assert member.groups.filter(name=roles.PARTNER_STAFF).exists()


def test_consent_details_stay_with_the_organization(casework, people):
    refused = AuditEvent.objects.get(action="consent.record", detail__contains="aggregate")
    assert refused.detail == "aggregate_reporting: refused"
    assert casework.current_consent(Consent.Kind.AGGREGATE_REPORTING).granted is False
