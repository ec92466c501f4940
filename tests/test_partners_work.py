"""Partner work: the rules its actions keep, encryption at rest, the audit log and its export,
retention purge, contact compliance and the quick contact form."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from gvrs.accounts.models import AuditEvent
from gvrs.partners import actions
from gvrs.partners.figures import contact_compliance
from gvrs.partners.models import Contact, Participant, Referral
from tests.partner_helpers import make_participant, make_program

pytestmark = pytest.mark.django_db
NAME = "Philomena Strathcarron"


@pytest.fixture
def program(people):
    return make_program(people["partner"], "Partner A", capacity=2, caseload_per_worker=2)


def test_personal_fields_are_unreadable_in_a_raw_dump_of_every_table(people, program):
    make_participant(
        people["partner"],
        program,
        NAME,
        phone="661-555-0142",
        address="9 Quince Ct",
        date_of_birth=dt.date(2001, 9, 30),
    )
    person = Participant.objects.get()
    actions.send_referral(people["partner"], person, _org("Partner B"), reason="job")
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump.extend(str(row) for row in cursor.fetchall())
    text = "\n".join(dump)
    for secret in (NAME, "Strathcarron", "661-555-0142", "Quince", "2001-09-30", "30 Sep 2001"):
        assert secret not in text, f"{secret} readable in the {connection.vendor} database"
    assert "fernet:" in text
    # ...and the application reads them back.
    assert Participant.objects.get().name == NAME
    assert Participant.objects.get().date_of_birth == dt.date(2001, 9, 30)
    assert Referral.objects.get().shared_name == NAME


def _org(name):
    from gvrs.accounts.models import Organization

    return Organization.objects.get(name=name)


def _settings_with(env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GVRS_")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gvrs.settings');"
            " django.setup()",
        ],
        env={**base, **env},
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_the_field_key(tmp_path):
    production = {
        "GVRS_HOME": str(tmp_path),
        "GVRS_PRODUCTION": "1",
        "GVRS_SECRET_KEY": "x" * 50,
        "GVRS_ALLOWED_HOSTS": "gvrs.example.org",
    }
    refused = _settings_with(production)
    assert refused.returncode != 0 and "GVRS_FIELD_KEY is not" in refused.stderr
    bad = _settings_with({**production, "GVRS_FIELD_KEY": "not-a-key"})
    assert bad.returncode != 0 and "not a Fernet key" in bad.stderr
    from cryptography.fernet import Fernet

    good = _settings_with({**production, "GVRS_FIELD_KEY": Fernet.generate_key().decode()})
    assert good.returncode == 0, good.stderr
    assert not (tmp_path / "field_key").exists()


def test_a_laptop_keeps_a_generated_key_under_gvrs_home(tmp_path):
    assert _settings_with({"GVRS_HOME": str(tmp_path)}).returncode == 0
    key = (tmp_path / "field_key").read_text()
    assert _settings_with({"GVRS_HOME": str(tmp_path)}).returncode == 0
    assert (tmp_path / "field_key").read_text() == key
    assert oct((tmp_path / "field_key").stat().st_mode & 0o777) == "0o600"


def test_enrolment_keeps_capacity_and_caseload(people, program):
    partner = people["partner"]
    make_participant(partner, program, "One")
    make_participant(partner, program, "Two")
    third = make_participant(partner, program, "Three", enrol=False)
    with pytest.raises(actions.ActionError, match="full"):
        actions.enrol_participant(partner, third)
    assert Participant.objects.get(pk=third.pk).status == "waiting"
    bigger = make_program(
        partner, "Partner A", name="Mentoring", capacity=10, caseload_per_worker=1
    )
    make_participant(partner, bigger, "Four")
    fifth = make_participant(partner, bigger, "Five", enrol=False)
    with pytest.raises(actions.ActionError, match="limit per worker"):
        actions.enrol_participant(partner, fifth)


def test_a_referral_goes_sent_accepted_completed_or_declined_with_reason(people, program):
    partner, outsider = people["partner"], people["outsider"]
    program_b = make_program(outsider, "Partner B", name="Jobs", kind="employment")
    person = make_participant(partner, program, NAME, refer_fields=("name", "needs"))
    referral = actions.send_referral(partner, person, _org("Partner B"), reason="work", needs="ID")
    assert referral.fields == ["name", "needs"] and referral.shared_phone == ""
    with pytest.raises(actions.ActionError, match="only an accepted"):
        actions.complete_referral(outsider, referral, "hired")
    actions.accept_referral(outsider, referral, program_b)
    received = Participant.objects.get(pk=referral.received_as_id)
    assert received.organization.name == "Partner B" and received.name == NAME
    assert received.phone == ""
    with pytest.raises(actions.ActionError, match="already accepted"):
        actions.decline_referral(outsider, referral, "no")
    actions.complete_referral(outsider, referral, "hired at the warehouse")
    assert Referral.objects.get(pk=referral.pk).status == "completed"
    second = actions.send_referral(partner, person, _org("Partner B"), reason="again")
    with pytest.raises(actions.ActionError, match="reason"):
        actions.decline_referral(outsider, second, "  ")
    actions.decline_referral(outsider, second, "no places until spring")
    assert Referral.objects.get(pk=second.pk).decline_reason == "no places until spring"


def test_every_change_and_read_is_in_the_audit_log(people, program):
    partner = people["partner"]
    person = make_participant(partner, program, NAME)
    client = Client()
    client.force_login(partner)
    client.get(reverse("partners-participant", args=[person.pk]))
    response = client.post(
        reverse("partners-contact"),
        {
            "participant": person.pk,
            "on": "2026-01-10",
            "kind": "phone",
            "place": "remote",
            "duration_minutes": 10,
        },
    )
    assert response.status_code == 302
    actions_logged = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    for expected in (
        "participant.intake",
        "consent.record",
        "participant.enrol",
        "participant.view",
        "contact.log",
    ):
        assert expected in actions_logged
    view = AuditEvent.objects.get(action="participant.view")
    assert view.user == partner and view.object_id == str(person.pk)
    assert (view.username, view.roles, view.organization) == ("pia", "partner staff", "Partner A")
    assert NAME not in " ".join(AuditEvent.objects.values_list("detail", flat=True))


def test_the_audit_export_has_every_partner_event_and_column(people, program, tmp_path):
    make_participant(people["partner"], program, NAME)
    AuditEvent.objects.create(action="view", object_type="incidents.Incident", object_id="1")
    out = tmp_path / "audit.csv"
    call_command("partner_audit", out=str(out), stdout=io.StringIO())
    rows = list(csv.DictReader(out.open()))
    # Access given to the personas as they were made comes first (issue 24), then the work.
    assert {r["action"] for r in rows} >= {
        "access.grant",
        "participant.intake",
        "participant.enrol",
    }
    grants = len([r for r in rows if r["action"].startswith("access.")])
    rows = rows[grants:]
    assert all(r["object_type"] != "incidents.Incident" for r in rows)
    assert set(rows[0]) >= {"at", "user", "action", "object_type", "object_id", "detail"}
    assert rows[0]["username"] == "pia"
    assert rows[0]["organization"] == "Partner A" and rows[0]["roles"] == "partner staff"
    assert rows[0]["user"] == str(people["partner"].pk)
    lines = tmp_path / "audit.jsonl"
    call_command("partner_audit", out=str(lines), format="jsonl", stdout=io.StringIO())
    assert len(lines.read_text().splitlines()) == grants + len(rows)
    assert json.loads(lines.read_text().splitlines()[grants])["action"] == rows[0]["action"]


def test_purge_erases_personal_fields_after_retention_and_keeps_counts(people, capsys):
    partner = people["partner"]
    program = make_program(partner, "Partner A", retention_days=30)
    person = make_participant(partner, program, NAME, phone="661-555-0100")
    actions.log_contact(
        partner,
        person,
        on=dt.date(2026, 1, 6),
        duration_minutes=5,
        kind="phone",
        place="remote",
        note="asked about court",
    )
    actions.exit_participant(partner, person, "completed", on=dt.date(2026, 2, 1))
    keep = make_participant(partner, program, "Still Here")
    call_command("purge", dry_run=True, as_of="2026-03-02")  # 30 days after exit: not yet
    assert "0 participants would be purged" in capsys.readouterr().out
    call_command("purge", dry_run=True, as_of="2026-03-03")
    assert f"would purge participant {person.pk}" in capsys.readouterr().out
    assert Participant.objects.get(pk=person.pk).name == NAME
    call_command("purge", as_of="2026-03-03")
    out = capsys.readouterr().out
    assert f"purged participant {person.pk}" in out and NAME not in out
    purged = Participant.objects.get(pk=person.pk)
    assert purged.name == actions.PURGED and purged.phone == "" and purged.purged_at
    assert purged.status == "exited" and purged.exit_reason == "completed"
    assert Contact.objects.filter(participant=purged).count() == 1
    assert Contact.objects.get(participant=purged).note == ""
    assert Participant.objects.get(pk=keep.pk).name == "Still Here"
    call_command("purge", as_of="2026-03-03")
    assert "0 participants purged" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="participant.purge").count() == 1


def test_contact_compliance_against_a_daily_standard(people):
    partner = people["partner"]
    daily = make_program(partner, "Partner A", name="Fellows", contact_standard_days=1)
    person = make_participant(partner, daily, NAME)  # enrolled 2026-01-05
    for day in (5, 6, 8):
        actions.log_contact(
            partner,
            person,
            on=dt.date(2026, 1, day),
            duration_minutes=5,
            kind="in_person",
            place="street",
        )
    actions.log_contact(
        partner,
        person,
        on=dt.date(2026, 1, 7),
        duration_minutes=5,
        kind="attempted",
        place="street",
    )
    result = contact_compliance(Participant.objects.get(pk=person.pk), dt.date(2026, 1, 8))
    assert (result.periods, result.periods_met) == (4, 3)
    assert result.last_contact == dt.date(2026, 1, 8)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("on", "2999-01-01", "future"),
        ("duration_minutes", "0", "greater than or equal to 1"),
        ("kind", "telepathy", "valid choice"),
        ("participant", "987654", "valid choice"),
    ],
)
def test_the_quick_contact_form_refuses_bad_input(people, program, field, value, message):
    person = make_participant(people["partner"], program, NAME)
    client = Client()
    client.force_login(people["partner"])
    data = {
        "participant": person.pk,
        "on": "2026-01-10",
        "kind": "phone",
        "place": "remote",
        "duration_minutes": 10,
        field: value,
    }
    response = client.post(reverse("partners-contact"), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Contact.objects.exists()


def test_an_outsider_cannot_log_a_contact_for_a_participant_of_a(people, program):
    person = make_participant(people["partner"], program, NAME)
    client = Client()
    client.force_login(people["outsider"])
    response = client.post(
        reverse("partners-contact"),
        {
            "participant": person.pk,
            "on": "2026-01-10",
            "kind": "phone",
            "place": "remote",
            "duration_minutes": 10,
        },
    )
    assert response.status_code == 200 and "valid choice" in response.content.decode()
    assert not Contact.objects.exists()


def test_mediations_and_interrupted_retaliations_stay_in_their_organization(people, program):
    client = Client()
    client.force_login(people["partner"])
    response = client.post(
        reverse("partners-field"),
        {
            "step": "mediation",
            "on": "2026-01-12",
            "parties": 3,
            "outcome": "resolved",
            "note": "the two blocks over the car",
        },
    )
    assert response.status_code == 302
    client.post(
        reverse("partners-field"),
        {"step": "retaliation", "on": "2026-01-13", "note": "talked him down"},
    )
    page = client.get(reverse("partners-field")).content.decode()
    assert "3 parties" in page and "talked him down" in page
    assert {"mediation.record", "retaliation.interrupted"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )
    outsider = Client()
    outsider.force_login(people["outsider"])
    other = outsider.get(reverse("partners-field")).content.decode()
    assert "talked him down" not in other and "3 parties" not in other
    bad = client.post(
        reverse("partners-field"),
        {"step": "mediation", "on": "2026-01-12", "parties": 1, "outcome": "resolved"},
    )
    assert bad.status_code == 200 and "greater than or equal to 2" in bad.content.decode()


def test_a_partner_finds_a_participant_by_name_although_names_are_encrypted(people, program):
    make_participant(people["partner"], program, NAME)
    make_participant(people["partner"], program, "Someone Else")
    client = Client()
    client.force_login(people["colleague"])
    page = client.get(reverse("partners-list"), {"q": "strathc"}).content.decode()
    assert NAME in page and "Someone Else" not in page


def test_an_outcome_window_must_be_ordered(people, program):
    person = make_participant(people["partner"], program, NAME)
    client = Client()
    client.force_login(people["partner"])
    client.post(
        reverse("partners-outcome", args=[person.pk]),
        {"window_start": "2026-02-01", "window_end": "2026-01-01", "alive": "true"},
    )
    assert not person.outcomes.exists()
    client.post(
        reverse("partners-outcome", args=[person.pk]),
        {
            "window_start": "2026-01-01",
            "window_end": "2026-02-01",
            "alive": "true",
            "not_shot": "true",
            "not_arrested_firearm": "unknown",
        },
    )
    outcome = person.outcomes.get()
    assert outcome.alive is True and outcome.not_arrested_firearm is None
