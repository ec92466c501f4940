"""``gvrs evaluate --panel``: figures that are not counts in the registry (packs per person,
homicides per 100,000) read from the user's file with a panel mapping, as a user would, and
the published results they reproduce."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import SHARED_DATA, require

BENCHMARKS = SHARED_DATA / "causal-benchmarks"
SMOKING = BENCHMARKS / "smoking.csv.gz"
PROP99_MAPPING = "docs/mappings/prop99.toml"
PAPER = {"Utah": 0.334, "Nevada": 0.234, "Montana": 0.199, "Colorado": 0.164, "Connecticut": 0.069}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.slow
def test_prop99_with_the_papers_predictors_reproduces_its_donors_and_placebo_rank():
    out = json.loads(
        run(
            "evaluate",
            f"--panel={require(SMOKING)}",
            f"--mapping={PROP99_MAPPING}",
            "--jurisdiction=California",
            "--start=1989-01-01",
            "--method=synth",
            "--format=json",
        )
    )
    weights = out["weights"]
    for state, published in PAPER.items():
        assert weights[state] == pytest.approx(published, abs=0.05), state
    assert set(weights) == set(PAPER)  # every other state gets (almost) nothing
    # California's post/pre gap is the most extreme of the 39 states (p = 1/39).
    assert out["placebo_rank"] == 1 and out["placebo_count"] == 38
    # About 26 fewer packs per person by 2000 than its synthetic (the paper's Figure 2);
    # here the ratio over 1989-2000 and its conformal interval.
    assert out["effect_ratio"] < 0.8 and out["ci_high"] < 1
    assert out["fit_too_good"] is None
    names = [row["predictor"] for row in out["predictor_balance"]]
    assert names[0] == "log income per person, 1980-88" and len(names) == 7
    assert sum(row["importance"] for row in out["predictor_balance"]) == pytest.approx(1, abs=1e-3)
    assert out["first_period"] == "1970" and out["last_period"] == "2000"


def test_outcome_only_is_kept_as_an_option_and_uses_no_predictors(tmp_path):
    # A smaller panel: the first 12 states, 1970-2000, long form with a value column.
    frame = pd.read_csv(require(SMOKING))
    keep = [*sorted(set(frame["state"]) - {"California"})[:11], "California"]
    part = frame[frame["state"].isin(keep)]
    long = pd.DataFrame(
        {"place": part["state"], "period": part["year"].astype(int), "value": part["cigsale"]}
    )
    long.to_csv(tmp_path / "packs.csv", index=False)
    out = json.loads(
        run(
            "evaluate",
            f"--panel={tmp_path / 'packs.csv'}",
            "--jurisdiction=California",
            "--start=1989-01-01",
            "--method=synth",
            "--format=json",
        )
    )
    assert "predictor_balance" not in out and len(out["donors"]) == 11
    assert sum(out["weights"].values()) == pytest.approx(1, abs=1e-3)
    # The same panel through difference in differences, every other state a comparison.
    did = json.loads(
        run(
            "evaluate",
            f"--panel={tmp_path / 'packs.csv'}",
            "--jurisdiction=California",
            "--start=1989-01-01",
            "--method=did",
            "--format=json",
        )
    )
    assert did["effect_ratio"] < 1 and did["event_study"]


@pytest.mark.parametrize(
    ("content", "extra", "code", "message"),
    [
        ("place,period,value\nA,2001,3\nA,2001,4\n", [], 1, "line 3: place='A', period='2001'"),
        ("place,period,value\nA,20x1,3\n", [], 1, "line 2: period='20x1': not a year"),
        ("place,period,value\nA,2001,many\n", [], 1, "line 2: value='many': not a number"),
        ("place,period,count\nA,2001,2.5\n", [], 1, "count must be a whole number"),
        ("place,year,value\nA,2001,2\n", [], 1, "missing column period"),
        ("place,period,value\nA,2001,2\n", ["--metric=homicides"], 2, "--metric and --source"),
        (
            "place,period,value\nA,2001,2\n",
            ["--predictors={tmp}/p.csv", "--method=did"],
            2,
            "--predictors is for --method synth",
        ),
    ],
)
def test_bad_panels_are_refused_naming_file_line_column_and_reason(
    tmp_path, content, extra, code, message
):
    (tmp_path / "panel.csv").write_text(content)
    (tmp_path / "p.csv").write_text("place,name,value\nA,x,1\n")
    args = [
        "evaluate",
        f"--panel={tmp_path / 'panel.csv'}",
        "--jurisdiction=A",
        "--start=2005-01-01",
        *[a.format(tmp=tmp_path) for a in extra],
    ]
    if not any(a.startswith("--method") for a in args):
        args.append("--method=synth")
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == code
    assert message in str(caught.value)


def test_predictors_measured_after_the_start_are_refused(tmp_path):
    (tmp_path / "panel.csv").write_text(
        "place,period,value\n"
        + "".join(f"{p},{y},{y - 1990}\n" for p in "AB" for y in range(1990, 2001))
    )
    (tmp_path / "p.csv").write_text("place,name,value,period\nA,income,3,1994\nB,income,4,1998\n")
    with pytest.raises(CommandError, match=r"p.csv: line 3: period='1998': after the start"):
        run(
            "evaluate",
            f"--panel={tmp_path / 'panel.csv'}",
            "--jurisdiction=A",
            "--start=1996-01-01",
            "--method=synth",
            f"--predictors={tmp_path / 'p.csv'}",
        )
