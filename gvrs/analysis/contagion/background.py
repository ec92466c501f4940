"""The background: a piecewise-constant rate in time times a spatial density (a
leave-one-out kernel density, or a step function over areas)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, parallel_chunksize, prange

from gvrs.analysis.hotspots import grid_counts


@dataclass(frozen=True)
class Background:
    """nu h(t) f(x, y) at the events: a piecewise-constant rate in time (one expected count
    ``mass[k]`` per bin of ``width_days[k]``) times a spatial density (per m^2) that the fit
    holds fixed while it measures the curvature of the likelihood."""

    spatial: np.ndarray  # f at each event, per m^2 (leave-one-out kernel density)
    bin_of_event: np.ndarray  # time bin of each event
    width_days: np.ndarray  # per bin
    mass: np.ndarray  # expected background events per bin; sums to nu

    def intensity(self) -> np.ndarray:
        return (self.mass / self.width_days)[self.bin_of_event] * self.spatial


def _time_bins(t, t_end, bin_days):
    """Bins of ``bin_days`` from the first event; the last one ends with the data (it may be
    shorter: a bin reaching past the data would halve its rate)."""
    edges = np.r_[np.arange(0.0, t_end, bin_days), t_end]
    return edges, np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(edges) - 2)


@njit(cache=True, parallel=True)
def _separable_blur(counts, g):
    """``counts`` correlated with ``g`` down the columns, then along the rows, zero beyond
    the edges (scipy.ndimage.correlate1d's mode "constant", twice). Rows are shared among
    threads; every cell sums its taps in one order, so the result is the same on any number
    of threads."""
    rows, cols = counts.shape
    taps = len(g)
    reach = (taps - 1) // 2
    down = np.zeros_like(counts)
    out = np.zeros_like(counts)
    for r in prange(rows):
        for k in range(max(0, reach - r), min(taps, rows - r + reach)):
            w = g[k]
            src = r + k - reach
            for c in range(cols):
                down[r, c] += w * counts[src, c]
    for r in prange(rows):
        for k in range(taps):
            w = g[k]
            shift = k - reach
            for c in range(max(0, -shift), min(cols, cols - shift)):
                out[r, c] += w * down[r, c + shift]
    return out


def _spatial_density(grid, x, y, weights, bandwidth_m, cell):
    """Background spatial density (per m^2) at each event, leaving the event's own kernel
    out. The binned Gaussian kernel is separable, so it is applied as two 1-D passes (the
    same sums as `hotspots.kernel_density`'s 2-D FFT, several times faster on large grids)."""
    reach = max(1, math.ceil(4 * bandwidth_m / grid.cell_m))
    g = np.exp(-0.5 * (np.arange(-reach, reach + 1) * grid.cell_m / bandwidth_m) ** 2)
    g /= g.sum()
    counts = grid_counts(grid, x, y, weights)
    with parallel_chunksize(8):  # rows handed out 8 at a time
        dens = _separable_blur(np.ascontiguousarray(counts, dtype=np.float64), g)
    at = dens[cell] / grid.cell_m**2
    centre = g[reach] ** 2 / grid.cell_m**2  # the event's own kernel at its own cell
    loo = np.maximum(at - weights * centre, 1e-15)
    return loo / max(weights.sum(), 1e-12)


def _area_density(turf, weights, fallback):
    """Background spatial density as a step function over the areas: each area's weighted
    share of background events (leaving the event's own weight out) over its size; events
    with no area keep the kernel density ``fallback``."""
    area = turf.area
    known = area >= 0
    per_area = np.bincount(area[known], weights=weights[known], minlength=len(turf.area_m2))
    total = per_area.sum()
    a = np.maximum(area, 0)
    own = np.where(known, weights, 0.0)
    loo = np.maximum(per_area[a] - own, 1e-9) / np.maximum(total - own, 1e-12)
    return np.where(known, loo / turf.area_m2[a], fallback)
