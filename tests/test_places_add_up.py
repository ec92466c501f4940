"""Places add up (issue 23, item 3): a state's figure comes from incidents only where the
source records the whole state; otherwise its published series leads and the incident series
says which parts it records. "Places inside" shows each child's latest published figure,
a county's agencies summed where it publishes none.

The registry holds the real California DOJ counts of three Central Valley counties and a
county of incident records built here ("Kern-like County", two towns), as the demo does.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command

from gvrs.data.mapping import load_format
from gvrs.data.metrics import load_metrics
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction
from gvrs.reports.overview import build
from gvrs.reports.places import places_inside
from gvrs.reports.series import all_series
from tests.conftest import CA_DOJ, require
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db
COUNTIES = ["Kern County", "Fresno County", "San Joaquin County"]


@pytest.fixture
def california(tmp_path):
    """Returns the DOJ rows of the three counties (a DataFrame) for expected figures."""
    doj = pd.read_csv(require(CA_DOJ), dtype=str, keep_default_na=False)
    central = doj[doj["County"].isin(COUNTIES)]
    central.to_csv(tmp_path / "doj.csv", index=False)
    assert import_file(tmp_path / "doj.csv", load_format("ca-doj")).ok
    rows = [
        row(f"K-{i}", occurred_at=f"2024-{1 + i % 12:02d}-{2 + i % 27:02d}",
            jurisdiction=f"Kern-like County > Town {'AB'[i % 2]}", area="")
        for i in range(30)
    ]  # fmt: skip
    report = import_file(
        write_csv(tmp_path / "sim.csv", rows),
        load_format("gvrs"),
        source="simulated",
        state="CA",
        new_places=True,
        covers_from=dt.date(2024, 1, 1),
        covers_through=dt.date(2024, 12, 31),
    )
    assert report.ok, report.errors[:3]
    central = central.assign(
        year=central["Year"].astype(int), homicides=central["Homicide_sum"].astype(int)
    )
    return central


def test_a_state_leads_with_its_published_series_when_incidents_record_one_county(california):
    state = Jurisdiction.objects.get(level="state", state="CA")
    metrics = load_metrics()
    found = all_series(metrics["homicides"], state)
    assert [s.source for s in found] == ["ca-doj-crimes-clearances", "simulated"]
    counted = found[1]
    assert counted.partial == "incidents recorded in 1 of 4 counties"
    assert not counted.primary
    assert "incidents recorded in 1 of 4 counties" in counted.coverage()
    board = build(state, metrics["homicides"], metrics)
    tile = next(t for t in board.tiles if t.metric.name == "homicides")
    expected = int(california.loc[california["year"] == 2022, "homicides"].sum())
    assert tile.source.startswith("California DOJ OpenJustice")
    assert tile.headline == f"{expected:,} in 2022"
    # gvrs stats says it too, on the incident rows.
    out = io.StringIO()
    call_command(
        "stats", "--metric", "homicides", "--jurisdiction", state.slug, "--format", "json",
        stdout=out,
    )  # fmt: skip
    records = json.loads(out.getvalue())
    simulated = [r for r in records if r["source"] == "simulated"]
    assert simulated and all("1 of 4 counties" in r["coverage"] for r in simulated)


def test_a_county_its_source_records_whole_leads_with_its_incidents(california):
    county = Jurisdiction.objects.get(name="Kern-like County")
    found = all_series(load_metrics()["homicides"], county)
    assert [(s.source, s.primary, s.partial) for s in found] == [("simulated", True, "")]


def test_places_inside_show_each_childs_latest_published_figure(california):
    state = Jurisdiction.objects.get(level="state", state="CA")
    rows = {r.place.name: r for r in places_inside(state).rows}
    kern = california[(california["County"] == "Kern County") & (california["year"] == 2022)]
    row_ = rows["Kern County"]
    assert (row_.published_year, row_.published_homicides) == (2022, int(kern["homicides"].sum()))
    assert row_.published_note == f"sum of {len(kern)} places inside"
    assert rows["Kern-like County"].published_homicides is None
    assert rows["Kern-like County"].incidents_12_months == 30
    inside_kern = {r.place.name: r for r in places_inside(Jurisdiction.objects.get(
        name="Kern County")).rows}  # fmt: skip
    # A place's own figure, as the issue found on /j/kern-county/: Bakersfield 38 (2022).
    bakersfield = inside_kern["Bakersfield"]
    assert (bakersfield.published_homicides, bakersfield.published_year) == (38, 2022)
    assert bakersfield.published_note == ""
