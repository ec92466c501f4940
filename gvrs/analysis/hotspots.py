"""Hot spots on a grid: counts, kernel density, prospective hot-spotting, and how well a map
predicted next week's shootings (hit rate, PAI, PEI on rolling-origin holdouts).

Densities are computed by binning the points on the grid and convolving with the kernel by
FFT: O(n + cells log cells) instead of the O(n x cells) of a direct kernel sum, so a million
points on a 500 x 500 grid take well under a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import fftconvolve


@dataclass(frozen=True)
class Grid:
    """Square cells of ``cell_m`` metres; cell (row r, column c) spans
    [x0 + c*cell, x0 + (c+1)*cell) x [y0 + r*cell, y0 + (r+1)*cell)."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int

    @classmethod
    def around(cls, x: np.ndarray, y: np.ndarray, cell_m: float, pad_m: float = 0.0) -> Grid:
        if cell_m <= 0:
            raise ValueError(f"cell size must be positive, got {cell_m}")
        if len(x) == 0:
            raise ValueError("no points to build a grid around")
        x0, y0 = float(np.min(x)) - pad_m, float(np.min(y)) - pad_m
        nx = max(1, math.ceil((float(np.max(x)) + pad_m - x0) / cell_m + 1e-9))
        ny = max(1, math.ceil((float(np.max(y)) + pad_m - y0) / cell_m + 1e-9))
        return cls(x0, y0, float(cell_m), nx, ny)

    @property
    def shape(self) -> tuple[int, int]:
        return self.ny, self.nx

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell_m
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, column, and whether the point falls on the grid."""
        col = np.floor((np.asarray(x) - self.x0) / self.cell_m).astype(np.int64)
        row = np.floor((np.asarray(y) - self.y0) / self.cell_m).astype(np.int64)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return row, col, inside


def grid_counts(
    grid: Grid, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Events per cell, shape (ny, nx); points off the grid are ignored."""
    row, col, inside = grid.cell_of(x, y)
    w = None if weights is None else np.asarray(weights, dtype=float)[inside]
    flat = np.bincount(row[inside] * grid.nx + col[inside], weights=w, minlength=grid.nx * grid.ny)
    return flat.reshape(grid.shape).astype(float)


def _convolve(counts: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    out = fftconvolve(counts, kernel, mode="same")
    return np.clip(out, 0.0, None)  # FFT round-off leaves tiny negatives


def kernel_density(
    grid: Grid, x: np.ndarray, y: np.ndarray, bandwidth_m: float, weights: np.ndarray | None = None
) -> np.ndarray:
    """Gaussian kernel density at every cell centre, in events per square kilometre.

    Parameters
    ----------
    grid : Grid
    x, y : array of float
        Projected coordinates in metres.
    bandwidth_m : float
        Standard deviation of the Gaussian kernel.
    weights : array of float, optional

    Returns
    -------
    numpy.ndarray
        Shape (ny, nx). Integrates (sums x cell area) to the number of events up to the
        kernel mass that falls off the grid.

    Notes
    -----
    Binned kernel density estimation (Silverman 1982; Wand 1994): points are assigned to
    their cell and the counts convolved with the kernel sampled on the grid, truncated at
    4 bandwidths. The error against a direct sum is of the order of cell / bandwidth.

    Examples
    --------
    >>> g = Grid(0, 0, 50.0, 40, 40)
    >>> d = kernel_density(g, np.array([1000.0]), np.array([1000.0]), bandwidth_m=200)
    >>> round(float(d.sum() * (50 / 1000) ** 2), 3)
    1.0
    """
    if bandwidth_m <= 0:
        raise ValueError(f"bandwidth must be positive, got {bandwidth_m}")
    counts = grid_counts(grid, x, y, weights)
    reach = max(1, math.ceil(4 * bandwidth_m / grid.cell_m))
    offsets = np.arange(-reach, reach + 1) * grid.cell_m
    gauss = np.exp(-0.5 * (offsets / bandwidth_m) ** 2)
    kernel = np.outer(gauss, gauss)
    kernel /= kernel.sum()
    per_cell = _convolve(counts, kernel)
    return per_cell / (grid.cell_m / 1000.0) ** 2


def prospective_surface(
    grid: Grid,
    x: np.ndarray,
    y: np.ndarray,
    t_days: np.ndarray,
    now_days: float,
    *,
    bandwidth_m: float = 400.0,
    window_days: float = 56.0,
) -> np.ndarray:
    """Prospective hot-spotting risk at ``now_days`` (Bowers, Johnson & Pease 2004).

    Each event of the last ``window_days`` within ``bandwidth_m`` of a cell adds
    1 / (1 + distance in cells) x 1 / (1 + weeks ago): recent, near events count most.
    """
    t = np.asarray(t_days, dtype=float)
    recent = (t <= now_days) & (t > now_days - window_days)
    weeks = np.floor((now_days - t[recent]) / 7.0).astype(int)
    reach = max(1, math.ceil(bandwidth_m / grid.cell_m))
    offsets = np.arange(-reach, reach + 1)
    dist = np.hypot(*np.meshgrid(offsets, offsets))
    kernel = np.where(dist * grid.cell_m <= bandwidth_m, 1.0 / (1.0 + dist), 0.0)
    surface = np.zeros(grid.shape)
    xr, yr = np.asarray(x)[recent], np.asarray(y)[recent]
    for week in np.unique(weeks):
        mask = weeks == week
        surface += _convolve(grid_counts(grid, xr[mask], yr[mask]), kernel) / (1.0 + week)
    return surface


@dataclass(frozen=True)
class HitScore:
    coverage: float  # share of the area flagged
    cells_flagged: int
    events: int
    hits: int
    hit_rate: float
    pai: float  # hit rate / area share (Chainey, Tompson & Uhlig 2008)
    pei: float  # hits / the most any same-size set of cells could have caught (Hunt 2016)


def score(surface: np.ndarray, actual: np.ndarray, coverage: float) -> HitScore:
    """How many of ``actual`` events (counts per cell) fell in the ``coverage`` share of cells
    that ``surface`` ranks highest. Ties are broken by cell order, so a flat surface is not
    credited with luck."""
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}")
    flat_risk, flat_actual = surface.ravel(), actual.ravel()
    n_cells = flat_risk.size
    k = max(1, round(coverage * n_cells))
    order = np.argsort(-flat_risk, kind="stable")[:k]
    hits = int(flat_actual[order].sum())
    total = int(flat_actual.sum())
    best = int(np.sort(flat_actual)[::-1][:k].sum())
    hit_rate = hits / total if total else float("nan")
    area = k / n_cells
    return HitScore(
        k / n_cells,
        k,
        total,
        hits,
        hit_rate,
        hit_rate / area if total else float("nan"),
        hits / best if best else float("nan"),
    )


def rolling_origin(
    grid: Grid,
    x: np.ndarray,
    y: np.ndarray,
    t_days: np.ndarray,
    *,
    method: str = "kde",
    first_origin_days: float,
    last_origin_days: float,
    step_days: float = 7.0,
    train_days: float = 365.0,
    bandwidth_m: float = 200.0,
    coverage: float = 0.05,
) -> pd.DataFrame:
    """Fit on events before each origin, score the next ``step_days``; one row per origin.

    ``method`` is "kde" (kernel density of the last ``train_days``), "prospective" (Bowers &
    Johnson, last 8 weeks) or "counts" (last ``train_days`` counts per cell).
    """
    t = np.asarray(t_days, dtype=float)
    rows = []
    for origin in np.arange(first_origin_days, last_origin_days + 1e-9, step_days):
        train = (t < origin) & (t >= origin - train_days)
        test = (t >= origin) & (t < origin + step_days)
        if method == "kde":
            surface = kernel_density(grid, x[train], y[train], bandwidth_m)
        elif method == "prospective":
            surface = prospective_surface(grid, x, y, t, origin - 1e-9, bandwidth_m=bandwidth_m)
        elif method == "counts":
            surface = grid_counts(grid, x[train], y[train])
        else:
            raise ValueError(f"unknown method {method!r}; use kde, prospective or counts")
        result = score(surface, grid_counts(grid, x[test], y[test]), coverage)
        rows.append({"origin_days": float(origin), **result.__dict__})
    return pd.DataFrame(rows)
