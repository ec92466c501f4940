"""The review's part of the demo, on a small simulated county: the simulator's groups and
conflicts become the group audit, its last eight weeks of shootings the queue, those whose
weekly meeting has been held reviewed as the simulator's truth says, with alerts reaching the
partners covering them; the newest wait for the next meeting."""

from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.conf import settings
from django.core.management import call_command

from gvrs.accounts import roles
from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident, Jurisdiction
from gvrs.partners.demo import build_partner_demo
from gvrs.partners.models import Participant
from gvrs.reviews.demo import QUEUE_DAYS, build_review_demo, meeting_after
from gvrs.reviews.models import AlertDelivery, Conflict, CoverageArea, Group, Review
from tests.personas import make_user

pytestmark = pytest.mark.django_db


def test_the_demo_review_comes_from_the_simulator(tmp_path, client):
    # The data end yesterday in the county's own zone, as the demo's do.
    today = dt.datetime.now(ZoneInfo(settings.GVRS_DEFAULT_TIME_ZONE)).date()
    city = simulate("small-town", years=(today.year - 1, today.year), seed=3, size=25, today=today)
    paths = write_city(city, tmp_path / "sim")
    assert import_file(paths["incidents.csv"], load_format("gvrs")).ok
    call_command(
        "boundaries",
        str(paths["neighborhoods.geojson"]),
        jurisdiction_field="town",
        parent=city.scenario.county,
        stdout=io.StringIO(),
    )
    make_user("analyst", roles.STRATEGY_ANALYST, "City")
    police = make_user("police", roles.POLICE_ANALYST, "Police", "police")
    folder = paths["truth.json"].parent
    build_partner_demo(folder, county=city.scenario.county, password="demo-password-1")
    lines = build_review_demo(folder, county=city.scenario.county, seed=3)

    groups = pd.read_csv(paths["groups.csv"])
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(groups["name"])
    assert Conflict.objects.count() == len(pd.read_csv(paths["conflicts.csv"]))
    county = Jurisdiction.objects.named(city.scenario.county)
    today = county.today()
    lapsed = Group.objects.lapsed(today).count()
    assert Group.objects.designated(today).count() == len(groups) - lapsed
    assert lapsed <= 3

    end = pd.Timestamp(json.loads(paths["truth.json"].read_text())["end"]).date()
    recent = Incident.objects.filter(
        kind__in=("homicide", "nonfatal_shooting"),
        occurred_on__gt=end - pd.Timedelta(days=QUEUE_DAYS),
    )
    assert Review.objects.count() == recent.count()
    held = [i.pk for i in recent if meeting_after(i.occurred_on) < today]  # meeting held
    done = list(Review.objects.done().select_related("incident"))
    assert sorted(r.incident_id for r in done) == sorted(held) and done
    # The newest wait for the next meeting, due a week after the shooting.
    waiting = Review.objects.open()
    assert waiting.count() == recent.count() - len(done)
    assert all(meeting_after(r.incident.occurred_on) >= today for r in waiting)
    # The review found the groups the simulator says were involved.
    events = pd.read_csv(paths["events.csv"]).set_index("event_id")
    names = groups.set_index("group_id")["name"]
    for review in done:
        truth = events.loc[int(review.incident.source_id.removeprefix("SIM3-"))]
        victims = [g.name for g in review.victim_groups.all()]
        if review.group_involvement in ("confirmed", "suspected"):
            assert victims == [names[truth["victim_group"]]] if truth["victim_group"] >= 0 else []
            assert review.reviewed_on > review.incident.occurred_on
        else:
            assert victims == []
    assert any(r.group_involvement in ("confirmed", "suspected") for r in done)
    # Alerts reached only organizations covering their area.
    for delivery in AlertDelivery.objects.select_related("alert"):
        assert CoverageArea.objects.filter(
            organization=delivery.organization, area=delivery.alert.area
        ).exists()
    assert any("Review queue" in line for line in lines)

    # The police user walks the review pages and meets no participant.
    client.force_login(police)
    names_of_participants = [p.name for p in Participant.objects.all()]
    for url in ("/reviews/", f"/reviews/{done[0].pk}/", f"/reviews/groups/?place={county.slug}"):
        page = client.get(url).content.decode()
        assert not [n for n in names_of_participants if n in page], url
