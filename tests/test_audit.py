"""The audit log is append-only (admin and database) and keeps who did what as it was then
(finding 6 of issue 12)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from gvrs.accounts import roles
from gvrs.accounts.audit import record
from gvrs.accounts.models import AuditEvent, Membership, Organization
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident
from tests.importing_helpers import row, write_csv
from tests.personas import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(tmp_path) -> Incident:
    report = import_file(write_csv(tmp_path / "in.csv", [row("A-1")]), load_format("gvrs"))
    assert report.ok
    return Incident.objects.get(source_id="A-1")


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("root", password="x")


def test_each_event_keeps_name_roles_and_organization_as_they_were(people, incident):
    pat = people["police"]
    event = record(pat, "view", incident, detail="page")
    # Later the user is renamed, changes role and organization, then is deleted.
    pat.username = "renamed"
    pat.save()
    pat.groups.set([Group.objects.get(name=roles.VIEWER)])
    Membership.objects.filter(user=pat).update(
        organization=Organization.objects.create(name="Elsewhere")
    )
    pat_id = pat.pk
    pat.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.username == "pat"
    assert event.roles == roles.POLICE_ANALYST
    assert event.organization == "Testville Police"
    assert event.user_id == pat_id  # never nulled
    assert (event.object_type, event.object_id, event.action, event.detail) == (
        "incidents.Incident",
        str(incident.pk),
        "view",
        "page",
    )
    assert event.at is not None


def test_the_signature_other_apps_call_keeps_working(people):
    record(people["partner"], "export")
    record(None, "login_failed", detail="someone")
    # (The personas' partner access, given as they were made, is on record too.)
    events = list(AuditEvent.objects.exclude(action__startswith="access.").order_by("id"))
    assert [(e.username, e.organization, e.object_type) for e in events] == [
        ("pia", "Partner A", ""),
        ("", "", ""),
    ]


def test_a_superuser_has_no_add_change_or_delete_in_the_admin(superuser, people):
    event = record(people["analyst"], "view", detail="original")
    client = Client()
    client.force_login(superuser)
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    forged = client.post(reverse("admin:accounts_auditevent_add"), {"action": "forged"})
    assert forged.status_code == 403
    change = reverse("admin:accounts_auditevent_change", args=[event.pk])
    page = client.get(change)
    assert page.status_code == 200  # viewable, read-only
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change, {"action": "forged", "detail": "forged"}).status_code == 403
    delete = reverse("admin:accounts_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:accounts_auditevent_changelist")
    bulk = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert AuditEvent.objects.filter(pk=event.pk, detail="original").exists()
    assert AuditEvent.objects.exclude(action__startswith="access.").count() == 1


def test_reading_an_incident_in_the_admin_writes_an_event(superuser, incident):
    client = Client()
    client.force_login(superuser)
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    assert client.get(url).status_code == 200
    event = AuditEvent.objects.get(action="view", object_id=str(incident.pk))
    assert (event.username, event.roles, event.detail) == ("root", "superuser", "admin")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's"
)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounts_auditevent SET detail = 'forged'",
        "DELETE FROM accounts_auditevent",
    ],
)
def test_postgresql_refuses_update_and_delete_of_the_log(people, statement):
    record(people["analyst"], "view", detail="original")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.get(action="view").detail == "original"


def test_deleting_a_user_through_the_orm_keeps_their_events(people):
    user = make_user("temp", roles.VIEWER, "City of Testville")
    record(user, "view")
    user.delete()  # on PostgreSQL the trigger would refuse any SET NULL or cascade
    assert AuditEvent.objects.filter(username="temp").count() == 1
