"""The map's grid: cells of at least a given size, fixed on the globe.

Readers who may not read locations see incidents counted per cell, never a point; a cell's
centre is the only coordinate they are sent, and it says nothing finer than the cell about
where its incidents lie.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Metres per degree: a degree of latitude is at least 110,574 m (at the equator) and a degree
# of longitude 111,320 m x cos(latitude); dividing by these lower bounds makes every cell at
# least ``cell_m`` on each side.
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


def grid_index(lon: np.ndarray, lat: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Each point's grid cell as (row, column) of a grid of cells at least ``cell_m`` a side.

    The grid is fixed on the globe, not fitted to the data, so a cell's centre says nothing
    about where in the cell its incidents lie: rows are ``cell_m / 110,574`` degrees of
    latitude apart from the equator; each row is cut into columns of ``cell_m / (111,320
    cos φ)`` degrees of longitude, φ being the row's poleward edge (the row's narrowest).
    """
    lat_step = cell_m / _M_PER_DEG_LAT
    row = np.floor(np.asarray(lat, dtype=float) / lat_step)
    col = np.floor(np.asarray(lon, dtype=float) / _lon_step(row, cell_m))
    return row, col


def _lon_step(row: np.ndarray, cell_m: float) -> np.ndarray:
    lat_step = cell_m / _M_PER_DEG_LAT
    poleward = np.maximum(np.abs(row), np.abs(row + 1)) * lat_step
    return cell_m / (_M_PER_DEG_LON_EQUATOR * np.cos(np.radians(np.minimum(poleward, 89.0))))


def cell_centres(row: np.ndarray, col: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """The centres (lon, lat) of grid cells given as rows and columns (``grid_index``)."""
    row = np.asarray(row, dtype=float)
    lat = (row + 0.5) * (cell_m / _M_PER_DEG_LAT)
    lon = (np.asarray(col, dtype=float) + 0.5) * _lon_step(row, cell_m)
    return lon, lat


def grid_cells(lon: np.ndarray, lat: np.ndarray, cell_m: float) -> pd.DataFrame:
    """Count points per grid cell of at least ``cell_m`` a side (``grid_index``); one row
    per occupied cell with its centre (``lon``, ``lat``) and ``n``."""
    row, col = grid_index(lon, lat, cell_m)
    cells = (
        pd.DataFrame({"row": row, "col": col})
        .groupby(["row", "col"], as_index=False)
        .size()
        .rename(columns={"size": "n"})
    )
    cells["lon"], cells["lat"] = cell_centres(cells["row"], cells["col"], cell_m)
    return cells[["lon", "lat", "n"]]
