"""The outcome comparison on simulator truth over several seeds: estimate, 95% interval and
whether it covers the true effect (0.6), and how long the comparison takes."""

from __future__ import annotations

import time

from gvrs.analysis.outcomes import matched_comparison, simulator_involvements
from gvrs.data.simulate import SCENARIOS, simulate

TRUE_EFFECT = SCENARIOS["bakersfield-like"].intervention_effect


def main() -> None:
    covered = 0
    seeds = range(1, 11)
    for seed in seeds:
        city = simulate("bakersfield-like", years=(2015, 2025), seed=seed)
        people, events = simulator_involvements(
            city.people.members, city.people.participants, city.events, city.victims, city.start
        )
        started = time.perf_counter()
        r = matched_comparison(people, events, start=city.start, end=city.end, k=5, seed=seed)
        took = time.perf_counter() - started
        inside = r.ci_low <= TRUE_EFFECT <= r.ci_high
        covered += inside
        print(
            f"seed {seed:2d}: {r.estimate:.2f} (95% {r.ci_low:.2f} to {r.ci_high:.2f})"
            f" enrolled {r.enrolled_before}->{r.enrolled_after},"
            f" controls {r.controls_before}->{r.controls_after};"
            f" covers {TRUE_EFFECT}: {'yes' if inside else 'no'}; {took:.2f} s"
        )
    print(f"{covered} of {len(seeds)} intervals cover the true effect {TRUE_EFFECT}")


if __name__ == "__main__":
    main()
