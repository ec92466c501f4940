"""Candidate (parent, child) pairs inside the triggering truncation, found by a compiled
sweep over events binned in space and sorted by time within each cell."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, parallel_chunksize, prange


@dataclass(frozen=True)
class CandidatePairs:
    """Every (parent, child) with 0 < child time - parent time <= max lag and distance <= max
    distance, grouped by child: the pairs of event i are ``offsets[i]:offsets[i + 1]``."""

    offsets: np.ndarray  # int64, n + 1
    lag_days: np.ndarray  # float32, one per pair
    distance2_m2: np.ndarray  # float32, squared distance, one per pair
    parent: np.ndarray | None = None  # int32 parent index, only when asked for

    def __len__(self) -> int:
        return len(self.lag_days)

    def child(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))


@njit(cache=True)
def _first_at_least(a, lo, hi, value):
    """The first index in a[lo:hi] (sorted) whose value is >= ``value``; hi if none."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, parallel=True)
def _sweep(x, y, t, cx, cy, ncx, keys, starts, ends, sx, sy, st, si, d2max, lag_max, out):
    """Count the candidate parents of every child (``out`` holds empty arrays) or write them
    into ``out`` = (offsets, lags, squared distances, parents or an empty array).

    Events are binned in square cells as wide as the maximum distance, so every candidate
    parent of event i lies in the 3 x 3 cells around i's; within a cell events are sorted by
    time, so the parents in the time window are one contiguous run found by binary search.
    Children are shared among threads; each writes only its own slots, in a fixed order.
    """
    n = len(x)
    counts = np.zeros(n, dtype=np.int64)
    offsets, lag_out, d2_out, parent_out = out
    fill = len(offsets) > 0
    keep_parent = len(parent_out) > 0
    for i in prange(n):
        pos = offsets[i] if fill else 0
        count = 0
        for dy in range(-1, 2):
            for dx in range(-1, 2):
                key = (cy[i] + dy) * ncx + cx[i] + dx
                u = _first_at_least(keys, 0, len(keys), key)
                if u == len(keys) or keys[u] != key:
                    continue
                s, e = starts[u], ends[u]
                lo = _first_at_least(st, s, e, t[i] - lag_max)
                hi = _first_at_least(st, lo, e, t[i])  # strictly earlier
                for j in range(lo, hi):
                    ddx = sx[j] - x[i]
                    ddy = sy[j] - y[i]
                    d2 = ddx * ddx + ddy * ddy
                    if d2 <= d2max:
                        if fill:
                            lag_out[pos] = t[i] - st[j]
                            d2_out[pos] = d2
                            if keep_parent:
                                parent_out[pos] = si[j]
                            pos += 1
                        count += 1
        counts[i] = count
    return counts


def candidate_pairs(
    x_m: np.ndarray,
    y_m: np.ndarray,
    t_days: np.ndarray,
    max_distance_m: float,
    max_lag_days: float,
    *,
    with_parent: bool = False,
) -> CandidatePairs:
    """Candidate (parent, child) pairs within ``max_distance_m`` and ``max_lag_days``.

    Two passes of the same compiled sweep: the first counts each child's parents, the second
    writes them into arrays of exactly that size, so no pair outside the window is ever held.

    Examples
    --------
    >>> p = candidate_pairs(np.array([0.0, 50.0, 5000.0]), np.zeros(3),
    ...                     np.array([0.0, 3.0, 4.0]), 1000.0, 60.0)
    >>> p.offsets.tolist(), p.lag_days.tolist(), p.distance2_m2.tolist()
    ([0, 0, 1, 1], [3.0], [2500.0])
    """
    x, y, t = (np.ascontiguousarray(a, dtype=np.float64) for a in (x_m, y_m, t_days))
    n = len(t)
    # Cells shifted by one so that the neighbours of every cell have non-negative keys.
    cx = np.floor((x - x.min()) / max_distance_m).astype(np.int64) + 1
    cy = np.floor((y - y.min()) / max_distance_m).astype(np.int64) + 1
    ncx = int(cx.max()) + 2
    key = cy * ncx + cx
    order = np.lexsort((t, key))  # by cell, then time
    skey = key[order]
    keys, starts = np.unique(skey, return_index=True)
    ends = np.r_[starts[1:], n]
    args = (x, y, t, cx, cy, ncx, keys, starts, ends, x[order], y[order], t[order], order)
    limits = (float(max_distance_m) ** 2, float(max_lag_days))
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float32)
    with parallel_chunksize(1024):  # children handed out 1,024 at a time
        counts = _sweep(*args, *limits, (empty_i, empty_f, empty_f, np.zeros(0, np.int32)))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    lag = np.empty(total, dtype=np.float32)
    d2 = np.empty(total, dtype=np.float32)
    parent = np.empty(total if with_parent else 0, dtype=np.int32)
    with parallel_chunksize(1024):
        _sweep(*args, *limits, (offsets, lag, d2, parent))
    return CandidatePairs(offsets, lag, d2, parent if with_parent else None)
