"""The Knox space-time test, as analysts know it from the Near Repeat Calculator.

Pairs of events close in space are counted by time apart; under no space-time interaction the
times are exchangeable, so permuting them gives the reference distribution (Knox 1964;
Ratcliffe 2009, Near Repeat Calculator). Pairs within the largest spatial band are found once
with a k-d tree; each permutation then only re-reads their time differences, so a run costs
O(pairs x permutations), never O(n^2). The permutation loop is compiled (numba) and runs on
every core (``threads``): each permutation shuffles the times in place with a generator
seeded for that permutation alone and counts the close pairs in one pass, so the tables are
the same whichever thread draws which permutation, on any number of threads. The
numpy loop it replaced is kept (``method="numpy"``) as the reference it is tested against;
both draw the same permutations, so the same seed gives the same table either way.

Band edges (``band_edges``), for space and time alike, with bands 100,200,400 m:

- ``"left"`` (default), [lower, upper): a pair 100 m apart falls in 100-200 m, a pair 7 days
  apart in 7-14 days. This is what Ratcliffe's Near Repeat Calculator counts; it labels the
  same bands "Same location", "1 to 100 meters", "101 to 200 meters", ... "More than 400
  meters" and, with time bands 7,14,21, "0 to 7 days", "8 to 14 days", "15 to 21 days", "More
  than 21 days", yet puts a pair exactly 7 days apart under "8 to 14 days" (Steenbeek's and
  Davies's replications): its "8 to 14 days" holds pairs 7 to 13 whole days apart.
- ``"right"``, (lower, upper] with 0 in the first band: a pair 100 m apart falls in 0-100 m.
  the convention of gvrs's first Knox tables.

The two agree wherever no pair lies exactly on an edge; with dates but no times many do (at
50,000 events, thousands of pairs are exactly 7 days apart), so say which one a table used.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit, parallel_chunksize, prange, uint64
from scipy.spatial import cKDTree

from gvrs.analysis.parallel import using_threads

BAND_EDGES = ("left", "right")


class KnoxError(ValueError):
    """Bands that make no sense or too few events to test."""


@dataclass(frozen=True)
class KnoxCell:
    space_from_m: float
    space_to_m: float  # inf in the "more than" row
    time_from_days: float
    time_to_days: float  # inf in the "more than" column
    observed: int
    expected: float
    knox_ratio: float
    p_value: float


@dataclass(frozen=True)
class KnoxResult:
    cells: tuple[KnoxCell, ...]  # space bands x time bands, row by row
    n_events: int
    n_close_pairs: int  # pairs within the largest space band (any time apart)
    permutations: int
    seed: int
    metric: str  # "euclidean" or "manhattan"
    band_edges: str = "left"  # "left": [lower, upper); "right": (lower, upper]
    # The Near Repeat Calculator's "More than" row and column: every other pair of events,
    # (space bands + 1) x (time bands + 1) cells with the bands' cells left out.
    outer_cells: tuple[KnoxCell, ...] = ()

    def table(self) -> pd.DataFrame:
        """Knox ratios, space bands down, time bands across, with a '*' where p < 0.05."""
        frame = pd.DataFrame([c.__dict__ for c in self.cells])
        frame["space"] = [
            _interval(a, b, "m", self.band_edges)
            for a, b in zip(frame.space_from_m, frame.space_to_m, strict=True)
        ]
        frame["time"] = [
            _interval(a, b, "days", self.band_edges)
            for a, b in zip(frame.time_from_days, frame.time_to_days, strict=True)
        ]
        frame["shown"] = [
            f"{r:.2f}{'*' if p < 0.05 else ''}"
            for r, p in zip(frame.knox_ratio, frame.p_value, strict=True)
        ]
        return frame.pivot(index="space", columns="time", values="shown").loc[
            frame["space"].unique(), frame["time"].unique()
        ]

    def nrc_tables(self) -> dict[str, pd.DataFrame]:
        """The Near Repeat Calculator's two tables, "Observed over mean expected frequencies"
        and "Statistical significance", with its row and column labels and its "More than"
        row and column (see the module docstring for what the labels count)."""
        every = {(c.space_from_m, c.time_from_days): c for c in (*self.cells, *self.outer_cells)}
        space = sorted({c.space_from_m for c in every.values()})
        time = sorted({c.time_from_days for c in every.values()})
        rows = [_nrc_label(c, "meters", space=True) for c in _band_cells(every, space, time[0])]
        cols = [_nrc_label(c, "days", space=False) for c in _band_cells(every, space[0], time)]
        ratio = [[every[(s, t)].knox_ratio for t in time] for s in space]
        p = [[every[(s, t)].p_value for t in time] for s in space]
        return {
            "Observed over mean expected frequencies": pd.DataFrame(ratio, rows, cols),
            "Statistical significance": pd.DataFrame(p, rows, cols),
        }

    def nrc_legend(self) -> list[tuple[str, str]]:
        """(the calculator's label, the interval this result counted under it) per band."""
        every = (*self.cells, *self.outer_cells)
        space = sorted({(c.space_from_m, c.space_to_m) for c in every})
        time = sorted({(c.time_from_days, c.time_to_days) for c in every})
        cell = {(c.space_from_m, c.time_from_days): c for c in every}
        first_t, first_s = time[0][0], space[0][0]
        return [
            (
                _nrc_label(cell[(a, first_t)], "meters", space=True),
                _interval(a, b, "m", self.band_edges),
            )
            for a, b in space
        ] + [
            (
                _nrc_label(cell[(first_s, a)], "days", space=False),
                _interval(a, b, "days", self.band_edges),
            )
            for a, b in time
        ]


def _band_cells(every, space, time):
    if isinstance(space, list):
        return [every[(s, time)] for s in space]
    return [every[(space, t)] for t in time]


def _interval(low: float, high: float, unit: str, edges: str) -> str:
    if np.isinf(high):
        return f"{'[' if edges == 'left' else '('}{low:g}, inf) {unit}"
    if edges == "left":
        return f"[{low:g}, {high:g}) {unit}"
    return f"{'[' if low == 0 else '('}{low:g}, {high:g}] {unit}"


def _nrc_label(cell: KnoxCell, unit: str, space: bool) -> str:
    """The calculator's own labels: "Same location", "1 to 100 meters", "101 to 200 meters",
    "More than 400 meters"; "0 to 7 days", "8 to 14 days", "More than 21 days"."""
    low, high = (
        (cell.space_from_m, cell.space_to_m) if space else (cell.time_from_days, cell.time_to_days)
    )
    if np.isinf(high):
        return f"More than {low:g} {unit}"
    if space and low == 0 and high <= 1:
        return "Same location"
    # Whole units from the lower edge up: "1 to 100 meters" after "Same location",
    # "101 to 200 meters" after it; "0 to 7 days", then "8 to 14 days".
    first = low if low == 0 or (space and low == 1) else low + 1
    return f"{first:g} to {high:g} {unit}"


def _check_bands(bands, what: str) -> np.ndarray:
    edges = np.asarray(bands, dtype=float)
    if edges.ndim != 1 or len(edges) == 0:
        raise KnoxError(f"give at least one {what} band")
    if np.any(edges <= 0) or np.any(np.diff(edges) <= 0) or not np.all(np.isfinite(edges)):
        raise KnoxError(f"{what} bands must be positive and increasing, got {list(bands)}")
    return edges


def close_pairs(x: np.ndarray, y: np.ndarray, radius: float, metric: str = "euclidean"):
    """(i, j, distance) for every pair within ``radius`` (i < j), via a k-d tree."""
    p = 2.0 if metric == "euclidean" else 1.0
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(radius, p=p, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    if metric == "euclidean":
        d = np.hypot(x[i] - x[j], y[i] - y[j])
    else:
        d = np.abs(x[i] - x[j]) + np.abs(y[i] - y[j])
    return i, j, d


def band_index(values: np.ndarray, edges: np.ndarray, band_edges: str = "right") -> np.ndarray:
    """0-based band of each value; len(edges) when beyond the last band.

    "right": [0, e0], (e0, e1], ...; "left": [0, e0), [e0, e1), ...
    """
    return np.searchsorted(edges, values, side="left" if band_edges == "right" else "right")


def pairs_by_time_band(t: np.ndarray, edges: np.ndarray, band_edges: str) -> np.ndarray:
    """Pairs of events (all of them, whatever the distance) in each time band and beyond the
    last, from the sorted times in O(n log n). Permuting times does not change these counts."""
    ts = np.sort(np.asarray(t, dtype=float))
    n = len(ts)
    below = []  # pairs closer in time than each edge ("left") or no farther ("right")
    side = "right" if band_edges == "left" else "left"
    for edge in edges:
        first = np.searchsorted(ts, ts - edge, side=side)
        below.append(int((np.arange(n) - first).sum()))
    cumulative = np.array([*below, n * (n - 1) // 2])
    return np.diff(np.r_[0, cumulative])


@njit(cache=True)
def _shuffle(values, seed):
    """Fisher-Yates shuffle in place. The generator is xorshift64* (Vigna 2016) started from
    splitmix64(seed): one seed per permutation, so a permutation does not depend on the thread
    or the order it runs in. The modulo's bias is below n / 2^64."""
    z = uint64(seed) + uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    state = z ^ (z >> uint64(31))
    if state == 0:
        state = uint64(1)
    for k in range(len(values) - 1, 0, -1):
        state ^= state >> uint64(12)
        state ^= state << uint64(25)
        state ^= state >> uint64(27)
        m = np.int64((state * uint64(0x2545F4914F6CDD1D)) % uint64(k + 1))
        values[k], values[m] = values[m], values[k]


@njit(cache=True)
def _permuted(t, seed):
    """The times shuffled for one seed (the numpy reference path counts them itself)."""
    out = t.copy()
    _shuffle(out, seed)
    return out


@njit(cache=True)
def _count_left(tp, i, j, space_band, time_edges, row):
    n_time = len(time_edges)
    last = time_edges[n_time - 1]
    for q in range(len(i)):
        dt = abs(tp[i[q]] - tp[j[q]])
        if dt >= last:  # most pairs, under permutation
            continue
        k = 0
        while dt >= time_edges[k]:
            k += 1
        row[space_band[q] * n_time + k] += 1


@njit(cache=True)
def _count_right(tp, i, j, space_band, time_edges, row):
    n_time = len(time_edges)
    last = time_edges[n_time - 1]
    for q in range(len(i)):
        dt = abs(tp[i[q]] - tp[j[q]])
        if dt > last:
            continue
        k = 0
        while dt > time_edges[k]:
            k += 1
        row[space_band[q] * n_time + k] += 1


@njit(cache=True, parallel=True)
def _permutation_tables(t, seeds, i, j, space_band, time_edges, left, n_cells, runs):
    """For each seed: shuffle the times, then one pass over the close pairs, adding each to
    its (space band, time band) cell. Shape (len(seeds), n_cells).

    The permutations are split into ``runs`` runs of consecutive seeds, each with its own
    copy of the times, handed to the threads one at a time (a thread slowed by another
    program on its core then takes fewer); row p depends on seeds[p] alone, so the table is
    the same on any number of threads."""
    n_perm = len(seeds)
    out = np.zeros((n_perm, n_cells), dtype=np.int64)
    runs = max(1, min(runs, n_perm))
    for r in prange(runs):
        tp = np.empty_like(t)
        for p in range(r * n_perm // runs, (r + 1) * n_perm // runs):
            tp[:] = t
            _shuffle(tp, seeds[p])
            if left:
                _count_left(tp, i, j, space_band, time_edges, out[p])
            else:
                _count_right(tp, i, j, space_band, time_edges, out[p])
    return out


def knox_test(
    x_m: np.ndarray,
    y_m: np.ndarray,
    t_days: np.ndarray,
    *,
    space_bands_m=(100, 200, 400),
    time_bands_days=(7, 14, 28),
    permutations: int = 999,
    seed: int = 0,
    metric: str = "euclidean",
    band_edges: str = "left",
    method: str = "compiled",
    workers: int = 2,
    threads: int | None = None,
) -> KnoxResult:
    """Knox test over space bands x time bands with a Monte Carlo p-value per cell.

    Parameters
    ----------
    x_m, y_m : array of float
        Projected coordinates in metres (see ``gvrs.analysis.geo.project``).
    t_days : array of float
        Event times in days from any origin.
    space_bands_m, time_bands_days : sequence of float
        Upper band edges, increasing; bands start at 0.
    permutations : int
        Monte Carlo permutations of the event times (999 by default).
    seed : int
        Seed of the permutations; the same seed gives the same p-values.
    metric : {"euclidean", "manhattan"}
        Distance between two events.
    band_edges : {"left", "right"}
        "left" (default): bands are [lower, upper), the Near Repeat Calculator's counting;
        "right": (lower, upper] with 0 in the first band. See the module docstring.
    method : {"compiled", "numpy"}
        The compiled one-pass loop, or the numpy reference (same permutations, same answer).
    workers : int
        Threads for the numpy reference.
    threads : int, optional
        Threads for the compiled loop; default every core (`gvrs.analysis.parallel`). The
        result does not depend on it.

    Returns
    -------
    KnoxResult
        One cell per (space band, time band) with observed and expected pair counts, the Knox
        ratio (observed / expected) and p = (1 + #permutations >= observed) / (1 + permutations);
        the same for the "More than" row and column in ``outer_cells``.

    Notes
    -----
    Knox (1964); Johnson et al. (2007) and Ratcliffe's Near Repeat Calculator for the
    permutation approach and the banded table.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y, t = rng.uniform(0, 5000, 300), rng.uniform(0, 5000, 300), rng.uniform(0, 365, 300)
    >>> result = knox_test(x, y, t, permutations=99, seed=1)
    >>> len(result.cells), len(result.outer_cells)
    (9, 7)
    """
    if metric not in ("euclidean", "manhattan"):
        raise KnoxError(f"unknown distance {metric!r}; use euclidean or manhattan")
    if band_edges not in BAND_EDGES:
        raise KnoxError(f"unknown band edges {band_edges!r}; use left or right")
    if method not in ("compiled", "numpy"):
        raise KnoxError(f"unknown method {method!r}; use compiled or numpy")
    space = _check_bands(space_bands_m, "space")
    time = _check_bands(time_bands_days, "time")
    x, y, t = (np.asarray(a, dtype=float) for a in (x_m, y_m, t_days))
    n = len(t)
    if n < 3:
        raise KnoxError(f"the Knox test needs at least 3 events with coordinates, got {n}")
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(t).all()):
        raise KnoxError("coordinates and times must be finite numbers")
    if permutations < 1:
        raise KnoxError("permutations must be at least 1")
    i, j, d = close_pairs(x, y, space[-1], metric)
    s_band = band_index(d, space, band_edges)
    close = s_band < len(space)  # "left" leaves out pairs exactly at the largest distance
    # Unsigned indices: the compiled loop then skips the check for negative indices.
    i, j, s_band = i[close].astype(np.uint32), j[close].astype(np.uint32), s_band[close]
    n_space, n_time = len(space), len(time)
    cells = n_space * n_time
    # One 32-bit seed per permutation, drawn from the user's seed.
    seeds = np.random.SeedSequence(seed).generate_state(permutations, dtype=np.uint32)

    def table(times: np.ndarray) -> np.ndarray:
        k = band_index(np.abs(times[i] - times[j]), time, band_edges)
        inside = k < n_time
        return np.bincount(s_band[inside] * n_time + k[inside], minlength=cells)

    observed = table(t)
    if method == "compiled":
        with using_threads(threads) as count, parallel_chunksize(1):
            simulated = _permutation_tables(
                t,
                seeds,
                i,
                j,
                s_band.astype(np.uint8 if n_space < 256 else np.uint32),
                time,
                band_edges == "left",
                cells,
                1 if count == 1 else 8 * count,
            )
    else:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            simulated = np.array(list(pool.map(lambda s: table(_permuted(t, s)), seeds)))
    # The "More than" row and column follow from margins that permutations leave alone:
    # pairs per space band (locations do not move) and pairs per time band over all pairs
    # (the times are only reassigned). Tables (space + 1) x (time + 1), last row/col outer.
    per_space = np.bincount(s_band, minlength=n_space)
    per_time = pairs_by_time_band(t, time, band_edges)

    def full(inner: np.ndarray) -> np.ndarray:
        inner = inner.reshape(-1, n_space, n_time)
        out = np.empty((len(inner), n_space + 1, n_time + 1), dtype=np.int64)
        out[:, :n_space, :n_time] = inner
        out[:, :n_space, n_time] = per_space - inner.sum(axis=2)
        out[:, n_space, :] = per_time - out[:, :n_space, :].sum(axis=1)
        return out

    observed_full = full(observed)[0]
    simulated_full = full(simulated)
    expected = simulated_full.mean(axis=0)
    p_values = (1 + (simulated_full >= observed_full).sum(axis=0)) / (1 + permutations)
    lower_s, upper_s = np.r_[0.0, space], np.r_[space, np.inf]
    lower_t, upper_t = np.r_[0.0, time], np.r_[time, np.inf]
    inner_cells, outer = [], []
    for a in range(n_space + 1):
        for b in range(n_time + 1):
            e = expected[a, b]
            cell = KnoxCell(
                float(lower_s[a]),
                float(upper_s[a]),
                float(lower_t[b]),
                float(upper_t[b]),
                int(observed_full[a, b]),
                float(e),
                float(observed_full[a, b] / e) if e > 0 else float("nan"),
                float(p_values[a, b]),
            )
            (inner_cells if a < n_space and b < n_time else outer).append(cell)
    return KnoxResult(
        tuple(inner_cells),
        n,
        int(close.sum()),
        permutations,
        seed,
        metric,
        band_edges,
        tuple(outer),
    )
