"""Benchmark the space-time kernels against baselines run in the same process or run.

    python bench/risk_bench.py [--sizes 5000,50000,100000] [--million 1000000]
                               [--coverage 100] [--coverage-sizes 200,1400,5600,14000]
                               [--thread-sizes 100000,1000000]
                               [--skip knox,contagion,coverage,threads]

- Knox, 3 x 3 bands, 999 permutations: the compiled loop (gvrs's default) against the numpy
  reference path (same permutations, one thread) and against a hand-written C loop compiled
  here with the system's C compiler (Fisher-Yates shuffle + one pass over the close pairs,
  after the same k-d tree pair search). Target (issue 18): within 1.5x of the C loop. The
  compiled and C loops are timed best of three, interleaved; the numpy reference once.
- Contagion EM: the current fit at the landed fit's fixed 300 m background bandwidth
  ("current") and at the bandwidth of largest likelihood (the default, "chosen") against the
  landed fit (its code is copied below as the
  baseline: k-d tree pairs within the distance, filtered by lag, and a stopping rule relative
  to the log-likelihood), time, EM iterations and peak memory, each fit in a fresh process
  (peak resident memory above what the process held before the fit). Then the current fit
  alone on a million events. Target: 100,000 events in under 4 s and 700 MB.
- Threads: Knox (999 permutations) and the default contagion fit on one thread and on every
  core numba may use, at 100,000 and 1,000,000 events: wall and CPU seconds, the speed-up
  (wall on one thread over wall on all) and the speed-up per core, and whether the results
  are identical (they must be: per-permutation seeds, sums in a fixed order). At 100,000
  events best of two, interleaved; at a million once each. The load average is printed
  beside each row: on a shared machine the other programs' load takes cores from the
  threads, so a speed-up is only meaningful where the load left a core free.
- Coverage of the 90% intervals of the branching ratio, delay and spatial scale over
  simulations of known parameters at about 300, 2,000, 8,000 and 20,000 events
  (``--coverage`` seeds per size), with the bias of the estimates and the spread of the
  estimates against the intervals' widths; the default fit beside one at a fixed 300 m
  background bandwidth.

The machine the figures come from is shared (2 cores, several users): absolute times are
noisy, so compare within a run; CPU seconds (the process's own work) are printed beside wall
seconds. Events are a simulated self-exciting process at a fixed
density (about 60 shootings per km^2 over five years, like a dense American city), so
neighbours per event stay realistic as n grows.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from gvrs.analysis.contagion import fit_contagion, simulate_hawkes
from gvrs.analysis.hotspots import Grid, kernel_density
from gvrs.analysis.nearrepeat import band_index, close_pairs, knox_test
from gvrs.analysis.parallel import max_threads

SPACE, TIME = np.array([100.0, 200.0, 400.0]), np.array([7.0, 14.0, 28.0])
DAYS = 5 * 365.0
DENSITY_PER_KM2 = 60.0


def events(n: int, seed: int = 1):
    side = math.sqrt(n / DENSITY_PER_KM2) * 1000
    x, y, t = _simulated_city(np.random.default_rng(seed), int(n * 0.7), side, DAYS, 5000)
    return x[:n], y[:n], t[:n]


def _simulated_city(rng, background: int, side_m: float, days: float, anchors: int):
    """Shootings of the perf anchors' generator (branching 0.3, delay 10 d, spread 150 m) over
    a square of ``side_m``, the background drawn around ``anchors`` uniform points with
    300 m jitter (structure of its own at the background's scale)."""
    xb, yb = rng.uniform(0, side_m, anchors), rng.uniform(0, side_m, anchors)
    x, y, t, _ = simulate_hawkes(
        {"theta": 0.3, "omega": 0.1, "sigma": 150.0, "mu": background},
        rng,
        x_bg=xb,
        y_bg=yb,
        w_bg=np.ones(anchors),
        profile=(np.array([0.0, days]), np.array([1 / days]), days),
        jitter_m=300,
    )
    return x, y, t


# --- Knox: a hand-written compiled loop -------------------------------------------------------

C_SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
/* Per permutation: a Fisher-Yates shuffle of the times (xorshift64*), then one pass over the
   close pairs adding each to its (space band, time band) cell; bands [lower, upper). */
void knox_tables(const double *t, int64_t n, const int32_t *i, const int32_t *j,
                 const int8_t *s, int64_t m, const double *edges, int64_t n_time,
                 int64_t n_cells, int64_t permutations, uint64_t seed, int64_t *out) {
    double *tp = malloc(sizeof(double) * n);
    uint64_t state = seed * 0x9E3779B97F4A7C15ULL + 1;
    double last = edges[n_time - 1];
    for (int64_t p = 0; p < permutations; p++) {
        memcpy(tp, t, sizeof(double) * n);
        for (int64_t k = n - 1; k > 0; k--) {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27;
            int64_t r = (int64_t)((state * 0x2545F4914F6CDD1DULL) % (uint64_t)(k + 1));
            double v = tp[k]; tp[k] = tp[r]; tp[r] = v;
        }
        int64_t *row = out + p * n_cells;
        for (int64_t q = 0; q < m; q++) {
            double dt = fabs(tp[i[q]] - tp[j[q]]);
            if (dt >= last) continue;
            int64_t b = 0;
            while (dt >= edges[b]) b++;
            row[s[q] * n_time + b]++;
        }
    }
    free(tp);
}
"""


def c_knox():
    """The C loop as a Python function, or None when no C compiler is at hand."""
    folder = Path(tempfile.mkdtemp(prefix="gvrs-knox-"))
    (folder / "knox.c").write_text(C_SOURCE)
    try:
        subprocess.run(
            [
                "cc",
                "-O2",
                "-shared",
                "-fPIC",
                "-o",
                str(folder / "knox.so"),
                str(folder / "knox.c"),
            ],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    lib = ctypes.CDLL(str(folder / "knox.so"))
    arr = np.ctypeslib.ndpointer
    i64 = ctypes.c_int64
    lib.knox_tables.argtypes = [
        arr(np.float64), i64, arr(np.int32), arr(np.int32), arr(np.int8), i64,
        arr(np.float64), i64, i64, i64, ctypes.c_uint64, arr(np.int64),
    ]  # fmt: skip

    def run(x, y, t, permutations):
        i, j, d = close_pairs(x, y, SPACE[-1])
        s = band_index(d, SPACE, "left")
        keep = s < len(SPACE)
        i, j = i[keep].astype(np.int32), j[keep].astype(np.int32)
        s = s[keep].astype(np.int8)
        out = np.zeros((permutations, 9), dtype=np.int64)
        lib.knox_tables(t, len(t), i, j, s, len(i), TIME, 3, 9, permutations, 1, out)
        return out

    return run


def timed(fn, *args, **kwargs):
    """(wall seconds, CPU seconds of this process): on a shared machine the wall time counts
    the waits for a core, the CPU time only the work."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def knox_rows(sizes):
    c_loop = c_knox()
    print("\nKnox test, 3 x 3 bands [lower, upper), 999 permutations, one thread")
    print("(seconds as wall / CPU; compiled and C loops best of three, interleaved)")
    print(
        f"{'events':>8} {'close pairs':>12} {'compiled s':>12} {'numpy ref s':>14} "
        f"{'numpy/compiled':>15} {'C loop s':>12} {'compiled/C':>11}"
    )
    x, y, t = events(500)
    knox_test(x, y, t, permutations=3)  # load the compiled loop before timing
    for n in sizes:
        x, y, t = events(n)
        ours = c_s = (math.inf, math.inf)
        for _ in range(3):
            ours = min(
                ours, timed(knox_test, x, y, t, permutations=999, seed=1), key=lambda v: v[1]
            )
            if c_loop:
                c_s = min(c_s, timed(c_loop, x, y, t, 999), key=lambda v: v[1])
        numpy_ref = timed(knox_test, x, y, t, permutations=999, seed=1, method="numpy", workers=1)
        pairs = knox_test(x, y, t, permutations=1).n_close_pairs
        print(
            f"{n:>8,} {pairs:>12,} {ours[0]:>5.2f} / {ours[1]:<5.2f} "
            f"{numpy_ref[0]:>6.2f} / {numpy_ref[1]:<6.2f} {numpy_ref[1] / ours[1]:>14.1f}x "
            f"{c_s[0]:>5.2f} / {c_s[1]:<5.2f} {ours[1] / c_s[1]:>10.2f}x",
            flush=True,
        )
    if c_loop is None:
        print("(no C compiler: the hand-written loop was not run)")


# --- Contagion: the landed fit, kept as the baseline -----------------------------------------


def _landed_candidates(x, y, t, max_distance_m, max_lag_days):
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(max_distance_m, output_type="ndarray")
    a, b = pairs[:, 0], pairs[:, 1]
    earlier = t[a] < t[b]
    parent = np.where(earlier, a, b)
    child = np.where(earlier, b, a)
    lag = t[child] - t[parent]
    keep = (lag > 0) & (lag <= max_lag_days)
    parent, child, lag = parent[keep], child[keep], lag[keep]
    d2 = (x[child] - x[parent]) ** 2 + (y[child] - y[parent]) ** 2
    return parent, child, lag, d2


def _landed_time_profile(t, weights, t_end, bin_days):
    edges = np.arange(0.0, t_end + bin_days, bin_days)
    edges[-1] = max(edges[-1], t_end)
    hist, _ = np.histogram(t, bins=edges, weights=weights)
    widths = np.diff(edges)
    density = (hist + 1e-9) / widths
    density /= (density * widths).sum()
    return edges, density


def _landed_spatial_density(grid, x, y, weights, bandwidth_m):
    dens = kernel_density(grid, x, y, bandwidth_m, weights) / 1e6
    row, col, _ = grid.cell_of(x, y)
    at = dens[row, col]
    reach = max(1, math.ceil(4 * bandwidth_m / grid.cell_m))
    offsets = np.arange(-reach, reach + 1) * grid.cell_m
    g = np.exp(-0.5 * (offsets / bandwidth_m) ** 2)
    centre = 1.0 / (g.sum() ** 2) / grid.cell_m**2
    loo = np.maximum(at - weights * centre, 1e-15)
    return loo / max(weights.sum(), 1e-12)


def landed_fit_contagion(
    x, y, t, *, max_distance_m=1000.0, max_lag_days=60.0, background_bandwidth_m=300.0,
    time_bin_days=30.0, max_iterations=200, tolerance=1e-6, init=(0.2, 0.1, 200.0),
    min_spatial_scale_m=25.0,
):  # fmt: skip
    """gvrs.analysis.contagion.fit_contagion as landed before issue 18, without bootstrap;
    returns (theta, decay days, sigma, iterations, converged)."""
    x, y, t = (np.asarray(a, dtype=float) for a in (x, y, t))
    n = len(t)
    t = t - t.min()
    t_end = float(t.max()) + 1e-9
    grid = Grid.around(
        x, y, cell_m=max(25.0, background_bandwidth_m / 4), pad_m=4 * background_bandwidth_m
    )
    _parent, child, lag, d2 = _landed_candidates(x, y, t, max_distance_m, max_lag_days)
    theta, omega, sigma = init
    p_background = np.ones(n)
    previous = -np.inf
    converged = False
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        f = _landed_spatial_density(grid, x, y, p_background, background_bandwidth_m)
        edges, density = _landed_time_profile(t, p_background, t_end, time_bin_days)
        h = density[np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(density) - 1)]
        mu = p_background.sum() * f * h
        g = (
            theta
            * omega
            * np.exp(-omega * lag)
            * np.exp(-d2 / (2 * sigma**2))
            / (2 * np.pi * sigma**2)
        )
        total = mu + np.bincount(child, weights=g, minlength=n)
        p_pair = g / total[child]
        p_background = mu / total
        space_mass = 1 - math.exp(-(max_distance_m**2) / (2 * sigma**2))
        time_mass = 1 - np.exp(-omega * np.minimum(t_end - t, max_lag_days))
        compensator = p_background.sum() + theta * space_mass * time_mass.sum()
        loglik = float(np.log(total).sum() - compensator)
        triggered = p_pair.sum()
        omega = triggered / max((p_pair * lag).sum(), 1e-12)
        sigma = max(
            min_spatial_scale_m,
            math.sqrt(max((p_pair * d2).sum(), 1e-6) / (2 * max(triggered, 1e-12))),
        )
        space_mass = 1 - math.exp(-(max_distance_m**2) / (2 * sigma**2))
        time_mass = 1 - np.exp(-omega * np.minimum(t_end - t, max_lag_days))
        theta = triggered / max(space_mass * time_mass.sum(), 1e-12)
        if abs(loglik - previous) <= tolerance * abs(loglik):
            converged = True
            break
        previous = loglik
    return float(theta), float(1 / omega), float(sigma), iteration, converged


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_fit(which: str, n: int) -> dict:
    """Run in a fresh process: one fit, its time and its peak memory above the start."""
    x, y, t = events(n)
    if which != "landed":
        fit_contagion(*events(300))  # load the compiled loops before measuring
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak resident size
    before = _rss_mb("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    if which != "landed":
        # "current": the landed model's fixed 300 m background bandwidth, like for like;
        # "chosen": the default, the fit at the bandwidth of largest likelihood (a ladder).
        fit = fit_contagion(x, y, t, background_bandwidth_m=300.0 if which == "current" else None)
        values = (fit.branching_ratio, fit.decay_days, fit.spatial_scale_m)
        iterations, converged, pairs = fit.iterations, fit.converged, fit.n_candidate_pairs
    else:
        *values, iterations, converged = landed_fit_contagion(x, y, t)
        pairs = None
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = _rss_mb("VmHWM") - before
    return dict(
        seconds=seconds, cpu=cpu, peak_mb=peak, iterations=iterations, converged=converged,
        theta=values[0], decay=values[1], sigma=values[2], pairs=pairs,
    )  # fmt: skip


def in_fresh_process(which: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", which, str(n)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def contagion_rows(sizes, million):
    print("\nContagion EM to convergence, each fit in a fresh process (peak RSS above start)")
    print(
        f"{'events':>9} {'fit':<8} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'iter':>5} "
        f"{'conv':>5} {'pairs':>11} {'theta':>6} {'decay d':>7} {'sigma m':>7}   landed / current"
    )

    def show(n, which, r, ratio=""):
        pairs = f"{r['pairs']:,}" if r["pairs"] is not None else ""
        print(
            f"{n:>9,} {which:<8} {r['seconds']:>7.2f} {r['cpu']:>7.2f} {r['peak_mb']:>8.0f} "
            f"{r['iterations']:>5} "
            f"{r['converged']!s:>5} {pairs:>11} {r['theta']:>6.3f} {r['decay']:>7.2f} "
            f"{r['sigma']:>7.1f}   {ratio}",
            flush=True,
        )

    for n in sizes:
        current = in_fresh_process("current", n)
        landed = in_fresh_process("landed", n)
        chosen = in_fresh_process("chosen", n)
        show(n, "current", current)
        show(n, "chosen", chosen, f"bandwidth ladder: {chosen['cpu'] / current['cpu']:.1f}x CPU")
        show(
            n,
            "landed",
            landed,
            f"CPU time {landed['cpu'] / current['cpu']:.1f}x, "
            f"memory {landed['peak_mb'] / max(current['peak_mb'], 1):.1f}x",
        )
    if million:
        show(million, "current", in_fresh_process("current", million))


# --- Threads: one against all ---------------------------------------------------------------


FIT_FIELDS = (
    "branching_ratio",
    "decay_days",
    "spatial_scale_m",
    "background_events",
    "iterations",
    "log_likelihood",
    "background_bandwidth_m",
    "intervals",
    "triggered_probability",
)


def same_fit(a, b) -> bool:
    return all(
        np.array_equal(getattr(a, f), getattr(b, f))
        if f == "triggered_probability"
        else getattr(a, f) == getattr(b, f)
        for f in FIT_FIELDS
    )


def _load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def thread_rows(sizes):
    """Knox (999 permutations) and the default contagion fit on 1 thread and on all."""
    most = max_threads()
    print(
        f"\nThreads: 1 against all {most} (numba's {most} cores); seconds as wall / CPU;"
        " speed-up = wall on 1 / wall on all; load average (1/5/15 min) before each row"
    )
    print(
        f"{'events':>9} {'kernel':<10} {'1 thread s':>13} {f'{most} threads s':>13} "
        f"{'speed-up':>9} {'per core':>9} {'identical':>10}  load"
    )
    x, y, t = events(500)
    knox_test(x, y, t, permutations=3)  # load the compiled loops before timing
    fit_contagion(x, y, t)
    for n in sizes:
        x, y, t = events(n)
        rounds = 2 if n <= 200_000 else 1
        kernels = {
            "knox 999": lambda k, x=x, y=y, t=t: knox_test(
                x, y, t, permutations=999, seed=1, threads=k
            ),
            "contagion": lambda k, x=x, y=y, t=t: fit_contagion(x, y, t, threads=k),
        }
        for name, run in kernels.items():
            load = _load()
            best = {1: (math.inf, math.inf), most: (math.inf, math.inf)}
            results = {}
            for _ in range(rounds):
                for k in (1, most):
                    wall, cpu = time.perf_counter(), time.process_time()
                    results[k] = run(k)
                    took = (time.perf_counter() - wall, time.process_time() - cpu)
                    best[k] = min(best[k], took)
            same = (
                results[1] == results[most]
                if name.startswith("knox")
                else same_fit(results[1], results[most])
            )
            speed_up = best[1][0] / best[most][0]
            print(
                f"{n:>9,} {name:<10} {best[1][0]:>6.2f} / {best[1][1]:<5.2f} "
                f"{best[most][0]:>6.2f} / {best[most][1]:<5.2f} {speed_up:>8.2f}x "
                f"{speed_up / most:>8.2f}x {'yes' if same else 'NO':>10}  {load}",
                flush=True,
            )


# --- Coverage of the intervals ----------------------------------------------------------------


COVERAGE_TRUTH = {"branching_ratio": 0.3, "decay_days": 10.0, "spatial_scale_m": 150.0}
# Expected background events per simulation: about 300, 2,000, 8,000 and 20,000 events.
COVERAGE_BACKGROUNDS = (200, 1400, 5600, 14000)


def coverage_simulation(background: int, seed: int):
    """Three years over a 15 km square; the background drawn around 4,000 uniform points
    with 300 m jitter (so it has structure of its own at the background's scale)."""
    return _simulated_city(np.random.default_rng(5000 + seed), background, 15_000, 3 * 365.0, 4000)


def coverage_rows(seeds: int, backgrounds=COVERAGE_BACKGROUNDS):
    """Coverage of the 90% intervals, the mean log bias of the estimates and the spread of
    the estimates over the intervals' standard errors, for the default fit (background
    bandwidth of largest likelihood) and for a fixed 300 m background bandwidth (the fit
    before the bandwidth was chosen). Coverage +- its binomial standard error."""
    print(
        f"\nCoverage of the 90% intervals over {seeds} simulations per size (target 85-95%);"
        " bias: mean log(estimate / truth); sd/se: spread of log estimates over the mean"
        " standard error the intervals imply (1: intervals as wide as the estimates vary)"
    )
    print(
        f"{'events':>7} {'background bandwidth':<21} "
        + " ".join(f"{name:>28}" for name in ("theta 0.3", "delay 10 d", "sigma 150 m"))
        + "  bandwidth  cpu s"
    )
    print(f"{'':>7} {'':<21} " + " ".join(f"{'cover     bias  sd/se':>28}" for _ in range(3)))
    for background in backgrounds:
        rows = {"chosen by likelihood": [], "fixed 300 m": []}
        sizes, cpu = [], {name: 0.0 for name in rows}
        for seed in range(seeds):
            x, y, t = coverage_simulation(background, seed)
            sizes.append(len(t))
            for name, bandwidth in (("chosen by likelihood", None), ("fixed 300 m", 300.0)):
                started = time.process_time()
                rows[name].append(fit_contagion(x, y, t, background_bandwidth_m=bandwidth))
                cpu[name] += time.process_time() - started
        for name, fits in rows.items():
            cells = []
            for param, truth in COVERAGE_TRUTH.items():
                held = [
                    bool(f.intervals.get(param))
                    and f.intervals[param].low <= truth <= f.intervals[param].high
                    for f in fits
                ]
                share = float(np.mean(held))
                error = math.sqrt(share * (1 - share) / len(fits))
                log_estimate = np.log([getattr(f, param) for f in fits])
                se = [
                    math.log(f.intervals[param].high / f.intervals[param].low) / (2 * 1.6449)
                    for f in fits
                    if param in f.intervals
                ]
                bias = float(np.mean(log_estimate) - math.log(truth))
                spread = float(np.std(log_estimate) / np.mean(se))
                cells.append(f"{share:>6.1%}±{error:>4.1%} {bias:>+6.3f} {spread:>5.2f}")
            bandwidths = np.array([f.background_bandwidth_m for f in fits])
            print(
                f"{np.mean(sizes):>7,.0f} {name:<21} "
                + " ".join(f"{c:>28}" for c in cells)
                + f"  {np.median(bandwidths):>6.0f} m {cpu[name]:>6.0f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,50000,100000")
    parser.add_argument("--million", type=int, default=1_000_000, help="0: skip")
    parser.add_argument("--coverage", type=int, default=100, help="seeds per size (0: skip)")
    parser.add_argument(
        "--coverage-sizes",
        default=",".join(map(str, COVERAGE_BACKGROUNDS)),
        help="expected background events per simulation, comma-separated",
    )
    parser.add_argument("--thread-sizes", default="100000,1000000")
    parser.add_argument(
        "--skip", default="", help="comma-separated: knox,contagion,coverage,threads"
    )
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_fit(args.one[0], int(args.one[1]))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    skip = set(args.skip.split(","))
    print("Shared machine: timings are noisy; compare within this run.")
    if "knox" not in skip:
        knox_rows(sizes)
    if "contagion" not in skip:
        contagion_rows(sizes, args.million)
    if "threads" not in skip:
        thread_rows([int(s) for s in args.thread_sizes.split(",")])
    if "coverage" not in skip and args.coverage:
        coverage_rows(args.coverage, [int(v) for v in args.coverage_sizes.split(",")])


if __name__ == "__main__":
    main()
