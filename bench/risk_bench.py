"""Benchmark the space-time kernels against plain reference implementations written here.

    python bench/risk_bench.py [--sizes 1000,5000,20000,50000,100000]

- Knox, 3 x 3 bands, 999 permutations: k-d tree pairs + permuted time differences, against
  brute force over all n(n-1)/2 pairs for every permutation.
- Contagion EM to convergence: truncated candidate pairs, against the full O(n^2) EM.
- Kernel density on a 500 x 500 grid: binned FFT, against direct kernel sums.
Targets (issue 6): Knox on 50,000 events under 10 s; contagion on 100,000 under 30 s;
kernel density of 1,000,000 points on 500 x 500 under 1 s.

A reference is run where it fits in memory and time (marked "measured"); above that it is
extrapolated from its largest measured size by its complexity (marked "estimated"). Events are
a simulated self-exciting process at a fixed density (about 60 shootings per km^2 over five
years, like a dense American city), so neighbours per event stay realistic as n grows.
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc
from functools import partial

import numpy as np

from gvrs.analysis.contagion import fit_contagion, simulate_hawkes
from gvrs.analysis.hotspots import Grid, kernel_density
from gvrs.analysis.nearrepeat import knox_test

SPACE, TIME = np.array([100.0, 200.0, 400.0]), np.array([7.0, 14.0, 28.0])
DAYS = 5 * 365.0
DENSITY_PER_KM2 = 60.0


def events(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    side = math.sqrt(n / DENSITY_PER_KM2) * 1000
    background = int(n * 0.7)
    xb, yb = rng.uniform(0, side, 5000), rng.uniform(0, side, 5000)
    x, y, t, _ = simulate_hawkes(
        {"theta": 0.3, "omega": 0.1, "sigma": 150.0, "mu": background},
        rng,
        x_bg=xb,
        y_bg=yb,
        w_bg=np.ones(5000),
        profile=(np.array([0.0, DAYS]), np.array([1 / DAYS]), DAYS),
        jitter_m=300,
    )
    return x[:n], y[:n], t[:n]


def measure(fn):
    tracemalloc.start()
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def knox_reference(x, y, t, permutations):
    i, j = np.triu_indices(len(t), 1)
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    s = np.searchsorted(SPACE, d, side="left")
    rng = np.random.default_rng(0)
    for _ in range(permutations):
        tp = t[rng.permutation(len(t))]
        k = np.searchsorted(TIME, np.abs(tp[i] - tp[j]), side="left")
        inside = (s < 3) & (k < 3)
        np.bincount(s[inside] * 3 + k[inside], minlength=9)


def em_reference(x, y, t, iterations=50):
    """Full EM: every earlier event is a candidate parent (no truncation)."""
    order = np.argsort(t)
    x, y, t = x[order], y[order], t[order]
    i, j = np.triu_indices(len(t), 1)  # i earlier than j
    lag = t[j] - t[i]
    d2 = (x[j] - x[i]) ** 2 + (y[j] - y[i]) ** 2
    theta, omega, sigma, mu = 0.2, 0.1, 200.0, len(t) / (t[-1] * 1.0)
    area = (x.max() - x.min()) * (y.max() - y.min())
    for _ in range(iterations):
        g = (
            theta
            * omega
            * np.exp(-omega * lag)
            * np.exp(-d2 / (2 * sigma**2))
            / (2 * np.pi * sigma**2)
        )
        total = mu / area + np.bincount(j, weights=g, minlength=len(t))
        p = g / total[j]
        triggered = p.sum()
        omega = triggered / (p * lag).sum()
        sigma = math.sqrt((p * d2).sum() / (2 * triggered))
        theta = triggered / len(t)
        mu = (len(t) - triggered) / t[-1]


def kde_reference(grid, x, y, bandwidth):
    cx, cy = grid.centres()
    cx, cy = cx.ravel(), cy.ravel()
    out = np.zeros(cx.size)
    for start in range(0, len(x), 200):
        xs, ys = x[start : start + 200], y[start : start + 200]
        out += np.exp(
            -((cx[:, None] - xs) ** 2 + (cy[:, None] - ys) ** 2) / (2 * bandwidth**2)
        ).sum(axis=1)
    return out


def row(kernel, n, ours, ref, how):
    ratio = ref[0] / ours[0] if ours[0] > 0 else float("nan")
    print(
        f"{kernel:<10} {n:>8,} {ours[0]:>9.2f} {ours[1]:>8.0f} {ref[0]:>11.1f} "
        f"{'' if ref[1] is None else f'{ref[1]:.0f}':>8} {ratio:>9,.0f}x  {how}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,20000,50000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'kernel':<10} {'events':>8} {'ours s':>9} {'ours MB':>8} {'reference s':>11} "
        f"{'ref MB':>8} {'ratio':>10}"
    )
    knox_base = em_base = kde_base = None
    for n in sizes:
        x, y, t = events(n)
        ours = measure(partial(knox_test, x, y, t, permutations=999, seed=1))
        if n <= 5000:
            # Brute force with 99 permutations, scaled to 999 (it is linear in permutations).
            s, mb = measure(partial(knox_reference, x, y, t, 99))
            knox_base = (n, s * 999 / 99)
            row("knox", n, ours, (s * 999 / 99, mb), "measured (99 perms x 10.1)")
        else:
            est = knox_base[1] * (n / knox_base[0]) ** 2
            row("knox", n, ours, (est, None), "estimated, O(n^2)")
        ours = measure(partial(fit_contagion, x, y, t))
        if n <= 5000:
            s, mb = measure(partial(em_reference, x, y, t))
            em_base = (n, s)
            row("contagion", n, ours, (s, mb), "measured (50 iterations)")
        else:
            row(
                "contagion",
                n,
                ours,
                (em_base[1] * (n / em_base[0]) ** 2, None),
                "estimated, O(n^2) per iteration",
            )
        grid = Grid.around(x, y, cell_m=1.0)
        grid = Grid(grid.x0, grid.y0, max(grid.nx, grid.ny) / 500.0, 500, 500)
        ours = measure(partial(kernel_density, grid, x, y, 200.0))
        if n <= 5000:
            s, mb = measure(partial(kde_reference, grid, x, y, 200.0))
            kde_base = (n, s)
            row("density", n, ours, (s, mb), "measured")
        else:
            row("density", n, ours, (kde_base[1] * n / kde_base[0], None), "estimated, O(n)")
    rng = np.random.default_rng(0)
    px, py = rng.normal(0, 3000, 1_000_000), rng.normal(0, 3000, 1_000_000)
    grid = Grid(-12_500, -12_500, 50.0, 500, 500)
    ours = measure(partial(kernel_density, grid, px, py, 200.0))
    row(
        "density", 1_000_000, ours, (kde_base[1] * 1_000_000 / kde_base[0], None), "estimated, O(n)"
    )


if __name__ == "__main__":
    main()
