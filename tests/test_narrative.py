"""The sentences the council hears, with their numbers and caveats."""

from __future__ import annotations

import pytest

from gvrs.analysis.inference import compare_counts
from gvrs.analysis.narrative import change_sentence, format_p


@pytest.mark.parametrize(
    ("a", "b", "sentence"),
    [
        (60, 38, "Homicides fell 37%, from 60 in 2021 to 38 in 2022 (exact test p = 0.033)."),
        (
            3,
            0,
            "Zero homicides in 2022, down from 3 in 2021; a change this small is within "
            "ordinary year-to-year variation (p = 0.25).",
        ),
        (
            2260,
            2338,
            "Homicides rose 3%, from 2,260 in 2021 to 2,338 in 2022; a change this "
            "size is within ordinary year-to-year variation (p = 0.26).",
        ),
        (
            0,
            2,
            "Homicides rose from 0 in 2021 to 2 in 2022; a change this small is within "
            "ordinary year-to-year variation (p = 0.5).",
        ),
        (
            7,
            7,
            "Homicides were unchanged at 7 in 2021 and 2022; a change this small is within "
            "ordinary year-to-year variation (p = 1).",
        ),
    ],
)
def test_change_sentences(a, b, sentence):
    assert change_sentence("Homicides", compare_counts(a, b), "2021", "2022") == sentence


def test_p_values_are_never_printed_as_zero():
    assert format_p(1e-9) == "p < 0.001"
    assert format_p(0.0334) == "p = 0.033"
