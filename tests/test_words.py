"""Words a council member reads: ranks in English, chances never shown as certain."""

from __future__ import annotations

import pandas as pd
import pytest

from gvrs.analysis.history import rank_in_history
from gvrs.analysis.narrative import format_probability


@pytest.mark.parametrize(
    ("counts", "year", "phrase"),
    [
        ({2019: 5, 2020: 9, 2021: 7, 2022: 9}, 2022, "tied for the highest of the 4 years"),
        ({2019: 9, 2020: 5, 2021: 7, 2022: 5}, 2022, "tied for the lowest of the 4 years"),
        ({2019: 5, 2020: 9, 2021: 7, 2022: 8}, 2022, "the second highest of the 4 years"),
        ({2019: 9, 2020: 5, 2021: 7, 2022: 6}, 2022, "the second lowest of the 4 years"),
        ({2019: 5, 2020: 9, 2021: 7, 2022: 10}, 2022, "the highest in the 4 years of data"),
    ],
)
def test_a_rank_reads_as_english(counts, year, phrase):
    said = rank_in_history(pd.Series(counts), year).phrase
    assert said.startswith(phrase)
    assert "1st" not in said and "2nd" not in said


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (0.0, "less than 1%"),
        (0.003, "less than 1%"),
        (0.05, "5%"),
        (0.5, "50%"),
        (0.99, "99%"),
        (0.9951, "more than 99%"),
        (1.0, "more than 99%"),
    ],
)
def test_a_chance_is_never_shown_as_certain(p, shown):
    assert format_probability(p) == shown
