"""The council report's sentences (``gvrs.analysis.narrative``): each with its numbers, and
honest about what they are."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gvrs.analysis import narrative
from gvrs.analysis.history import rank_in_history
from gvrs.analysis.workload import (
    CostPerShooting,
    Range,
    hours_freed,
    officer_hours,
    shooting_costs,
)


@pytest.mark.parametrize(
    ("low", "high", "money", "text"),
    [
        (5, 12, "", "5–12"),
        (3660, 26352, "", "3,660–26,352"),
        (1.5, 1.5, "", "1.5"),
        (1000, 2000, "USD", "$1,000–$2,000"),
        (900, 900, "EUR", "900 EUR"),
    ],
)
def test_ranges_are_written_with_an_en_dash_and_separators(low, high, money, text):
    assert narrative.range_text(low, high, money=money) == text


@pytest.mark.parametrize(
    ("before", "after", "text"),
    [(60, 38, "−37% (60 → 38)"), (24, 28, "+17% (24 → 28)"), (0, 4, "+4 (0 → 4)")],
)
def test_every_change_shows_the_counts_behind_it(before, after, text):
    assert narrative.change_text(before, after) == text


def test_a_tied_record_names_every_year_it_was_reached():
    annual = pd.Series({2018: 67, 2019: 51, 2020: 46, 2021: 67, 2022: 50})
    assert narrative.record_sentence("Homicides", annual) == (
        "The record for homicides is 67 (tied), in 2018 and 2021, across the 5 years of data "
        "(2018–2022)."
    )


def test_the_history_sentence_carries_the_engines_phrase():
    annual = pd.Series({y: 40 + (y % 3) for y in range(2010, 2022)} | {2022: 38})
    rank = rank_in_history(annual, 2022)
    assert narrative.history_sentence("Homicides", rank) == f"38 homicides in 2022: {rank.phrase}."


def test_equal_counts_free_no_hours():
    freed = hours_freed(officer_hours(20, "2021"), officer_hours(20, "2022"))
    assert narrative.hours_freed_sentence(freed) == (
        "As many shootings in 2022 as in 2021: on these assumptions no officer-hours were "
        "freed or added."
    )


def test_a_cost_avoided_is_labelled_as_arithmetic_not_a_saving():
    line = CostPerShooting("hospital care", Range(10_000, 30_000), "County health dept.")
    (cost,) = shooting_costs(388, (line,))
    assert narrative.cost_sentence(cost, "2023", avoided=True) == (
        "At $10,000–$30,000 per shooting for hospital care (USD; source: County health "
        "dept.), the 388 fewer shootings in 2023 avoided $3,880,000–$11,640,000: arithmetic "
        "on the cited figure, not a measured saving."
    )


def test_a_group_share_with_everything_recorded_has_no_caveat_tail():
    sentence = narrative.group_share_sentence("Shooting incidents", "2022", 30, 60, 0, 0.37, 0.63)
    assert sentence == (
        "Of the 60 shooting incidents in 2022 whose group involvement is recorded, 30 (50%; "
        "exact 95% interval 37%–63%) were group-involved."
    )


def test_a_running_period_names_its_window():
    assert narrative.running_period_sentence("2025", "2025 (1 Jan–21 Dec)") == (
        "2025 is still running: every comparison in this report is over the same window of "
        "each period, 1 Jan–21 Dec, and the year-end figures below are projections."
    )


def test_notes_under_figures_name_source_definition_and_coverage():
    assert narrative.figure_note("X", "Counted so.", "data for 1985–2022") == (
        "Source: X. Counted so. Coverage: data for 1985–2022."
    )
    assert narrative.figure_note("X", "", "data for 1985–2022") == (
        "Source: X. Coverage: data for 1985–2022."
    )


def test_an_import_time_is_in_utc_or_says_it_is_unknown():
    when = dt.datetime(2026, 11, 26, 0, 7, tzinfo=dt.UTC)
    assert narrative.imported_phrase(when) == "last imported 26 Nov 2026, 00:07 UTC"
    assert narrative.imported_phrase(None) == "import date not recorded"


def test_quiet_areas_are_counted_in_one_sentence():
    assert narrative.quiet_areas_sentence(1, "People shot", ["2022", "2021"]) == (
        "One other area had no people shot in 2022 or 2021."
    )
    assert narrative.quiet_areas_sentence(12, "Homicides", ["2022"]) == (
        "12 other areas had no homicides in 2022."
    )


def test_the_methods_page_ends_with_the_before_after_caveat():
    sentences = narrative.methods_sentences(0.05, 10, 0.9)
    assert sentences[-1] == narrative.BEFORE_AFTER_CAVEAT
    assert any("from 1 to 10" in s for s in sentences)
    assert any("90% prediction interval" in s for s in sentences)
    assert all(s.endswith(".") for s in sentences)


def test_records_without_an_area_are_said_to_be_missing_from_the_map():
    assert narrative.unplaced_sentence(12, 1082, "People shot", "2024") == (
        "12 of the 1,082 people shot in 2024 have no area recorded, so the areas add up to "
        "less than the whole place."
    )
