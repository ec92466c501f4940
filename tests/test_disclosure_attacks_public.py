"""Issue 24's attacks on the public pages, by a stranger with nothing but the downloads
(``tests/public_attacker.py``, written from what the downloads say, not from gvrs's
disclosure code): nested publications (a county and its towns, solved as one linked system)
and releases over time (one place's download before and after one late record). Each pinned
small counts before the public page was brought under the cell-key method (run against the
code before the change; the failures are quoted in each test's docstring).

The county is the simulator's Kern-like county (seed 1, 2022-2025), imported through the real
import path with its neighbourhoods and towns, as ``gvrs demo`` builds it.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import Client

from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import ImportRun, Incident, Jurisdiction
from gvrs.public.models import PublicDashboard
from tests import public_attacker as attacker

pytestmark = pytest.mark.django_db
THRESHOLD = 10


@pytest.fixture(autouse=True)
def _one_deployment_key(settings):
    """The same figures on every run (derived from each run's fresh secret key otherwise)."""
    settings.GVRS_DISCLOSURE_KEY = "issue 24's public attacks"


@pytest.fixture
def county(tmp_path):
    city = simulate("bakersfield-like", years=(2022, 2025), seed=1)
    paths = write_city(city, tmp_path / "sim")
    report = import_file(paths["incidents.csv"], load_format("gvrs"), state="CA")
    assert report.ok, report
    call_command(
        "boundaries",
        str(paths["neighborhoods.geojson"]),
        jurisdiction_field="town",
        parent=city.scenario.county,
        state="CA",
        stdout=io.StringIO(),
    )
    return Jurisdiction.objects.get(name=city.scenario.county)


def _publish(place: Jurisdiction) -> bytes:
    PublicDashboard.objects.update_or_create(jurisdiction=place, defaults={"enabled": True})
    response = Client().get(f"/public/{place.slug}/data.csv")
    assert response.status_code == 200, place
    return response.content


def test_a_county_and_its_towns_published_together_pin_no_small_count(county):
    """Issue 24, Why 2: the county and its four towns published (the admin allows it); a
    stranger reads the five downloads and solves them as one linked system (each month of the
    county is its towns' plus the rest of the county). Before the public page was perturbed,
    each page's complementary suppression held on its own but not together: this failed with
    ``24 small counts pinned``, among them Arvin-like November 2022 = 1, Delano-like
    July 2022 = 2 and the county's November 2022 = 10."""
    towns = list(Jurisdiction.objects.filter(parent=county).order_by("name"))
    assert len(towns) == 4
    reader, rest = attacker.nested(_publish(county), [_publish(t) for t in towns])
    assert len(rest) >= 40, "the reader links the county's months to its towns'"
    assert len(reader.hidden) > 20, "small counts are hidden on the pages"
    pinned = reader.pinned(THRESHOLD)
    example = next(iter(pinned.items()), None)
    assert not pinned, f"{len(pinned)} small counts pinned, e.g. {example}"


def test_two_releases_of_one_town_pin_no_late_record(county):
    """Issue 24, Why 3, on the public page: a stranger keeps the town's download, and reads it
    again after one late report of a shooting in a month that had none. Every month's count
    can only have grown; before the public page was perturbed, "0" became "fewer than 11"
    and the year's total rose by one, so the month was pinned: this failed with
    ``pinned after the late record: {('after', 2023, 8): 1}``."""
    # The first town with a whole past year whose total is shown and a month of 0 in it.
    for town in Jurisdiction.objects.filter(parent=county).order_by("name"):
        before = _publish(town)
        read = attacker.read(before)
        quiet = [
            key
            for key, text in sorted(read.months.items())
            if text == "0" and key[0] in (2023, 2024) and read.totals[key[0]].isdigit()
        ]
        if quiet:
            break
    assert quiet, "a whole past month with no shooting, in a year whose total is shown"
    year, month = quiet[0]
    late = Incident.objects.filter(jurisdiction=town, kind="homicide", weapon="firearm").first()
    late.pk = None
    late.source_id = f"{late.source_id}-late"
    late.occurred_on = dt.date(year, month, 14)
    late.save()
    run = ImportRun.objects.latest("pk")
    run.pk = None  # what tells the public page's cache that the registry changed
    run.save()
    after = Client().get(f"/public/{town.slug}/data.csv").content
    assert after != before, "the late record changes the download"
    reader = attacker.two_releases(before, after)
    pinned = reader.pinned(THRESHOLD)
    assert not pinned, f"pinned after the late record: {pinned}"
