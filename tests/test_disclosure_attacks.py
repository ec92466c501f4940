"""The attacks of issue 24, by readers with ordinary accounts, as regression tests: each reads
only what a page shows it and solves for a count it should not learn
(``tests/disclosure_attacker.py``). Before the disclosure policy each of them pinned a count
(verified by running this file against the code before the change: the failures are quoted
in each test's docstring).

The county is the simulator's Kern-like county (seed 1, 2022-2025), imported through the real
import path with its neighbourhoods, as ``gvrs demo`` builds it.
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.urls import reverse

from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident, Jurisdiction
from gvrs.reports.areamap import grid_cells
from tests import disclosure_attacker as attacker

pytestmark = pytest.mark.django_db
SHOT = ("homicide", "nonfatal_shooting")


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


def _people_shot() -> pd.DataFrame:
    """The truth: every firearm homicide and nonfatal shooting with its people shot."""
    rows = (
        Incident.objects.filter(kind__in=SHOT, weapon="firearm")
        .annotate(shot=F("killed") + F("injured"))
        .values_list("pk", "occurred_on", "area__name", "shot", "longitude", "latitude")
    )
    return pd.DataFrame(list(rows), columns=["pk", "day", "area", "shot", "lon", "lat"])


def _page(client: Client, slug: str, **params) -> str:
    response = client.get(reverse("reports-jurisdiction", kwargs={"slug": slug}), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_partner_cannot_difference_the_overview_down_to_a_day(county, people):
    """Issue 24, Why 1: as a partner (no incident rights), the overview of one area with
    "until" one day apart. Before the policy, the people-shot tile and the area's row moved
    by exactly that day's count: the reader pinned the day, failing here with
    ``day 2025-10-25 in Baker Flats pinned to 3..3``."""
    truth = _people_shot()
    in_2025 = truth[(truth["day"] >= dt.date(2025, 2, 1)) & truth["area"].notna()]
    by_day = in_2025.groupby(["area", "day"])["shot"].sum().sort_values(ascending=False)
    (area, day), shot_that_day = by_day.index[0], int(by_day.iloc[0])
    assert shot_that_day >= 1
    client = Client()
    client.force_login(people["partner"])
    reader = attacker.DayCounts(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    since = dt.date(2025, 1, 1)
    for until in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)):
        page = _page(client, county.slug, metric="shootings", area=area, since=since, until=until)
        within = attacker.perturbed_within(page)
        value, headline = attacker.tiles(page)["shootings"]
        start, end = attacker.tile_window(headline, until)
        reader.see(start, end, value, within)
        window, counts = attacker.area_table(page)
        if area in counts:
            start, end = window or (since, until)
            reader.see(start, end, counts[area], within)
    low, high = reader.range_of(day, day)
    assert low - 1e-6 <= shot_that_day <= high + 1e-6
    assert high - low >= 1 - 1e-6, f"day {day} in {area} pinned to {low:g}..{high:g}"


def test_a_reader_without_locations_cannot_difference_map_cells(county, people):
    """Issue 24, Why 1 (cells): a viewer may read incident records (it knows a person was
    shot in the county on that day, and where only to the area) but not locations. Before the
    policy, the map's 500 m cells for "until" one day apart moved one cell by exactly one
    (5 to 6): the shooting was pinned to a cell, failing here with
    ``cells [(-119.091434, 35.308933)] must hold the shooting of 2025-02-12``."""
    truth = _people_shot().dropna(subset=["lon", "lat"])
    since = dt.date(2022, 1, 1)
    per_day = truth.groupby("day")["shot"].sum()
    # A day with exactly one person shot in the county, in a cell that already had at least
    # five people shot since the start of 2022 (so the cell is drawn both before and after).
    lone_days = sorted(d for d, n in per_day.items() if n == 1 and d.year == 2025)
    chosen = None
    for day in lone_days:
        (lon, lat) = truth.loc[truth["day"] == day, ["lon", "lat"]].iloc[0]
        before = truth[(truth["day"] < day)]
        mine = grid_cells(np.r_[before["lon"], lon], np.r_[before["lat"], lat], 500)
        centre = grid_cells(np.array([lon]), np.array([lat]), 500).iloc[0]
        row = mine[(mine["lon"] == centre["lon"]) & (mine["lat"] == centre["lat"])]
        if int(row["n"].iloc[0]) - 1 >= 5:
            chosen = day
            break
    assert chosen is not None
    client = Client()
    client.force_login(people["viewer"])
    maps = []
    for until in (chosen - dt.timedelta(days=1), chosen):
        page = _page(client, county.slug, metric="shootings", since=since, until=until)
        maps.append((attacker.map_cells(page), attacker.perturbed_within(page)))
    (before, within_before), (after, within_after) = maps
    forced = []
    for cell in set(before) | set(after):
        low_after = attacker.figure_range(after.get(cell, 0), within_after)[0]
        high_before = attacker.figure_range(before.get(cell, 0), within_before)[1]
        if cell in after and low_after - high_before >= 1:
            forced.append(cell)
    assert not forced, f"cells {forced} must hold the shooting of {chosen}"


def test_pages_say_which_whole_months_they_answer(county, people):
    client = Client()
    client.force_login(people["partner"])
    page = _page(client, county.slug, metric="shootings", since="2025-08-04", until="2025-08-05")
    assert "no whole month" in page
    page = _page(client, county.slug, metric="shootings", since="2025-01-01", until="2025-08-05")
    assert 'data-perturbed-within="5"' in page
    assert "1 January 2025 to 31 July 2025" in page
