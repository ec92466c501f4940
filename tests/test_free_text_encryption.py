"""Free-text case fields encrypted at rest like names (issue 24).

Eligibility and priority reasons, notes of contacts, services, mediations, interrupted
retaliations and exits, goals, milestones, and a referral's reason, decline reason and outcome
were stored in plain text: a database dump or a backup said what participants told their
workers. Now the database, and so every backup, holds ciphertext; existing rows are encrypted
by a (reversible) data migration; a key rotation is finished by ``gvrs reencrypt``.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from gvrs.partners import actions
from gvrs.partners.crypto import PREFIX
from gvrs.partners.models import (
    Contact,
    Goal,
    Mediation,
    Milestone,
    Participant,
    Referral,
    RetaliationInterrupted,
    Service,
)
from tests.partner_helpers import make_participant, make_program

# model -> its free-text fields, each given a value no other field holds
FREE_TEXT = {
    Participant: ("eligibility_reason", "priority_reason", "exit_note"),
    Contact: ("note",),
    Service: ("note",),
    Mediation: ("note",),
    RetaliationInterrupted: ("note",),
    Goal: ("description",),
    Milestone: ("description",),
    Referral: ("reason", "decline_reason", "outcome"),
}


def secret(model, field: str) -> str:
    return f"said-{model.__name__}-{field}-in-confidence"


def make_casework(people) -> dict:
    """Every free-text field written once, through the actions, with ``secret`` values."""
    partner, outsider = people["partner"], people["outsider"]
    program = make_program(partner, "Partner A")
    program_b = make_program(outsider, "Partner B", name="Mentoring", kind="mentoring")
    person = make_participant(
        partner,
        program,
        "Dana Example",
        eligibility_reason=secret(Participant, "eligibility_reason"),
        priority_reason=secret(Participant, "priority_reason"),
    )
    org = program.organization
    actions.log_contact(
        partner,
        person,
        on=dt.date(2026, 1, 6),
        duration_minutes=20,
        kind="in_person",
        place="street",
        note=secret(Contact, "note"),
    )
    actions.record_service(
        partner,
        person,
        kind="housing",
        delivered_on=dt.date(2026, 1, 7),
        note=secret(Service, "note"),
    )
    actions.record_mediation(
        partner,
        org,
        on=dt.date(2026, 1, 8),
        parties=2,
        outcome="resolved",
        note=secret(Mediation, "note"),
    )
    actions.record_retaliation_interrupted(
        partner, org, on=dt.date(2026, 1, 9), note=secret(RetaliationInterrupted, "note")
    )
    plan = actions.start_life_plan(
        partner, person, [("education", secret(Goal, "description"), None)]
    )
    actions.add_milestone(partner, plan.goals.get(), secret(Milestone, "description"))
    declined = actions.send_referral(
        partner, person, program_b.organization, reason=secret(Referral, "reason")
    )
    actions.decline_referral(outsider, declined, secret(Referral, "decline_reason"))
    completed = actions.send_referral(partner, person, program_b.organization, reason="x")
    actions.accept_referral(outsider, completed, program_b)
    actions.complete_referral(outsider, completed, secret(Referral, "outcome"))
    actions.exit_participant(
        partner, person, "completed", dt.date(2026, 2, 1), secret(Participant, "exit_note")
    )
    return {"person": person}


def stored(model, field: str) -> list[str]:
    """The column's values as the database holds them, read with SQL (no model field)."""
    column = model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{model._meta.db_table}"')
        return [value for (value,) in cursor.fetchall() if value]


@pytest.mark.django_db
def test_free_text_is_ciphertext_in_the_database_and_text_on_the_page(people):
    make_casework(people)
    for model, fields in FREE_TEXT.items():
        for field in fields:
            values = stored(model, field)
            assert values, (model, field)
            assert all(v.startswith(PREFIX) for v in values), (model, field, values)
            assert not any(secret(model, field) in v for v in values)
            assert secret(model, field) in model.objects.values_list(field, flat=True)


@pytest.mark.django_db
def test_purging_still_erases_the_free_text(people):
    person = make_casework(people)["person"]
    person.exited_on = dt.date(2020, 1, 1)
    person.save()
    actions.purge_participant(None, Participant.objects.get(pk=person.pk))
    person = Participant.objects.get(pk=person.pk)
    assert person.eligibility_reason == actions.PURGED and person.exit_note == ""
    assert set(Goal.objects.values_list("description", flat=True)) == {actions.PURGED}
    assert set(Contact.objects.values_list("note", flat=True)) == {""}


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_encrypts_existing_rows_and_reverses(people):
    """Rows written in plain text before the change are encrypted by migration 0002 of
    partners; migrating back decrypts them."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        _migrate([("partners", "0001_partners_initial")])
        old = (
            MigrationExecutor(connection)
            .loader.project_state([("partners", "0001_partners_initial")])
            .apps
        )
        organization = old.get_model("accounts", "Organization").objects.get(name="Partner A")
        program = old.get_model("partners", "Program").objects.create(
            organization=organization, name="Fellowship", kind="fellowship", capacity=10
        )
        participant = old.get_model("partners", "Participant").objects.create(
            organization=organization,
            program=program,
            name="",  # the name was already encrypted before: not this migration's
            eligibility_reason="written before the change",
            exit_note="left town, plain text",
        )
        contact = old.get_model("partners", "Contact").objects.create(
            participant=participant,
            on=dt.date(2026, 1, 6),
            duration_minutes=5,
            kind="phone",
            place="remote",
            note="talked about the funeral",
        )
        assert stored(Contact, "note") == ["talked about the funeral"]

        _migrate([("partners", "0002_encrypt_free_text")])
        for model, field in (
            (Participant, "eligibility_reason"),
            (Participant, "exit_note"),
            (Contact, "note"),
        ):
            assert all(v.startswith(PREFIX) for v in stored(model, field)), (model, field)
        assert Contact.objects.get(pk=contact.pk).note == "talked about the funeral"
        assert Participant.objects.get(pk=participant.pk).exit_note == "left town, plain text"

        _migrate([("partners", "0001_partners_initial")])  # reversible: plain text again
        assert stored(Contact, "note") == ["talked about the funeral"]
        assert stored(Participant, "eligibility_reason") == ["written before the change"]
    finally:
        _migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_a_backup_holds_ciphertext_not_the_notes(people, tmp_path):
    make_casework(people)
    backup = tmp_path / "gvrs.backup"
    call_command("backup", str(backup), stdout=io.StringIO())
    if connection.vendor == "postgresql":
        # The custom format is compressed: read it back as the SQL it restores.
        pg_restore = shutil.which("pg_restore")
        if pg_restore is None:
            pytest.skip("pg_restore is not installed")
        content = subprocess.run(
            [pg_restore, "--data-only", "-f", "-", str(backup)], capture_output=True, check=True
        ).stdout
    else:
        content = backup.read_bytes()
    assert PREFIX.encode() in content
    for model, fields in FREE_TEXT.items():
        for field in fields:
            assert secret(model, field).encode() not in content, (model, field)
    assert b"Dana Example" not in content


@pytest.mark.django_db
def test_a_rotated_key_reads_old_values_and_reencrypt_moves_them_to_it(people, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.GVRS_FIELD_KEY = old
    person = make_casework(people)["person"]
    settings.GVRS_FIELD_KEY = f"{new},{old}"  # the new key first: written with it, read with both
    assert Participant.objects.get(pk=person.pk).exit_note == secret(Participant, "exit_note")
    out = io.StringIO()
    call_command("reencrypt", stdout=out)
    assert "partners.Participant: 2 rows re-encrypted" in out.getvalue()
    settings.GVRS_FIELD_KEY = new  # the old key dropped: everything still reads
    for model, fields in FREE_TEXT.items():
        for field in fields:
            assert secret(model, field) in model.objects.values_list(field, flat=True)
    assert Participant.objects.get(pk=person.pk).name == "Dana Example"
    settings.GVRS_FIELD_KEY = old  # and the old key alone no longer does
    with pytest.raises(ValueError, match="wrong or rotated-out key"):
        Participant.objects.get(pk=person.pk)
