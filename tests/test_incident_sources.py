"""Two incident sources over one city: each is a series of its own with its own counts, the
primary one leads, ``--source`` picks either, and no figure anywhere sums them (issue 23).

The city's own file is the real Philadelphia shooting-victim file (2015–2017 of it); the
second source is a "national archive" built here from the same shootings: every second
incident of 2015 and 2016, one row an incident, as an archive lists them.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.data.mapping import load_format
from gvrs.data.metrics import load_metrics
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction
from gvrs.reports.overview import build
from gvrs.reports.series import all_series
from tests.conftest import PHILLY, require
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db
ARCHIVE = "gun-archive"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def json_of(*args: str) -> list[dict]:
    return json.loads(run(*args, "--format", "json"))


@pytest.fixture
def two_sources(tmp_path):
    """Philadelphia from its own file (2015–2017) and from the archive (2015–2016); returns
    the figures each source holds, counted here with pandas: {(source, year): (people shot,
    people killed)}."""
    city = pd.read_csv(require(PHILLY), dtype=str, keep_default_na=False)
    city = city[city["date"].str[:4].isin(["2015", "2016", "2017"])]
    city.to_csv(tmp_path / "philly.csv", index=False)
    report = import_file(tmp_path / "philly.csv", load_format("philly-shootings"))
    assert report.ok, report.errors[:3]

    city = city.assign(year=city["date"].str[:4].astype(int), killed=city["fatal"] == "True")
    incidents = (
        city[city["year"] <= 2016]
        .groupby("dc_key")
        .agg(
            day=("date", "min"),
            year=("year", "min"),
            killed=("killed", "sum"),
            people=("killed", "size"),
        )
        .reset_index()
        .sort_values("dc_key")
        .iloc[::2]
    )
    rows = [
        row(
            f"GA-{r.dc_key}",
            kind="homicide" if r.killed else "nonfatal_shooting",
            occurred_at=r.day[:10].replace("/", "-"),
            jurisdiction="Philadelphia",
            area="",
            latitude="",
            longitude="",
            killed=str(int(r.killed)),
            injured=str(int(r.people - r.killed)),
        )
        for r in incidents.itertuples()
    ]
    report = import_file(
        write_csv(tmp_path / "archive.csv", rows),
        load_format("gvrs"),
        source=ARCHIVE,
        state="PA",
        covers_from=dt.date(2015, 1, 1),
        covers_through=dt.date(2016, 12, 31),
    )
    assert report.ok, report.errors[:3]
    figures = {}
    for year in (2015, 2016):
        own = city[city["year"] == year]
        figures[("philly-shootings", year)] = (len(own), int(own["killed"].sum()))
        listed = incidents[incidents["year"] == year]
        figures[(ARCHIVE, year)] = (int(listed["people"].sum()), int(listed["killed"].sum()))
    return figures


def _by_source_year(records: list[dict]) -> dict[tuple[str, str], int]:
    return {(r["source"], r["period"]): r["count"] for r in records}


def test_each_incident_source_is_its_own_series_and_none_sums_them(two_sources):
    # The city's own file holds 1,294 people shot and 233 killed in 2015 (issue 23).
    assert two_sources[("philly-shootings", 2015)] == (1294, 233)
    shot = _by_source_year(
        json_of("stats", "--metric", "shootings", "--jurisdiction", "Philadelphia")
    )
    killed = _by_source_year(
        json_of("stats", "--metric", "homicides", "--jurisdiction", "Philadelphia")
    )
    for source in ("philly-shootings", ARCHIVE):
        for year in (2015, 2016):
            assert shot[(source, str(year))] == two_sources[(source, year)][0]
            assert killed[(source, str(year))] == two_sources[(source, year)][1]
    both = two_sources[("philly-shootings", 2015)][0] + two_sources[(ARCHIVE, 2015)][0]
    assert both not in shot.values()
    # Nothing is called "incidents" any more: each row names its source.
    assert {s for s, _ in shot} == {"philly-shootings", ARCHIVE}


def test_the_widest_source_is_primary_and_leads_every_default(two_sources):
    place = Jurisdiction.objects.get(name="Philadelphia")
    found = all_series(load_metrics()["shootings"], place)
    assert [(s.source, s.primary, s.kind) for s in found] == [
        ("philly-shootings", True, "incidents"),
        (ARCHIVE, False, "incidents"),
    ]
    # --source incidents (the old contract) is the primary incident source.
    records = json_of(
        "stats", "--metric", "shootings", "--jurisdiction", "Philadelphia", "--source", "incidents"
    )
    assert {r["source"] for r in records} == {"philly-shootings"}
    out = run("places", "sources", "--jurisdiction", "Philadelphia", "--metric", "shootings")
    assert "widest coverage" in out
    # gvrs project counts the primary source's year (2017 is over: it says so, with it).
    with pytest.raises(CommandError, match=f"{two_sources_2017(place):,} people shot in 2017"):
        run(
            "project",
            "--metric",
            "shootings",
            "--jurisdiction",
            "Philadelphia",
            "--as-of",
            "2017-06-30",
        )


def test_source_picks_either_incident_source_by_its_import_name(two_sources):
    for source in ("philly-shootings", ARCHIVE):
        records = json_of(
            "stats", "--metric", "homicides", "--jurisdiction", "Philadelphia", "--source", source
        )
        assert {r["source"] for r in records} == {source}
        assert _by_source_year(records)[(source, "2015")] == two_sources[(source, 2015)][1]
    compared = json_of(
        "compare",
        "--metric",
        "shootings",
        "--jurisdiction",
        "Philadelphia",
        "--period",
        "2016",
        "--vs",
        "2015",
    )
    counts = {r["source"]: (r["vs_count"], r["count"]) for r in compared}
    assert counts == {
        s: (two_sources[(s, 2015)][0], two_sources[(s, 2016)][0])
        for s in ("philly-shootings", ARCHIVE)
    }
    only = json_of(
        "compare",
        "--metric",
        "shootings",
        "--jurisdiction",
        "Philadelphia",
        "--period",
        "2016",
        "--vs",
        "2015",
        "--source",
        ARCHIVE,
    )
    assert [r["source"] for r in only] == [ARCHIVE]
    with pytest.raises(CommandError, match="no homicides data for Philadelphia from source"):
        run("stats", "--metric", "homicides", "--jurisdiction", "Philadelphia", "--source", "nope")


def test_set_primary_changes_which_source_leads(two_sources):
    run("places", "set-primary", "--jurisdiction", "Philadelphia", "--source", ARCHIVE)
    records = json_of(
        "stats", "--metric", "shootings", "--jurisdiction", "Philadelphia", "--source", "incidents"
    )
    assert {r["source"] for r in records} == {ARCHIVE}
    out = run("places", "sources", "--jurisdiction", "Philadelphia", "--metric", "homicides")
    assert "set as the primary source" in out
    # A primary for one metric overrides the place-wide one for that metric only.
    run(
        "places",
        "set-primary",
        "--jurisdiction",
        "Philadelphia",
        "--source",
        "philly-shootings",
        "--metric",
        "homicides",
    )
    place = Jurisdiction.objects.get(name="Philadelphia")
    metrics = load_metrics()
    assert all_series(metrics["homicides"], place)[0].source == "philly-shootings"
    assert all_series(metrics["shootings"], place)[0].source == ARCHIVE
    with pytest.raises(CommandError, match="no incident records from source 'nope'"):
        run("places", "set-primary", "--jurisdiction", "Philadelphia", "--source", "nope")
    run("places", "clear-primary", "--jurisdiction", "Philadelphia")
    assert all_series(metrics["shootings"], place)[0].source == "philly-shootings"


def test_the_overview_says_which_source_leads_and_shows_the_other_beside_it(two_sources):
    place = Jurisdiction.objects.get(name="Philadelphia")
    metrics = load_metrics()
    board = build(place, metrics["shootings"], metrics)
    tile = next(t for t in board.tiles if t.metric.name == "shootings")
    assert tile.source.startswith("Counted from incident records: Philadelphia shooting")
    assert tile.source.endswith("(primary source)")
    # 2017 is the primary source's latest year: its own count, never the archive's added.
    assert tile.headline.startswith(f"{two_sources_2017(place):,} in 2017")
    traces = board.figures["annual"]["data"]
    names = [t["name"] for t in traces if not t["name"].startswith("record (")]
    assert names == [
        "Counted from incident records: Philadelphia shooting victims (City of Philadelphia "
        "open data) (primary source)",
        f"Counted from incident records: {ARCHIVE}",
    ]


def two_sources_2017(place) -> int:
    records = json_of("stats", "--metric", "shootings", "--jurisdiction", place.name)
    return _by_source_year(records)[("philly-shootings", "2017")]


def test_the_overview_page_picks_a_source_and_maps_one_source_only(two_sources, client_for, people):
    from django.urls import reverse

    url = reverse("reports-jurisdiction", args=["philadelphia"])
    client = client_for(people["analyst"])
    page = client.get(url, {"metric": "shootings"}).content.decode()
    assert "Incident source" in page and "(primary source)" in page
    led = client.get(url, {"metric": "shootings", "source": ARCHIVE}).content.decode()
    assert f"Counted from incident records: {ARCHIVE}" in led
    # The archive's latest year leads its tile: 2016, its own count.
    assert f"{two_sources[(ARCHIVE, 2016)][0]:,} in 2016" in led
    place = Jurisdiction.objects.get(name="Philadelphia")
    metrics = load_metrics()
    board = build(place, metrics["shootings"], metrics, source=ARCHIVE)
    # Its map counts the archive's people shot in its last year, never both sources'.
    assert board.areas.note.startswith(f"{two_sources[(ARCHIVE, 2016)][0]:,} people")
    for role in ("partner", "viewer"):
        shown = client_for(people[role]).get(url, {"metric": "shootings", "source": ARCHIVE})
        assert shown.status_code == 200


def test_a_linked_union_is_asked_for_by_name_and_counts_each_event_once(two_sources):
    """The archive lists every second incident of the city's file (2015–2016): linked, its
    incidents are all the city's, so the union of the two is the city's own count."""
    union = json_of(
        "stats", "--metric", "shootings", "--jurisdiction", "Philadelphia",
        "--source", f"philly-shootings+{ARCHIVE}",
    )  # fmt: skip
    assert {r["source"] for r in union} == {f"philly-shootings+{ARCHIVE}"}
    counts = _by_source_year(union)
    for year in (2015, 2016):
        city = two_sources[("philly-shootings", year)][0]
        # Each event once: the city's count, never city + archive.
        assert counts[(f"philly-shootings+{ARCHIVE}", str(year))] == city
    out = run("stats", "--metric", "shootings", "--jurisdiction", "Philadelphia",
              "--source", f"philly-shootings+{ARCHIVE}")  # fmt: skip
    assert "linked union of philly-shootings and gun-archive" in out
    assert "0 only in gun-archive" in out
    # Never offered unasked: the default rows are the two sources side by side.
    default = json_of("stats", "--metric", "shootings", "--jurisdiction", "Philadelphia")
    assert all("+" not in r["source"] for r in default)
