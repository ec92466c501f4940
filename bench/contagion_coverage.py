"""Does each contagion estimate's 90% interval hold the part of contagion it claims to
measure? Checked on the demo's simulated Kern-like county over several seeds.

For each seed: the single space-time kernel (what ``gvrs contagion`` fits) and the two-kernel
model (space-time plus retaliation on the rival's turf, given each shooting's rival turf),
against the realised truth among the shootings selected (see
gvrs/data/simulate/contagion_truth.py).

    .venv/bin/python bench/contagion_coverage.py [--seeds 1-10] [--all-shootings]
        [--groups truth|recorded]
"""

from __future__ import annotations

import argparse
import time

from gvrs.analysis.contagion import fit_contagion
from gvrs.data.simulate import simulate
from gvrs.data.simulate.contagion_truth import contagion_truth, shooting_incidents, turf_links


def seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def shown(value, interval, truth) -> tuple[str, bool]:
    if interval is None:
        return f"{value:.3f} (no interval)", False
    held = interval.low <= truth <= interval.high
    return (
        f"{value:.3f} ({interval.low:.3f}-{interval.high:.3f}) {'holds' if held else 'MISS '}",
        held,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seeds, default=seeds("1-10"))
    parser.add_argument(
        "--all-shootings",
        action="store_true",
        help="every shooting, nobody-hit ones too (default: shooting incidents, as the command)",
    )
    parser.add_argument(
        "--groups",
        choices=("truth", "recorded"),
        default="truth",
        help="rival turf for every group-involved shooting, or only those recorded as such",
    )
    args = parser.parse_args()
    what = "every shooting" if args.all_shootings else "shooting incidents (someone hit)"
    print(f"bakersfield-like county 2015-2025, {what}; rival turf known from {args.groups}")
    held = {"one: near repeats": 0, "two: near repeats": 0, "two: retaliation": 0}
    started = time.perf_counter()
    for seed in args.seeds:
        city = simulate("bakersfield-like", years=(2015, 2025), seed=seed)
        selected = shooting_incidents(city, hit_only=not args.all_shootings)
        links = turf_links(city, selected, known=args.groups)
        truth = contagion_truth(city, selected, links)
        events = city.events[selected]
        xyt = (events["x"].to_numpy(), events["y"].to_numpy(), events["t"].to_numpy())
        one = fit_contagion(*xyt)
        two = fit_contagion(*xyt, turf=links)
        r = two.retaliation
        a, ha = shown(
            one.branching_ratio, one.intervals.get("branching_ratio"), truth.near_repeat_share
        )
        b, hb = shown(
            two.branching_ratio, two.intervals.get("branching_ratio"), truth.near_repeat_share
        )
        c, hc = shown(
            r.branching_ratio, r.intervals.get("branching_ratio"), truth.retaliation_per_eligible
        )
        held["one: near repeats"] += ha
        held["two: near repeats"] += hb
        held["two: retaliation"] += hc
        print(
            f"seed {seed:>2}: {len(events):,} shootings; truth: near repeats "
            f"{truth.near_repeat_share:.3f}, retaliation per shooting with a rival turf "
            f"{truth.retaliation_per_eligible:.3f} ({truth.eligible:,}), any trigger "
            f"{truth.triggered_share:.3f}\n"
            f"   one kernel {a} | two kernels: space-time {b}, turf {c}, "
            f"turf delay {r.decay_days:.1f} d, triggered share {two.triggered_share:.3f}"
        )
    n = len(args.seeds)
    print("\n90% intervals holding the realised truth:")
    for name, count in held.items():
        print(f"  {name:20} {count} of {n}")
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
