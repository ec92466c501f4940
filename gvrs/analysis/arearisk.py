"""A risk surface summed over named areas, for alerts that speak of areas, not grid cells.

Areas are taken as the Voronoi cells of the shootings recorded in them: each grid cell goes
to the area of the nearest recorded shooting. That needs no boundary file (most police
exports name a beat or neighbourhood and give a point, not the polygon) and is exact wherever
an area's shootings lie nearer to its own cells than any other area's; near a border a cell
may go to the neighbour, which moves a little expected risk between adjacent areas and none
out of the total.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gvrs.analysis.hotspots import Grid


def expected_by_area(
    surface: np.ndarray,
    grid: Grid,
    x_m: np.ndarray,
    y_m: np.ndarray,
    areas: Sequence[str],
    *,
    max_distance_m: float = 2_000.0,
) -> dict[str, float]:
    """Expected shootings per area: the surface's cells summed by the area of the nearest
    shooting.

    Parameters
    ----------
    surface : array (ny, nx)
        Expected shootings per cell (``gvrs.analysis.contagion.risk_surface``).
    grid : Grid
        The surface's grid.
    x_m, y_m : array of float
        Shootings' projected coordinates, in metres.
    areas : sequence of str
        The area of each shooting ("" where unknown: such points are left out).
    max_distance_m : float
        Cells farther than this from every shooting belong to no area (open country).

    Returns
    -------
    dict of area name to expected shootings over the surface's horizon.

    Notes
    -----
    Nearest-neighbour assignment with a k-d tree (scipy.spatial.cKDTree), O(cells log n).

    Examples
    --------
    >>> grid = Grid(0.0, 0.0, 100.0, 4, 1)
    >>> surface = np.array([[0.1, 0.2, 0.3, 0.4]])
    >>> out = expected_by_area(surface, grid, np.array([50.0, 350.0]), np.array([50.0, 50.0]),
    ...                        ["West", "East"])
    >>> {k: round(v, 2) for k, v in out.items()}
    {'East': 0.7, 'West': 0.3}
    """
    from scipy.spatial import cKDTree

    labels = np.asarray(areas, dtype=object)
    x_m, y_m = np.asarray(x_m, dtype=float), np.asarray(y_m, dtype=float)
    if not (len(labels) == len(x_m) == len(y_m)):
        raise ValueError("x_m, y_m and areas must have one entry per shooting")
    if surface.shape != grid.shape:
        raise ValueError(f"surface has shape {surface.shape}, the grid {grid.shape}")
    named = labels != ""
    if not named.any():
        return {}
    tree = cKDTree(np.column_stack([x_m[named], y_m[named]]))
    cx, cy = grid.centres()
    distance, nearest = tree.query(np.column_stack([cx.ravel(), cy.ravel()]))
    near = distance <= max_distance_m
    owner = labels[named][nearest[near]]
    values = surface.ravel()[near]
    out: dict[str, float] = {}
    for name in np.unique(owner):
        out[str(name)] = float(values[owner == name].sum())
    return out
