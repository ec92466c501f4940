"""A national level (issue 23, item 4): "United States" above the states, its figures its
states' summed per source, with the coverage rules of any place that holds others.

Three incident sources over two states: the real Philadelphia (PA) and New York City (NY)
shooting files of 2015–2016, and a national archive built here listing every second incident
of both.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction
from gvrs.reports.places import places_inside, top_places
from tests.conftest import NYPD, PHILLY, require
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db
ARCHIVE = "gun-archive"


def stats(place: str, source: str | None = None) -> list[dict]:
    out = io.StringIO()
    args = ["stats", "--metric", "shootings", "--jurisdiction", place, "--format", "json"]
    call_command(*args, *(["--source", source] if source else []), stdout=out)
    return json.loads(out.getvalue())


def _archive_rows(frame: pd.DataFrame, place: str, prefix: str) -> list[dict]:
    """Every second incident of ``frame`` (columns key, day, killed), one row each."""
    incidents = (
        frame.groupby("key")
        .agg(day=("day", "min"), killed=("killed", "sum"), people=("killed", "size"))
        .reset_index()
        .sort_values("key")
        .iloc[::2]
    )
    return [
        row(f"{prefix}-{r.key}", kind="homicide" if r.killed else "nonfatal_shooting",
            occurred_at=r.day, jurisdiction=place, area="", latitude="", longitude="",
            killed=str(int(r.killed)), injured=str(int(r.people - r.killed)))
        for r in incidents.itertuples()
    ]  # fmt: skip


@pytest.fixture
def two_states(tmp_path):
    philly = pd.read_csv(require(PHILLY), dtype=str, keep_default_na=False)
    philly = philly[philly["date"].str[:4].isin(["2015", "2016"])]
    philly.to_csv(tmp_path / "philly.csv", index=False)
    assert import_file(tmp_path / "philly.csv", load_format("philly-shootings")).ok
    nypd = pd.read_csv(require(NYPD), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    nypd = nypd[nypd["OCCUR_DATE"].str[-2:].isin(["15", "16"])]
    nypd.to_csv(tmp_path / "nypd.csv", index=False)
    assert import_file(tmp_path / "nypd.csv", load_format("nypd-shootings")).ok
    rows = _archive_rows(
        pd.DataFrame(
            {
                "key": philly["dc_key"],
                "day": philly["date"].str[:10].str.replace("/", "-"),
                "killed": philly["fatal"] == "True",
            }
        ),
        "PA > Philadelphia",
        "P",
    )
    rows += _archive_rows(
        pd.DataFrame(
            {
                "key": nypd["INCIDENT_KEY"],
                "day": pd.to_datetime(nypd["OCCUR_DATE"], format="%m/%d/%y").dt.strftime(
                    "%Y-%m-%d"
                ),
                "killed": nypd["STATISTICAL_MURDER_FLAG"] == "TRUE",
            }
        ),
        "NY > New York City",
        "N",
    )
    report = import_file(
        write_csv(tmp_path / "archive.csv", rows),
        load_format("gvrs"),
        source=ARCHIVE,
        covers_from=dt.date(2015, 1, 1),
        covers_through=dt.date(2016, 12, 31),
    )
    assert report.ok, report.errors[:3]


def _by(records, source) -> dict[str, int]:
    return {r["period"]: r["count"] for r in records if r["source"] == source}


def test_united_states_totals_equal_the_sum_of_the_states(two_states):
    nation = stats("United States")
    pa, ny = stats("Pennsylvania", ARCHIVE), stats("New York", ARCHIVE)
    for year in ("2015", "2016"):
        assert _by(nation, ARCHIVE)[year] == _by(pa, ARCHIVE)[year] + _by(ny, ARCHIVE)[year]
        assert _by(pa, ARCHIVE)[year] > 0 and _by(ny, ARCHIVE)[year] > 0
    # The archive records both states: it leads. Each city's own file records one state: it
    # stands beside, saying so, and no figure adds the three sources.
    assert nation[0]["source"] == ARCHIVE
    for source in ("philly-shootings", "nypd-shootings"):
        rows = [r for r in nation if r["source"] == source]
        assert rows and all("incidents recorded in 1 of 2 states" in r["coverage"] for r in rows)
        assert _by(nation, source) == _by(stats("Pennsylvania" if "philly" in source
                                                 else "New York", source), source)  # fmt: skip


def test_the_nation_is_found_by_name_and_lists_its_states(two_states):
    stats("USA")
    nation = Jurisdiction.objects.get(slug="united-states")
    assert nation.level == "nation"
    assert {r.place.name for r in places_inside(nation).rows} == {"Pennsylvania", "New York"}
    # It is not a state's sibling in the place finder's outermost places.
    assert "United States" not in {p.name for p, _ in top_places()}


def test_the_nation_has_a_page(two_states, client_for, people):
    from django.urls import reverse

    page = client_for(people["analyst"]).get(
        reverse("reports-jurisdiction", args=["united-states"]), {"metric": "shootings"}
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "United States" in text and "Places inside United States" in text
    assert f"Counted from incident records: {ARCHIVE} (primary source)" in text
