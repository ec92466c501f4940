"""The partners' part of the demo, on a small simulated county: organizations, users and
case work from the simulator's participants.csv, none of it visible to the police."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from django.core.management import call_command
from django.test import Client

from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.partners.demo import build_partner_demo
from gvrs.partners.models import Contact, Outcome, Participant, Referral

pytestmark = pytest.mark.django_db


def test_the_demo_partners_come_from_the_simulator_and_stay_behind_the_firewall(people, tmp_path):
    city = simulate("small-town", years=(2019, 2024), seed=3)
    paths = write_city(city, tmp_path / "sim")
    assert import_file(paths["incidents.csv"], load_format("gvrs")).ok
    call_command(
        "boundaries",
        str(paths["neighborhoods.geojson"]),
        jurisdiction_field="town",
        parent=city.scenario.county,
        stdout=io.StringIO(),
    )
    lines = build_partner_demo(
        paths["truth.json"].parent, county=city.scenario.county, password="demo-password-1"
    )
    expected = pd.read_csv(paths["participants.csv"])
    assert (
        Participant.objects.count()
        == len(expected) + Referral.objects.filter(status="accepted").count()
    )
    assert set(
        Participant.objects.exclude(simulated_person=None).values_list(
            "simulated_person", flat=True
        )
    ) == set(expected["person_id"])
    assert Participant.objects.filter(area__isnull=False).count() == len(expected)
    assert Contact.objects.exists() and Outcome.objects.exists()
    # Identified, then the intake, then the enrolment; everyone enrolled was reached first,
    # so the funnel (identified >= contacted >= enrolled) never rises.
    for person in Participant.objects.exclude(enrolled_on=None):
        assert person.identified_on <= person.intake_on <= person.enrolled_on, person.pk
        assert person.contacts.filter(on__lte=person.enrolled_on, kind="in_person").exists()
    assert any("accepted" in line for line in lines)
    # Outcomes are the simulator's truth: "not shot" is no exactly when they were shot.
    victims = pd.read_csv(paths["victims.csv"])
    shot_people = set(victims["person_id"])
    for outcome in Outcome.objects.filter(not_shot=False).select_related("participant"):
        assert outcome.participant.simulated_person in shot_people
    # The demo partner signs in and sees the caseload; the police see nothing.
    partner = Client()
    assert partner.login(username="partner", password="demo-password-1")
    first = Participant.objects.filter(organization__name="Kern-like Peacekeepers").first()
    assert first.name in partner.get("/partners/").content.decode()
    police = Client()
    police.force_login(people["police"])
    assert police.get("/partners/").status_code == 404
    assert police.get(f"/partners/p/{first.pk}/").status_code == 404
    for url in ("/", "/incidents/"):
        assert first.name not in police.get(url).content.decode()
