"""The sentences the council hears, with their numbers and caveats."""

from __future__ import annotations

import re

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


@pytest.mark.parametrize(
    ("a", "b", "sentence"),
    [
        (
            60,
            38,
            "El número de homicidios bajó un 37\u00a0%, de 60 en 2021 a 38 en 2022 "
            "(prueba exacta, p = 0,033).",
        ),
        (
            3,
            0,
            "Cero homicidios en 2022, frente a 3 en 2021; un cambio tan pequeño está dentro "
            "de la variación ordinaria de un año a otro (p = 0,25).",
        ),
        (
            2260,
            12338,
            "El número de homicidios subió un 446\u00a0%, de 2260 en 2021 a 12\u00a0338 en 2022 "
            "(prueba exacta, p < 0,001).",
        ),
        (
            0,
            2,
            "El número de homicidios subió de 0 en 2021 a 2 en 2022; un cambio tan pequeño "
            "está dentro de la variación ordinaria de un año a otro (p = 0,5).",
        ),
        (
            7,
            7,
            "El número de homicidios no cambió: 7 en 2021 y en 2022; un cambio tan pequeño "
            "está dentro de la variación ordinaria de un año a otro (p = 1).",
        ),
    ],
)
def test_change_sentences_in_spanish_from_the_same_figures(a, b, sentence):
    """The Spanish sentence has its own grammar (no label needs an article) and Spanish
    numbers: decimal comma, a non-breaking space between thousands from five digits."""
    comparison = compare_counts(a, b)
    assert change_sentence("Homicidios", comparison, "2021", "2022", lang="es") == sentence
    # The English sentence of the same comparison states the same figures.
    english = change_sentence("Homicides", comparison, "2021", "2022")
    p_value = re.search(r"p [=<] \d[\d.]*", english).group()
    assert p_value.replace(".", ",") in sentence


def test_an_unsupported_language_falls_back_to_english():
    comparison = compare_counts(60, 38)
    assert change_sentence("Homicides", comparison, "2021", "2022", lang="fr") == (
        change_sentence("Homicides", comparison, "2021", "2022")
    )
