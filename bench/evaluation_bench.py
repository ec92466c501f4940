"""Benchmark: the three evaluation designs against simulator truth, over many seeds.

    python bench/evaluation_bench.py [--seeds 50] [--effect 0.7] [--outcome shot|killed]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--effect", type=float, default=0.7)
    parser.add_argument("--outcome", choices=("shot", "killed"), default="shot")
    args = parser.parse_args()
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
