"""Benchmark: the three evaluation designs against simulator truth, over many seeds.

    python bench/evaluation_bench.py [--seeds 50] [--effect 0.7] [--outcome shot|killed]
    python bench/evaluation_bench.py --timing       # each design at 50 places x 20 years
    python bench/evaluation_bench.py --null 200     # ITS false claims on null series

``--timing`` times each design (library call) on a Poisson panel of 50 places and 20 annual
periods, then ``gvrs evaluate --panel`` on the same panel as a separate process (start-up
included), and prints the ratio (target: the command within 2x of the library).
``--null N`` runs the interrupted time series on N plain Poisson and N AR(1) (rho = 0.6 on
the log rate) monthly series with no effect, level-only (the default) and level-and-slope,
and prints how often each claims an effect (target: at most 10% at the 90% level).

Each seed simulates the "evaluation" county (a treated city whose strategy multiplies every
shooting by ``--effect`` from 2022, fourteen comparison towns, a national decline shared by
all) twice: once with the effect and once without (effect 1). For each method it prints the
share of seeds whose 90% interval covers the true ratio (target: at least 80%), the share
of seeds without an effect in which the sentence claims one (target: at most 10%), the share
with the effect in which it does (power), the median estimate, and the seconds per fit.
"""

from __future__ import annotations

import os

# One BLAS thread: the fits are small, and on a shared machine spinning threads only cost.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime as dt
import sys
import time
from dataclasses import replace

import numpy as np

from gvrs.analysis.evaluation import (
    difference_in_differences,
    interrupted_time_series,
    synthetic_control,
)
from gvrs.data.simulate import SCENARIOS, simulate
from gvrs.data.simulate.tables import counts_by_town, populations_by_town

START = dt.date(2022, 1, 1)
TREATED = "Treated City"


def run(seed: int, effect: float, killed_only: bool) -> dict:
    scenario = replace(SCENARIOS["evaluation"], citywide_effect=effect)
    city = simulate(scenario, years=(2015, 2025), seed=seed, today=dt.date(2026, 1, 1))
    counts = counts_by_town(city, killed_only=killed_only)
    people = populations_by_town(city, counts.index)
    out = {}
    for method, call in (
        (
            "its",
            lambda: interrupted_time_series(counts[TREATED], START, populations=people[TREATED]),
        ),
        ("did", lambda: difference_in_differences(counts, TREATED, START, populations=people)),
        ("synth", lambda: synthetic_control(counts, TREATED, START, populations=people)),
    ):
        began = time.perf_counter()
        result = call()
        out[method] = (result, time.perf_counter() - began)
    return out


def timing() -> None:
    import subprocess
    import tempfile
    from pathlib import Path

    import django
    import pandas as pd

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
    django.setup()
    from gvrs.analysis.evaluation import staggered_adoption
    from gvrs.data.panel import read_panel
    from gvrs.evaluation.runs import evaluate_panel

    rng = np.random.default_rng(0)
    years = pd.RangeIndex(2003, 2023)
    places = [f"P{i:02d}" for i in range(50)]
    rate = np.exp(rng.normal(0, 0.1, len(years)))[:, None] * rng.uniform(50, 500, len(places))
    table = pd.DataFrame(rng.poisson(rate), index=years, columns=places)
    starts = {p: dt.date(2012 + i % 6, 1, 1) for i, p in enumerate(places[:20])}
    with tempfile.TemporaryDirectory() as folder:
        panel_path = Path(folder) / "panel.csv"
        long = table.stack().rename("count").reset_index()
        long.columns = ["period", "place", "count"]
        long[["place", "period", "count"]].to_csv(panel_path, index=False)
        adoptions = Path(folder) / "adoptions.csv"
        pd.DataFrame({"place": list(starts), "start": list(starts.values())}).to_csv(
            adoptions, index=False
        )
        panel = read_panel(panel_path)
        print("50 places x 20 years (Poisson counts); seconds, one run each")
        print("wall clock, then CPU (the command's process and its children; on a shared")
        print("machine the CPU seconds are what the work costs, the wall clock what it waits)")
        print(
            f"{'design':<11}{'library':>10}{'gvrs evaluate':>15}{'ratio':>8}"
            f"{'library CPU':>13}{'command CPU':>13}{'ratio':>8}"
        )
        import resource

        for method in ("its", "did", "synth", "staggered"):
            cpu_began = time.process_time()
            began = time.perf_counter()
            if method == "staggered":
                staggered_adoption(table, starts)
            else:
                evaluate_panel(panel, "P49", dt.date(2018, 1, 1), method)
            library = time.perf_counter() - began
            library_cpu = time.process_time() - cpu_began
            command = [sys.executable, "-m", "gvrs", "evaluate", f"--panel={panel_path}"]
            command += [f"--method={method}", "--format=json"]
            if method == "staggered":
                command.append(f"--adoptions={adoptions}")
            else:
                command += ["--jurisdiction=P49", "--start=2018-01-01"]
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            began = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            cli = time.perf_counter() - began
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cli_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            print(
                f"{method:<11}{library:>10.2f}{cli:>15.2f}{cli / library:>8.2f}"
                f"{library_cpu:>13.2f}{cli_cpu:>13.2f}{cli_cpu / library_cpu:>8.2f}",
                flush=True,
            )


def null_claims(n: int) -> None:
    import pandas as pd

    months = pd.date_range("2015-01-01", "2025-12-01", freq="MS")

    def series(kind: str, seed: int) -> pd.Series:
        rng = np.random.default_rng(seed)
        t = np.arange(len(months)) / 12
        mean = 30 * np.exp(-0.03 * t) * (1 + 0.3 * np.cos(2 * np.pi * (months.month - 7) / 12))
        if kind == "AR(1)":
            e, u = np.zeros(len(months)), rng.normal(0, 0.15, len(months))
            for i in range(1, len(months)):
                e[i] = 0.6 * e[i - 1] + u[i]
            mean = mean * np.exp(e)
        return pd.Series(rng.poisson(mean), index=months)

    print(f"interrupted time series, {n} null monthly series each, 2015-2025, start {START}")
    print(f"{'noise':<9}{'model':<17}{'claims an effect':>18}{'interval covers 1':>19}")
    for kind in ("Poisson", "AR(1)"):
        for slope in (False, True):
            claims = covers = 0
            for seed in range(n):
                result = interrupted_time_series(series(kind, seed), START, slope_change=slope)
                claims += result.claims_effect
                covers += result.ci_low <= 1 <= result.ci_high
            model = "level and slope" if slope else "level (default)"
            print(f"{kind:<9}{model:<17}{claims / n:>18.1%}{covers / n:>19.1%}", flush=True)
    # The simulator's treated city without an effect (people shot per month, population).
    scenario = replace(SCENARIOS["evaluation"], citywide_effect=1.0)
    for slope in (False, True):
        claims = covers = 0
        for seed in range(1, n + 1):
            city = simulate(scenario, years=(2015, 2025), seed=seed, today=dt.date(2026, 1, 1))
            counts = counts_by_town(city)
            people = populations_by_town(city, counts.index)
            result = interrupted_time_series(
                counts[TREATED], START, populations=people[TREATED], slope_change=slope
            )
            claims += result.claims_effect
            covers += result.ci_low <= 1 <= result.ci_high
        model = "level and slope" if slope else "level (default)"
        print(f"{'simulator':<9}{model:<17}{claims / n:>18.1%}{covers / n:>19.1%}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--null", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--effect", type=float, default=0.7)
    parser.add_argument("--outcome", choices=("shot", "killed"), default="shot")
    args = parser.parse_args()
    if args.timing:
        timing()
        return
    if args.null:
        null_claims(args.null)
        return
    killed = args.outcome == "killed"
    tally = {
        m: {"cover": 0, "claim_effect": 0, "claim_null": 0, "cover_null": 0, "est": [], "s": []}
        for m in ("its", "did", "synth")
    }
    for seed in range(1, args.seeds + 1):
        with_effect = run(seed, args.effect, killed)
        without = run(seed, 1.0, killed)
        for method, (result, seconds) in with_effect.items():
            t = tally[method]
            t["cover"] += result.ci_low <= args.effect <= result.ci_high
            t["claim_effect"] += result.claims_effect
            t["est"].append(result.effect_ratio)
            t["s"].append(seconds)
            null = without[method][0]
            t["claim_null"] += null.claims_effect
            t["cover_null"] += null.ci_low <= 1.0 <= null.ci_high
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    n = args.seeds
    print(
        f"evaluation county, {n} seeds, people {'killed' if killed else 'shot'} per month, "
        f"true ratio {args.effect} from {START} (and 1.0 in the no-effect runs); 90% intervals"
    )
    print(
        f"{'method':<7}{'coverage':>10}{'coverage (no effect)':>22}{'false positives':>17}"
        f"{'power':>8}{'median estimate':>17}{'s per fit':>11}"
    )
    for method, t in tally.items():
        print(
            f"{method:<7}{t['cover'] / n:>10.0%}{t['cover_null'] / n:>22.0%}"
            f"{t['claim_null'] / n:>17.0%}{t['claim_effect'] / n:>8.0%}"
            f"{np.median(t['est']):>17.3f}{np.mean(t['s']):>11.2f}"
        )
    print("targets: coverage at least 80%, false positives at most 10%")


if __name__ == "__main__":
    main()
