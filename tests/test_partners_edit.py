"""Case work changed after intake: a participant's personal fields corrected by their own
organization's staff (stored encrypted, audited by field name, never by value; a stale form
refused), a goal's status, and the participants named in a mediation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from gvrs.accounts.models import AuditEvent
from gvrs.partners import actions
from gvrs.partners.models import Goal, Mediation, Participant
from tests.partner_helpers import make_participant, make_program

pytestmark = pytest.mark.django_db
OLD_PHONE, NEW_PHONE = "661-555-0101", "661-555-0202"
OLD_ADDRESS, NEW_ADDRESS = "3 Alder Row", "48 Tamarisk Bend"


@pytest.fixture
def person(people):
    program = make_program(people["partner"], "Partner A", capacity=10, caseload_per_worker=10)
    return make_participant(
        people["partner"],
        program,
        "Cassius Windermere",
        phone=OLD_PHONE,
        address=OLD_ADDRESS,
        date_of_birth=dt.date(2002, 6, 1),
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(client, person) -> dict:
    """The edit form as it is served, ready to post back."""
    page = client.get(reverse("partners-participant-edit", args=[person.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    return {k: ("" if v is None else v) for k, v in form.initial.items()}


def _raw_dump() -> str:
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows.extend(str(row) for row in cursor.fetchall())
    return "\n".join(rows)


@pytest.mark.parametrize("role", ["partner", "colleague"])
def test_staff_of_the_organization_correct_personal_fields_audited_by_name_not_value(
    people, person, role
):
    client = _client(people[role])
    data = _form(client, person)
    assert data["phone"] == OLD_PHONE
    response = client.post(
        reverse("partners-participant-edit", args=[person.pk]),
        {**data, "phone": NEW_PHONE, "address": NEW_ADDRESS},
        follow=True,
    )
    assert "Saved: phone, address." in response.content.decode()
    person.refresh_from_db()
    assert (person.phone, person.address) == (NEW_PHONE, NEW_ADDRESS)
    assert person.name == "Cassius Windermere"  # untouched fields stay as they were
    event = AuditEvent.objects.filter(action="participant.edit").get()
    assert event.detail == "changed: phone, address"
    assert event.username == people[role].username and event.object_id == str(person.pk)
    # Opening the form is a read of personal data.
    assert AuditEvent.objects.filter(
        action="participant.view", detail="personal fields, to edit"
    ).exists()
    # Neither value is in the audit log, and the new ones are encrypted at rest.
    everything = " ".join(AuditEvent.objects.values_list("detail", flat=True))
    for value in (OLD_PHONE, NEW_PHONE, OLD_ADDRESS, NEW_ADDRESS):
        assert value not in everything
    dump = _raw_dump()
    assert NEW_PHONE not in dump and "Tamarisk" not in dump, connection.vendor


def test_saving_unchanged_details_changes_nothing_and_writes_no_change(people, person):
    client = _client(people["partner"])
    response = client.post(
        reverse("partners-participant-edit", args=[person.pk]), _form(client, person), follow=True
    )
    assert "Nothing changed." in response.content.decode()
    assert not AuditEvent.objects.filter(action="participant.edit").exists()


def test_a_form_opened_before_a_colleagues_change_is_refused_not_applied(people, person):
    mine, theirs = _client(people["partner"]), _client(people["colleague"])
    stale = _form(mine, person)
    theirs.post(
        reverse("partners-participant-edit", args=[person.pk]),
        {**_form(theirs, person), "phone": NEW_PHONE},
    )
    response = mine.post(
        reverse("partners-participant-edit", args=[person.pk]),
        {**stale, "address": NEW_ADDRESS},
    )
    assert response.status_code == 200
    assert "someone changed these details" in response.content.decode()
    person.refresh_from_db()
    assert (person.phone, person.address) == (NEW_PHONE, OLD_ADDRESS)
    # The form now holds the current values, so the change can be made again.
    assert response.context["form"].initial["phone"] == NEW_PHONE


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "a name is required"),
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("date_of_birth", "1850-01-01", "before 1900"),
        ("date_of_birth", "not a date", "Enter a valid date"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_stored(
    people, person, field, value, message
):
    client = _client(people["partner"])
    response = client.post(
        reverse("partners-participant-edit", args=[person.pk]),
        {**_form(client, person), field: value},
    )
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert Participant.objects.get().date_of_birth == dt.date(2002, 6, 1)
    assert not AuditEvent.objects.filter(action="participant.edit").exists()


def test_a_purged_participant_cannot_be_edited(people, person):
    actions.purge_participant(people["partner"], person)
    with pytest.raises(actions.ActionError, match="purged"):
        actions.update_personal_fields(
            people["partner"],
            person,
            version=actions.personal_version(Participant.objects.get()),
            phone=NEW_PHONE,
        )
    with pytest.raises(actions.ActionError, match="not a personal field"):
        actions.update_personal_fields(
            people["partner"], person, version="", eligibility_reason="x"
        )


def test_a_goal_status_is_set_on_the_plan_page_and_audited(people, person):
    plan = actions.start_life_plan(people["partner"], person, [("education", "GED", None)])
    goal = plan.goals.get()
    client = _client(people["partner"])
    page = client.get(reverse("partners-plan", args=[plan.pk])).content.decode()
    assert 'data-testid="goal-status-form"' in page
    client.post(
        reverse("partners-plan", args=[plan.pk]),
        {"step": "status", "goal": goal.pk, "status": "met"},
    )
    assert Goal.objects.get().status == "met"
    event = AuditEvent.objects.get(action="plan.goal_status")
    assert event.detail == f"goal {goal.pk}: open to met"
    # An unknown status changes nothing; a goal of another plan is not found.
    client.post(
        reverse("partners-plan", args=[plan.pk]),
        {"step": "status", "goal": goal.pk, "status": "celebrated"},
    )
    assert Goal.objects.get().status == "met"
    other = actions.start_life_plan(people["partner"], person, [("housing", "lease", None)])
    response = client.post(
        reverse("partners-plan", args=[plan.pk]),
        {"step": "status", "goal": other.goals.get().pk, "status": "dropped"},
    )
    assert response.status_code == 404
    assert other.goals.get().status == "open"


def test_a_goal_of_a_cannot_be_set_by_b(people, person):
    plan = actions.start_life_plan(people["partner"], person, [("education", "GED", None)])
    response = _client(people["outsider"]).post(
        reverse("partners-plan", args=[plan.pk]),
        {"step": "status", "goal": plan.goals.get().pk, "status": "dropped"},
    )
    assert response.status_code == 404
    assert Goal.objects.get().status == "open"


def test_mediation_participants_are_named_from_the_organizations_own(people, person):
    outsider_program = make_program(people["outsider"], "Partner B", name="B")
    theirs = make_participant(people["outsider"], outsider_program, "Of Partner B")
    client = _client(people["partner"])
    page = client.get(reverse("partners-field")).content.decode()
    assert "Cassius Windermere" in page and "Of Partner B" not in page
    client.post(
        reverse("partners-field"),
        {
            "step": "mediation",
            "on": "2026-01-10",
            "parties": "2",
            "participants": [person.pk],
            "outcome": "resolved",
        },
    )
    mediation = Mediation.objects.get()
    assert list(mediation.participants.all()) == [person]
    assert "Cassius Windermere" in client.get(reverse("partners-field")).content.decode()
    # B's participant cannot be named, even by a forged post.
    client.post(
        reverse("partners-field"),
        {
            "step": "mediation",
            "on": "2026-01-11",
            "parties": "2",
            "participants": [theirs.pk],
            "outcome": "ongoing",
        },
    )
    assert Mediation.objects.count() == 1
    # More people named than parties is refused.
    response = client.post(
        reverse("partners-field"),
        {
            "step": "mediation",
            "on": "2026-01-12",
            "parties": "2",
            "participants": [
                person.pk,
                make_participant(people["partner"], person.program, "Two").pk,
                make_participant(people["partner"], person.program, "Three").pk,
            ],
            "outcome": "ongoing",
        },
    )
    assert "more participants named than parties" in response.content.decode()
    assert Mediation.objects.count() == 1
    # B's field page shows neither the mediation nor A's names.
    outside = _client(people["outsider"]).get(reverse("partners-field")).content.decode()
    assert "Cassius Windermere" not in outside
