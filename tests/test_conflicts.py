"""The conflict network: active conflicts on a day, shootings per conflict counted by hand,
escalation against an exact test, and a picture that says what it shows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from scipy.stats import binomtest

from gvrs.analysis.conflicts import (
    Conflict,
    active_conflicts,
    escalating,
    network_figure,
    rivals_of,
    shootings_per_conflict,
)

D = dt.date
NETWORK = [
    Conflict("Eastside", "Westside", D(2024, 1, 1), None, "conflict"),
    Conflict("Eastside", "Northside", D(2024, 1, 1), D(2024, 6, 30), "conflict"),
    Conflict("Westside", "Park", D(2024, 3, 1), None, "alliance"),
    Conflict("Park", "Court", D(2025, 1, 1), None, "conflict"),
]


def shootings(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["date", "groups"])


def test_a_conflict_is_active_from_its_start_through_its_end_inclusive():
    labels = [c.label for c in active_conflicts(NETWORK, D(2024, 6, 30))]
    assert labels == ["Eastside – Westside", "Eastside – Northside", "Westside – Park"]
    labels = [c.label for c in active_conflicts(NETWORK, D(2024, 7, 1))]
    assert labels == ["Eastside – Westside", "Westside – Park"]
    assert active_conflicts(NETWORK, D(2023, 12, 31)) == []


def test_rivals_are_active_conflicts_only_never_alliances():
    assert rivals_of(NETWORK, "Eastside", D(2024, 5, 1)) == ["Westside", "Northside"]
    assert rivals_of(NETWORK, "Eastside", D(2024, 8, 1)) == ["Westside"]
    assert rivals_of(NETWORK, "Westside", D(2024, 8, 1)) == ["Eastside"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"a": "A", "b": "A"}, "with itself"),
        ({"kind": "feud"}, "valid: conflict, alliance"),
        ({"end": D(2023, 1, 1)}, "ends .* before it starts"),
    ],
)
def test_a_conflict_that_makes_no_sense_is_refused(kwargs, message):
    fields = {"a": "A", "b": "B", "start": D(2024, 1, 1), "end": None, "kind": "conflict"}
    with pytest.raises(ValueError, match=message):
        Conflict(**{**fields, **kwargs})


def test_shootings_per_conflict_by_month_match_a_hand_count():
    s = shootings(
        ("2024-01-03", ("Eastside", "Westside")),
        ("2024-01-20", ("Westside", "Eastside", "Park")),  # three groups: counts for the pair
        ("2024-02-11", ("Eastside",)),  # one side only: no conflict
        ("2024-04-30 23:10", ("Eastside", "Northside")),
        ("2024-04-02", ("Westside", "Park")),  # an alliance: not counted by default
    )
    table = shootings_per_conflict(NETWORK, s)
    assert list(table.index) == list(pd.date_range("2024-01-01", "2024-04-01", freq="MS"))
    assert list(table.columns) == ["Eastside – Westside", "Eastside – Northside", "Park – Court"]
    assert table["Eastside – Westside"].tolist() == [2, 0, 0, 0]
    assert table["Eastside – Northside"].tolist() == [0, 0, 0, 1]
    assert table["Park – Court"].sum() == 0
    quarterly = shootings_per_conflict(NETWORK, s, freq="QS", kinds=("conflict", "alliance"))
    assert quarterly.loc["2024-04-01", "Westside – Park"] == 1
    assert quarterly.loc["2024-01-01", "Eastside – Westside"] == 2


def test_escalation_is_the_exact_conditional_test_of_the_two_periods():
    # 2 shootings in the 365 days before the window, 6 in the 90-day window to 30 June 2025.
    s = shootings(
        ("2024-05-01", ("Eastside", "Westside")),
        ("2024-12-01", ("Eastside", "Westside")),
        *[(f"2025-0{m}-0{d}", ("Westside", "Eastside")) for m in (4, 5, 6) for d in (5, 9)],
        ("2025-06-10", ("Park", "Court")),
    )
    on = D(2025, 6, 30)
    found = escalating(NETWORK, s, on=on)
    assert [e.conflict.label for e in found] == ["Eastside – Westside"]
    e = found[0]
    assert (e.recent, e.baseline, e.recent_days, e.baseline_days) == (6, 2, 90, 365)
    assert e.p_value == pytest.approx(binomtest(6, 8, 90 / 455).pvalue)
    assert e.rate_ratio == pytest.approx((6 / 90) / (2 / 365))
    assert e.rising and "escalating (exact test p" in e.sentence
    # Park – Court began on 1 Jan 2025: its baseline is cut at its start (91 days).
    every = {x.conflict.label: x for x in escalating(NETWORK, s, on=on, only_rising=False)}
    assert every["Park – Court"].baseline_days == 91
    assert not every["Park – Court"].rising
    assert "within ordinary variation" in every["Park – Court"].sentence
    # The alliance is never a conflict that escalates.
    assert "Westside – Park" not in every


def test_a_conflict_newer_than_the_window_says_it_cannot_be_compared():
    conflicts = [Conflict("A", "B", D(2025, 6, 1), None, "conflict")]
    s = shootings(("2025-06-10", ("A", "B")))
    (e,) = escalating(conflicts, s, on=D(2025, 6, 30), only_rising=False)
    assert e.recent == 1 and not e.rising and "too new" in e.sentence


def test_the_network_picture_shows_only_relations_in_force():
    older = [("2022-05-01", ("Eastside", "Westside"))] * 2  # before the year shown
    s = shootings(*older, *[("2024-05-01", ("Eastside", "Westside"))] * 4)
    fig = network_figure(NETWORK, s, D(2024, 8, 1))
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 2  # Eastside–Westside and the alliance; Northside's has ended
    assert "4 shootings" in next(t.text for t in lines if t.line.dash == "solid")
    nodes = next(t for t in fig.data if t.mode == "markers+text")
    assert sorted(nodes.text) == ["Eastside", "Park", "Westside"]
    assert "in force on 1 Aug 2024" in fig.layout.title.text
