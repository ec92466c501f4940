"""The contagion model behind the alerts: ``gvrs area_risk`` stores expected shootings per
area, and a fresh figure of one or more raises that area's alert a level."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident, Jurisdiction
from gvrs.reviews import actions
from gvrs.reviews.models import AreaRisk, Review
from gvrs.risk.arearisk import compute_area_risk
from tests.review_helpers import area, import_rows, incident, shooting

pytestmark = pytest.mark.django_db


def test_area_risk_over_the_next_two_weeks_matches_the_recent_rate(tmp_path):
    city = simulate("small-town", years=(2023, 2024), seed=5, size=6)
    paths = write_city(city, tmp_path / "sim")
    assert import_file(paths["incidents.csv"], load_format("gvrs")).ok
    county = Jurisdiction.objects.named(city.scenario.county)
    out = io.StringIO()
    call_command("area_risk", jurisdiction=county.name, stdout=out)
    assert "stored for" in out.getvalue()
    stored = list(AreaRisk.objects.all())
    assert stored and all(r.expected_shootings >= 0 for r in stored)
    # As of the last day the file covers (its own latest date: no coverage was given).
    covered_through = Incident.objects.latest("occurred_on").occurred_on
    assert {r.as_of for r in stored} == {covered_through}
    assert {r.horizon_days for r in stored} == {14}
    # Every cell near a shooting belongs to an area: the areas hold (almost) the whole
    # surface the model expects over the window.
    result = compute_area_risk(county)
    assert sum(result.expected.values()) == pytest.approx(sum(r.expected_shootings for r in stored))
    assert 0.95 * result.surface_total <= sum(result.expected.values())
    assert sum(result.expected.values()) <= result.surface_total * (1 + 1e-12)
    # Running it again replaces the figures of that day, never duplicates them.
    assert AreaRisk.objects.count() == len(stored) == len(result.expected)


@pytest.mark.parametrize(("fitted_days_before", "level"), [(1, "medium"), (20, "low")])
def test_a_fresh_expected_shooting_raises_the_areas_alert(
    tmp_path, people, fitted_days_before, level
):
    with time_machine.travel(dt.datetime(2026, 3, 7, 18, tzinfo=dt.UTC), tick=False):
        import_rows(tmp_path, [shooting("S-1", "2026-03-06", "East")])
    AreaRisk.objects.create(
        area=area("East"),
        as_of=dt.date(2026, 3, 6) - dt.timedelta(days=fitted_days_before),
        horizon_days=14,
        expected_shootings=1.4,
        computed_at=dt.datetime(2026, 3, 6, tzinfo=dt.UTC),
    )
    with time_machine.travel(dt.datetime(2026, 3, 9, 18, tzinfo=dt.UTC), tick=False):
        actions.complete_review(
            people["police"],
            Review.objects.get(incident=incident("S-1")),
            group_involvement="none",
            evidence="",
            circumstance="personal_dispute",
            victim_groups=[],
            suspect_groups=[],
            retaliation_risk="low",
            risk_reason="A dispute between neighbours",
        )
    alert = Review.objects.get().alerts.get()
    assert (alert.area.name, alert.level) == ("East", level)
    assert ("expects 1.4 shootings" in alert.reason) == (level == "medium")
