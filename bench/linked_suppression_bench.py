"""Benchmark: suppression of linked tables, as the partner figures page builds them.

    python bench/linked_suppression_bench.py [--repeats 5]

For each size (organizations x programs each, and areas in towns of a county), random counts
of the mix the figures hold (a quarter zeros, a third small): the seconds to decide the
suppression of the whole system (rectangles, then the LP audit and its repairs), the cells in
the system, how many are hidden, and how many repair rounds the audit needed. The page
computes this on every request, so the figures-page sizes should stay well under a second.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import time

import numpy as np

from gvrs.analysis.partnertables import outside_system
from gvrs.analysis.suppression import LinkedTables


def _counts(rng, shape):
    kind = rng.random(shape)
    small = rng.integers(1, 11, shape)
    large = rng.integers(11, 200, shape)
    return np.where(kind < 0.25, 0, np.where(kind < 0.6, small, large)).astype(float)


def program_system(rng, organizations: int, programs_each: int) -> LinkedTables:
    """The figures page: funnel (5 ordered stages), outcomes (4), services (10 kinds) and
    referrals (4 statuses), by program and by organization (one view, decided alone)."""
    counts, group = outside_counts(rng, organizations, programs_each)
    system = LinkedTables()
    f = system.grouped(counts["funnel"], group, additive=False)
    o = system.grouped(counts["outcomes"], group, additive=False)
    system.grouped(counts["services"], group, additive=True)
    system.grouped(counts["referrals"], group, additive=True)
    every_f = np.vstack([f[0], f[1], f[2][None, :]])
    every_o = np.vstack([o[0], o[1], o[2][None, :]])
    for later, earlier in ((1, 0), (2, 0), (3, 2), (4, 2)):
        system.at_most(every_f[:, later], every_f[:, earlier])
    for j in range(4):
        system.at_most(every_o[:, j], every_f[:, 0])
    return system


def outside_counts(rng, organizations: int, programs_each: int):
    """The same figures as ``program_system``, as counts for ``outside_system`` (every view
    outside the organizations, each organization an insider)."""
    group = np.repeat(np.arange(organizations), programs_each)
    n = group.size
    identified = rng.integers(0, 60, n)
    enrolled = rng.binomial(identified, 0.7)
    funnel = np.column_stack(
        [
            identified,
            rng.binomial(identified, 0.8),
            enrolled,
            rng.binomial(enrolled, 0.6),
            rng.binomial(enrolled, 0.2),
        ]
    ).astype(float)
    counts = {
        "funnel": funnel,
        "services": _counts(rng, (n, 10)),
        "referrals": _counts(rng, (n, 4)),
        "outcomes": rng.binomial(identified[:, None], 0.5, (n, 4)).astype(float),
    }
    return counts, group


def area_system(rng, towns: int, areas_each: int) -> LinkedTables:
    """The equity pages of a county and its towns: five measures per area."""
    system = LinkedTables()
    cells = system.cells(_counts(rng, (towns * areas_each, 5)))
    totals = []
    for t in range(towns):
        mine = cells[t * areas_each : (t + 1) * areas_each]
        total = system.sums(mine, axis=0)
        system.relate(np.vstack([mine, total]), lines="columns")
        totals.append(total)
    county = system.sums(np.vstack(totals), axis=0)
    system.relate(np.vstack([*totals, county]), lines="columns")
    system.relate(np.vstack([cells, county]), lines="columns")
    return system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'system':<34} {'cells':>6} {'hidden':>7} {'seconds (median, max)':>24}")
    for label, build in [
        ("program figures, 2 orgs x 2", lambda: program_system(rng, 2, 2)),
        ("program figures, 4 orgs x 3", lambda: program_system(rng, 4, 3)),
        ("program figures, 8 orgs x 4", lambda: program_system(rng, 8, 4)),
        ("equity, 3 towns x 4 areas", lambda: area_system(rng, 3, 4)),
        ("equity, 5 towns x 10 areas", lambda: area_system(rng, 5, 10)),
        ("equity, 1 city x 49 areas", lambda: area_system(rng, 1, 49)),
    ]:
        times, hidden, size = [], [], 0
        for _ in range(args.repeats):
            system = build()
            started = time.process_time()
            result = system.suppress()
            times.append(time.process_time() - started)
            hidden.append(int(result.suppressed.sum()))
            size = len(system)
        _report(label, size, hidden, times)
    # Every view outside the organizations as one system, each organization an insider
    # (issue 13): what the figures page, the city's page and the council report now share.
    for organizations, each in ((2, 2), (3, 2), (4, 3), (8, 4)):
        times, hidden, size = [], [], 0
        for _ in range(args.repeats):
            counts, group = outside_counts(rng, organizations, each)
            started = time.process_time()
            built = outside_system(counts, group)
            times.append(time.process_time() - started)
            hidden.append(int(built.result.suppressed.sum()))
            size = built.values.size
        _report(f"all views + insiders, {organizations} orgs x {each}", size, hidden, times)


def _report(label: str, size: int, hidden: list[int], times: list[float]) -> None:
    print(
        f"{label:<34} {size:>6} {int(np.median(hidden)):>7}"
        f" {np.median(times):>13.3f} {max(times):>9.3f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
