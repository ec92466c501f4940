"""Retaliation alerts measured on the simulator's truth, over several seeds.

For the simulated Kern-like county (the demo's scenario), every homicide and nonfatal
shooting from the start of the measured period is reviewed and issues alerts under each rule;
the bench prints the share of retaliatory shootings that fell inside an open alert's area and
window against the share of area-days under alert, and their ratio (1 = alerting at random).

    .venv/bin/python bench/alerts_bench.py [--seeds 1-5] [--start 2023-01-01]
        [--window 14] [--delay 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from gvrs.data.simulate import simulate
from gvrs.data.simulate.reviewed import measure_rules


def seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seeds, default=seeds("1-5"))
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2023, 1, 1))
    parser.add_argument("--window", type=int, default=14, help="alert window, days")
    parser.add_argument("--delay", type=int, default=1, help="days from shooting to review")
    args = parser.parse_args()
    print(
        f"bakersfield-like county, 2015-2025, alerts measured from {args.start}; window "
        f"{args.window} days, alerts open {args.delay} day(s) after the shooting"
    )
    header = (
        f"{'seed':>4}  {'rule':38} {'alerts':>6} {'retaliations':>13} {'captured':>9} "
        f"{'area-days':>9} {'ratio':>6} {'all shootings':>13}"
    )
    print(header)
    by_rule: dict[str, list] = {}
    started = time.perf_counter()
    for seed in args.seeds:
        city = simulate("bakersfield-like", years=(2015, 2025), seed=seed)
        results = measure_rules(
            city, start=args.start, window_days=args.window, review_delay_days=args.delay
        )
        for r in results:
            m = r.retaliation
            by_rule.setdefault(r.rule, []).append(r)
            print(
                f"{seed:>4}  {r.rule:38} {r.alerts:>6,} {m.shootings:>13,} "
                f"{m.capture_share:>9.1%} {m.alerted_share:>9.1%} "
                f"{m.capture_per_alerted_share:>6.2f} {r.all_shootings.capture_share:>13.1%}"
            )
    print(f"\nMean over seeds {args.seeds[0]}-{args.seeds[-1]}:")
    for rule, rows in by_rule.items():
        capture = statistics.mean(r.retaliation.capture_share for r in rows)
        alerted = statistics.mean(r.retaliation.alerted_share for r in rows)
        ratio = statistics.mean(r.retaliation.capture_per_alerted_share for r in rows)
        low = min(r.retaliation.capture_per_alerted_share for r in rows)
        high = max(r.retaliation.capture_per_alerted_share for r in rows)
        print(
            f"  {rule:38} captures {capture:.1%} of retaliatory shootings with "
            f"{alerted:.1%} of area-days under alert: {ratio:.2f}x random "
            f"(seeds {low:.2f}-{high:.2f})"
        )
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
