"""Retaliation alerts: which places and groups a reviewed shooting puts under alert, for how
long and why; and the measurement of alerts against what happened, on a case counted by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from gvrs.analysis.alerts import AlertArea, alert_capture, retaliation_alerts
from gvrs.analysis.conflicts import Conflict

D = dt.date
CONFLICTS = [
    Conflict("Eastside", "Westside", D(2020, 1, 1), None, "conflict"),
    Conflict("Eastside", "Northside", D(2020, 1, 1), D(2025, 3, 31), "conflict"),
    Conflict("Eastside", "Park", D(2020, 1, 1), None, "alliance"),
]
AREAS = {
    "Eastside": ["Oak Park"],
    "Westside": ["Union Grove", "Niles Flats"],
    "Northside": ["Chester Heights"],
    "Park": ["Ming Acres"],
}


def alerts(**kwargs):
    base = {
        "shooting_date": D(2025, 5, 3),
        "shooting_area": "Oak Park",
        "victim_groups": ["Eastside"],
        "suspect_groups": ["Westside"],
        "group_areas": AREAS,
        "conflicts": CONFLICTS,
    }
    return retaliation_alerts(**{**base, **kwargs})


def test_known_suspects_put_their_groups_areas_on_high_alert_for_the_window():
    found = alerts()
    assert [(a.area, a.group, a.level) for a in found] == [
        ("Niles Flats", "Westside", "high"),
        ("Union Grove", "Westside", "high"),
        ("Oak Park", None, "low"),
    ]
    # The 14 days after the shooting's day, opening the day after (the earliest review).
    assert {(a.starts, a.ends) for a in found} == {(D(2025, 5, 4), D(2025, 5, 17))}
    reason = found[0].reason
    assert "a victim from Eastside and a suspect from Westside" in reason
    assert "in conflict since 1 January 2020" in reason
    assert "the 14 days to 17 May 2025" in reason


def test_unknown_suspects_alert_every_active_rival_of_the_victims_group():
    found = alerts(shooting_date=D(2025, 2, 1), suspect_groups=[])
    assert [(a.area, a.group, a.level) for a in found] == [
        ("Chester Heights", "Northside", "medium"),
        ("Niles Flats", "Westside", "medium"),
        ("Union Grove", "Westside", "medium"),
        ("Oak Park", None, "low"),
    ]
    # After Eastside–Northside ended, Northside is no longer a rival; an ally never is.
    later = alerts(shooting_date=D(2025, 5, 1), suspect_groups=[])
    assert {a.group for a in later} == {"Westside", None}


def test_a_shooting_without_groups_raises_only_the_near_repeat_area():
    found = alerts(victim_groups=[], suspect_groups=[])
    assert [(a.area, a.group) for a in found] == [("Oak Park", None)]
    assert alerts(victim_groups=[], suspect_groups=[], near_repeat=False) == []


def test_the_contagion_models_expected_shootings_raise_a_level_and_are_quoted():
    found = alerts(risk_by_area={"Oak Park": 1.4, "Union Grove": 0.2}, window_days=7)
    by_area = {a.area: a for a in found}
    assert by_area["Oak Park"].level == "medium"
    assert "expects 1.4 shootings in Oak Park over the 7 days to 10 May 2025" in (
        by_area["Oak Park"].reason
    )
    assert by_area["Union Grove"].level == "high"  # 0.2 is below the threshold
    assert by_area["Niles Flats"].reason.count("expects") == 0  # no figure, none quoted


def test_the_window_opens_on_the_review_day_and_nothing_opens_after_it_has_passed():
    (first, *_) = alerts(opens=D(2025, 5, 10))
    assert (first.starts, first.ends) == (D(2025, 5, 10), D(2025, 5, 17))
    assert alerts(opens=D(2025, 5, 18)) == []
    with pytest.raises(ValueError, match="before its shooting"):
        alerts(opens=D(2025, 5, 1))


def test_an_alert_holds_places_groups_and_dates_only():
    fields = {f.name for f in dataclasses.fields(AlertArea)}
    assert fields == {"area", "group", "level", "starts", "ends", "reason"}


# --- Measurement --------------------------------------------------------------------------


def test_capture_and_area_days_are_counted_as_by_hand():
    """Three areas over ten days (30 area-days). Alerts: A on days 2-4 and 3-6 (overlapping:
    5 area-days, counted once), B on days 9-12 (cut at the period's end: 2 area-days)."""
    start, end = D(2025, 1, 1), D(2025, 1, 10)
    issued = [
        AlertArea("A", "G1", "high", D(2025, 1, 2), D(2025, 1, 4), ""),
        AlertArea("A", None, "low", D(2025, 1, 3), D(2025, 1, 6), ""),
        AlertArea("B", "G2", "medium", D(2025, 1, 9), D(2025, 1, 12), ""),
    ]
    s = pd.DataFrame(
        {
            "date": [
                *("2025-01-02", "2025-01-06 23:00", "2025-01-07", "2025-01-10"),
                *("2025-01-05", "2025-01-11"),
            ],
            "area": ["A", "A", "A", "B", "C", "B"],  # the last is after the period
        }
    )
    m = alert_capture(issued, s, areas=["A", "B", "C"], start=start, end=end)
    assert (m.shootings, m.captured) == (5, 3)
    assert (m.area_days_alerted, m.area_days) == (7, 30)
    assert m.capture_share == pytest.approx(3 / 5)
    assert m.alerted_share == pytest.approx(7 / 30)
    assert m.capture_per_alerted_share == pytest.approx((3 / 5) / (7 / 30))


def test_an_alert_outside_the_areas_measured_is_an_error():
    bad = [AlertArea("Z", None, "low", D(2025, 1, 1), D(2025, 1, 2), "")]
    empty = pd.DataFrame({"date": [], "area": []})
    with pytest.raises(ValueError, match="'Z'"):
        alert_capture(bad, empty, areas=["A"], start=D(2025, 1, 1), end=D(2025, 1, 2))


# --- On the simulated county's truth ------------------------------------------------------


def test_the_simulated_review_knows_groups_only_where_the_police_recorded_them():
    from gvrs.data.simulate import simulate
    from gvrs.data.simulate.reviewed import group_audit, reviewed_shootings

    city = simulate("small-town", years=(2020, 2021), seed=1)
    areas, conflicts = group_audit(city)
    shootings = reviewed_shootings(city)
    recorded = city.incident_rows.drop_duplicates("source_id").set_index("source_id")
    hoods = set(city.geography.neighborhoods["name"])
    assert set(shootings["area"]) <= hoods
    assert all(len(a) == 1 and a[0] in hoods for a in areas.values())
    assert {c.kind for c in conflicts} <= {"conflict", "alliance"}
    for row in shootings.itertuples():
        involvement = recorded.loc[f"SIM1-{row.event_id:07d}", "group_involvement"]
        if involvement != "yes":
            assert row.victim_groups == () and row.suspect_groups == ()
    with_groups = shootings[shootings["victim_groups"].map(len) > 0]
    assert len(with_groups) > 0
    for row in with_groups.itertuples():
        # The simulator's shooter is always a rival of the victim's group.
        (victim,), (suspect,) = row.victim_groups, row.suspect_groups
        assert any(c.involves(victim) and c.involves(suspect) for c in conflicts)


@pytest.mark.slow
def test_on_the_demo_county_the_conflict_rule_captures_more_per_area_day_than_the_naive():
    """Measured (bench/alerts_bench.py, seeds 1-6): the rival's turf captured 49% of
    retaliatory shootings with 4.8% of area-days under alert (10x random), the victim's
    neighbourhood 40% with 14.7% (2.8x)."""
    from gvrs.data.simulate import simulate
    from gvrs.data.simulate.reviewed import measure_rules

    city = simulate("bakersfield-like", years=(2015, 2025), seed=1)
    results = {r.rule: r.retaliation for r in measure_rules(city, start=D(2023, 1, 1))}
    naive = results["naive: the victim's neighbourhood"]
    turf = results["conflict: the rival's turf"]
    assert naive.shootings == turf.shootings > 50
    assert turf.capture_per_alerted_share > 2 * naive.capture_per_alerted_share
    assert turf.alerted_share < naive.alerted_share
