"""Every stored series is queryable: the CA DOJ series as metrics, homicide clearances and
their rate with an exact binomial interval, and ``gvrs metrics``; the known answers hold."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from scipy.stats import binomtest

from gvrs.analysis.counts import CountSeries, proportions_by_year
from gvrs.analysis.inference import binomial_interval
from gvrs.data.mapping import load_format
from gvrs.data.metrics import MetricError, load_metrics
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import PublishedCount
from tests.conftest import CA_DOJ, require
from tests.importing_helpers import row, write_csv

SERIES = {
    "homicides": "Homicide_sum",
    "violent_crimes": "Violent_sum",
    "robberies": "Robbery_sum",
    "aggravated_assaults": "AggAssault_sum",
    "firearm_aggravated_assaults": "FASSact_sum",
    "firearm_robberies": "FROBact_sum",
    "homicide_clearances": "HomicideClr_sum",
}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def doj(db, tmp_path):
    """The Kern and San Joaquin County agencies of the CA DOJ file, as the file has them."""
    frame = pd.read_csv(require(CA_DOJ), dtype=str, keep_default_na=False)
    frame = frame[frame["County"].isin(["Kern County", "San Joaquin County"])]
    frame.to_csv(tmp_path / "doj.csv", index=False)
    report = import_file(tmp_path / "doj.csv", load_format("ca-doj"))
    assert report.ok, report.errors
    return frame


@pytest.mark.parametrize("metric", sorted(SERIES))
def test_every_ca_doj_series_answers_gvrs_stats(doj, metric):
    records = json.loads(
        run("stats", "--metric", metric, "--jurisdiction", "Bakersfield", "--format", "json")
    )
    bakersfield = doj[doj["NCICCode"] == "Bakersfield"].set_index("Year")[SERIES[metric]]
    expected = {int(y): int(v) for y, v in bakersfield.items() if v.strip() and int(v) >= 0}
    assert {int(r["period"]): r["count"] for r in records} == expected
    assert {r["source"] for r in records} == {"ca-doj-crimes-clearances"}


def test_the_known_answers_still_hold(doj):
    compared = json.loads(
        run(
            *("compare", "--metric", "homicides", "--jurisdiction", "Bakersfield"),
            *("--period", "2022", "--vs", "2021", "--format", "json"),
        )
    )[0]
    assert (compared["vs_count"], compared["count"], compared["change_pct"]) == (60, 38, -36.7)
    assert round(compared["p_value"], 4) == 0.0334
    stockton = {
        r["period"]: r
        for r in json.loads(
            run("stats", "--metric", "homicides", "--jurisdiction", "Stockton", "--format", "json")
        )
    }
    assert stockton["2012"]["count"] == 71
    assert stockton["2012"]["history"].startswith("the highest in the 28 years")
    kern = {
        r["period"]: r["count"]
        for r in json.loads(
            run(
                "stats",
                "--metric",
                "homicides",
                "--jurisdiction",
                "Kern County",
                "--format",
                "json",
            )
        )
    }
    assert kern["2022"] == 101


def test_homicide_clearances_are_stored_and_their_rate_has_an_exact_interval(doj):
    stored = PublishedCount.objects.filter(
        metric="homicide_clearances", jurisdiction__name="Stockton", period_start__year=2022
    ).get()
    row_2022 = doj[(doj["NCICCode"] == "Stockton") & (doj["Year"] == "2022")].iloc[0]
    assert stored.count == int(row_2022["HomicideClr_sum"])
    records = json.loads(
        run(
            *("stats", "--metric", "homicide_clearance_rate", "--jurisdiction", "Stockton"),
            *("--format", "json"),
        )
    )
    by_year = {r["period"]: r for r in records}
    k, n = int(row_2022["HomicideClr_sum"]), int(row_2022["Homicide_sum"])
    record = by_year["2022"]
    assert (record["count"], record["denominator"]) == (k, n)
    assert record["rate"] == pytest.approx(k / n)
    reference = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert record["ci_low"] == pytest.approx(reference.low, abs=1e-9)
    assert record["ci_high"] == pytest.approx(reference.high, abs=1e-9)
    assert "earlier years' cases" in record["caveat"]
    text = run("stats", "--metric", "homicide_clearance_rate", "--jurisdiction", "Stockton")
    assert "Homicide clearance rate, Stockton, by year" in text and "earlier years" in text
    with pytest.raises(CommandError, match="proportion of two series"):
        run(
            *("compare", "--metric", "homicide_clearance_rate", "--jurisdiction", "Stockton"),
            *("--period", "2022", "--vs", "2021"),
        )


def test_more_clearances_than_homicides_has_a_rate_but_no_binomial_interval():
    meta = {"label": "x", "place": "X", "source": "s", "definition": ""}
    cleared = CountSeries.from_annual({2020: 12, 2021: 5, 2022: 0}, metric="c", **meta)
    homicides = CountSeries.from_annual({2020: 10, 2021: 10, 2022: 0}, metric="h", **meta)
    by_year = {p.year: p for p in proportions_by_year("r", cleared, homicides)}
    assert by_year[2020].rate == pytest.approx(1.2) and by_year[2020].ci_low is None
    assert "earlier years' cases" in by_year[2020].note
    assert (by_year[2021].ci_low, by_year[2021].ci_high) == pytest.approx(
        tuple(binomtest(5, 10).proportion_ci(method="exact"))
    )
    assert by_year[2022].rate is None
    assert binomial_interval(0, 7).low == 0.0 and binomial_interval(7, 7).high == 1.0


def test_published_only_metrics_never_count_incidents(db, tmp_path):
    """Bakersfield's incidents are not robberies: with no published figures, no data."""
    import_file(write_csv(tmp_path / "i.csv", [row("H-1")]), load_format("gvrs"))
    with pytest.raises(CommandError, match="no robberies data for Bakersfield"):
        run("stats", "--metric", "robberies", "--jurisdiction", "Bakersfield")


def test_gvrs_metrics_lists_each_metric_its_definition_and_who_holds_data(doj, tmp_path):
    import_file(write_csv(tmp_path / "i.csv", [row("H-1"), row("H-2")]), load_format("gvrs"))
    records = {r["metric"]: r for r in json.loads(run("metrics", "--format", "json"))}
    assert set(records) == set(load_metrics())
    places = doj["NCICCode"].nunique()
    assert records["aggravated_assaults"]["sources"] == [
        {"source": "ca-doj-crimes-clearances", "places": places}
    ]
    assert records["aggravated_assaults"]["definition"].startswith("Aggravated assaults")
    assert {"source": "incidents (gvrs)", "places": 1} in records["homicides"]["sources"]
    assert records["officer_involved_shootings"]["sources"] == []
    assert records["homicide_clearance_rate"]["counted_from"].startswith("ratio of")
    text = run("metrics")
    assert "firearm_robberies" in text and "no data yet" in text


def test_a_ratio_names_two_metrics(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[odd]\nratio = ["homicides"]\n', encoding="utf-8")
    with pytest.raises(MetricError, match="ratio names two metrics"):
        load_metrics(path)
