"""``gvrs evaluate`` and the evaluation page on real California DOJ figures and on an
imported simulated county, checked against the library run on the same numbers read
straight from the files."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from gvrs.analysis.evaluation import difference_in_differences, interrupted_time_series
from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.data.simulate.tables import counts_by_town, populations_by_town
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction
from tests.conftest import CA_DOJ, require

pytestmark = pytest.mark.django_db
CONTRACT = {
    "method",
    "effect_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "pre_fit",
    "placebo_rank",
    "assumptions",
    "sentence",
}
DONORS = ["Fresno", "Sacramento", "Riverside", "San Bernardino", "Modesto"]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture(scope="module")
def doj_frame() -> pd.DataFrame:
    """Agencies with 5 to 150 homicides a year on average in 2002-2021, all years present."""
    doj = pd.read_csv(require(CA_DOJ), dtype=str, keep_default_na=False)
    homicides = pd.to_numeric(doj["Homicide_sum"], errors="coerce")
    recent = doj.assign(h=homicides)[doj["Year"].astype(int).between(2002, 2021)]
    mean = recent.groupby("NCICCode")["h"].mean()
    years = doj.groupby("NCICCode")["Year"].nunique()
    chosen = mean[(mean >= 5) & (mean <= 150)].index.intersection(years[years == 38].index)
    return doj[doj["NCICCode"].isin(chosen)]


@pytest.fixture
def doj(tmp_path, doj_frame):
    doj_frame.to_csv(tmp_path / "doj.csv", index=False)
    report = import_file(tmp_path / "doj.csv", load_format("ca-doj"))
    assert report.ok, report.errors
    return doj_frame


def annual(frame: pd.DataFrame, agency: str, column: str = "Homicide_sum") -> pd.Series:
    rows = frame[frame["NCICCode"] == agency]
    return pd.Series(rows[column].astype(int).to_numpy(), index=rows["Year"].astype(int))


@pytest.mark.parametrize("method", ["its", "did", "synth"])
def test_json_has_exactly_the_contract_keys_and_an_honest_sentence(doj, method):
    out = json.loads(
        run(
            "evaluate",
            "--jurisdiction",
            "Bakersfield",
            "--metric",
            "homicides",
            "--start",
            "2022-01-01",
            "--method",
            method,
            "--format",
            "json",
        )
    )
    assert set(out) >= CONTRACT
    assert out["method"] == method
    assert out["ci_low"] <= out["effect_ratio"] <= (out["ci_high"] or float("inf"))
    assert out["first_period"] == "2002" and out["last_period"] == "2022"
    assert out["placebo_outcome"]["label"] == "violent crime other than homicide"
    assert out["assumptions"] and all(isinstance(a, str) for a in out["assumptions"])
    said = out["sentence"]
    assert said.startswith("Consistent with an effect of") == out["claims_effect"]
    assert said.startswith(("Consistent with an effect of", "No evidence either way"))
    if method != "its":
        # Agencies of Kern County share Bakersfield's streets: never automatic donors.
        assert "Kern Co. Sheriff's Department" not in out["donors"]
        assert "Bakersfield" not in out["donors"]


def test_its_equals_the_library_on_the_figures_read_from_the_file(doj):
    out = json.loads(
        run(
            "evaluate",
            "--jurisdiction=Bakersfield",
            "--metric=homicides",
            "--start=2022-01-01",
            "--method=its",
            "--format=json",
        )
    )
    counts = annual(doj, "Bakersfield").loc[2002:2022]
    other = annual(doj, "Bakersfield", "Violent_sum").loc[2002:2022] - counts
    direct = interrupted_time_series(counts, dt.date(2022, 1, 1), placebo_counts=other)
    assert out["effect_ratio"] == pytest.approx(direct.effect_ratio, rel=1e-9)
    assert out["ci_low"] == pytest.approx(direct.ci_low, rel=1e-9)
    assert out["placebo_outcome"]["effect_ratio"] == pytest.approx(
        direct.placebo_outcome.effect_ratio, rel=1e-9
    )


def test_named_donors_are_used_as_given(doj, tmp_path):
    donors = tmp_path / "donors.txt"
    donors.write_text("# comparison places\n" + "\n".join(DONORS) + "\n\n")
    out = json.loads(
        run(
            "evaluate",
            "--jurisdiction=Stockton",
            "--metric=homicides",
            "--start=2018-01-01",
            "--method=did",
            f"--donors={donors}",
            "--from=2005-01-01",
            "--format=json",
        )
    )
    assert out["donors"] == DONORS
    table = pd.DataFrame({p: annual(doj, p) for p in ["Stockton", *DONORS]}).loc[2005:2022]
    direct = difference_in_differences(table, "Stockton", dt.date(2018, 1, 1))
    assert out["effect_ratio"] == pytest.approx(direct.effect_ratio, rel=1e-9)
    assert out["pre_trend_p"] == pytest.approx(direct.pre_trend_p, rel=1e-9)
    years = [e["years_from_start"] for e in out["event_study"]]
    assert years == [k for k in range(-13, 5) if k != -1]


def test_table_shows_weights_sentence_and_assumptions(doj):
    text = run(
        "evaluate",
        "--jurisdiction=Bakersfield",
        "--metric=homicides",
        "--start=2022-01-01",
        "--method=synth",
    )
    assert "Synthetic control weights" in text
    assert "Assumes:" in text and "pre-period path" in text
    assert "ca-doj-crimes-clearances: Criminal homicides" in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--donors", "{tmp}/donors.txt"], 2, "line 2: jurisdiction='Atlantis': no such"),
        (["--donors", "{tmp}/missing.txt"], 2, "cannot read"),
        (["--start", "2040-01-01"], 1, "no data from the start date 2040-01-01"),
        (["--start", "1987-01-01"], 1, "periods before 1987-01-01; this design needs"),
        (["--jurisdiction", "Atlantis"], 2, "unknown jurisdiction 'Atlantis'"),
        (["--metric", "stabbings"], 2, "stabbings"),
    ],
)
def test_errors_say_what_is_wrong(doj, tmp_path, args, code, message):
    (tmp_path / "donors.txt").write_text("Fresno\nAtlantis\n")
    base = {
        "--jurisdiction": "Bakersfield",
        "--metric": "homicides",
        "--start": "2022-01-01",
        "--method": "synth",
    }
    base.update(dict(zip(args[::2], [a.format(tmp=tmp_path) for a in args[1::2]], strict=True)))
    with pytest.raises(CommandError) as caught:
        run("evaluate", *[x for kv in base.items() for x in kv])
    assert caught.value.returncode == code
    assert message in str(caught.value)


@pytest.fixture
def county(tmp_path):
    """The simulated evaluation county, imported with its populations: 2019-2023 at a
    third of its size (the strategy, a 0.7 ratio in Treated City, starts in 2022)."""
    city = simulate("evaluation", years=(2019, 2023), seed=7, size=0.5, today=dt.date(2026, 1, 1))
    paths = write_city(city, tmp_path / "sim")
    assert import_file(paths["incidents.csv"], load_format("gvrs")).ok
    run("populations", str(paths["populations.csv"]))
    return city


def test_incidents_are_evaluated_by_month_against_the_other_towns(county):
    out = json.loads(
        run(
            "evaluate",
            "--jurisdiction=Treated City",
            "--metric=shootings",
            "--start=2022-01-01",
            "--method=did",
            "--format=json",
        )
    )
    assert out["source"] == "gvrs" and out["resolution"] == "month"
    # The import recorded what the file covers (2019-2023), so every month is a month of data.
    assert out["first_period"] == "2019-01" and out["last_period"] == "2023-12"
    # Every other town is a donor, or left out as too small (under a third of its residents).
    towns = {f"Comparison Town {i}" for i in range(1, 15)}
    assert set(out["donors"]) | set(out["donors_left_out"]) == towns
    assert all(why.startswith("size") for why in out["donors_left_out"].values())
    assert len(out["donors"]) == 9  # towns 1-9: 70,000 residents or more, against 200,000
    # The same design on the simulator's own counts of the same towns (people shot, which
    # also counts the few hit in officer-involved shootings) gives about the same answer.
    counts = counts_by_town(county)
    people = populations_by_town(county, counts.index)
    columns = ["Treated City", *out["donors"]]
    direct = difference_in_differences(
        counts[columns], "Treated City", dt.date(2022, 1, 1), populations=people[columns]
    )
    assert out["effect_ratio"] == pytest.approx(direct.effect_ratio, abs=0.03)
    assert out["placebo_outcome"] is None


PAGE_ROLES = {"admin", "analyst", "police", "partner", "colleague", "outsider", "viewer"}


@pytest.mark.parametrize("role", sorted(PAGE_ROLES))
def test_the_page_is_open_to_the_overview_roles_and_shows_the_picture(people, county, role):
    place = Jurisdiction.objects.get(name="Treated City")
    client = Client()
    client.force_login(people[role])
    url = reverse("evaluation-jurisdiction", kwargs={"slug": place.slug})
    response = client.get(url, {"metric": "shootings", "start": "2022-01-01", "method": "its"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="verdict"' in html and 'id="chart-path"' in html
    assert "What this assumes" in html


def test_the_page_refuses_anonymous_visitors_and_shows_errors_plainly(people, county):
    place = Jurisdiction.objects.get(name="Treated City")
    url = reverse("evaluation-jurisdiction", kwargs={"slug": place.slug})
    assert Client().get(url).status_code == 302
    client = Client()
    client.force_login(people["analyst"])
    html = client.get(url, {"metric": "shootings", "start": "2040-01-01", "method": "did"})
    assert 'data-testid="evaluation-error"' in html.content.decode()
    assert "no data from the start date 2040-01-01" in html.content.decode()
