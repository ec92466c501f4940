"""The synthetic county's map: towns laid out on a projected plane (metres), each a grid of
named neighborhoods with populations, and the local projection to WGS84 for export.

The plane is a local equirectangular projection around ``ORIGIN`` (in the southern San
Joaquin Valley): over the county's ~60 km its distortion is under 0.1%, far below the
spatial scales simulated (hundreds of metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gvrs.data.simulate.scenarios import Scenario

ORIGIN = (35.30, -119.10)  # latitude, longitude of plane (0, 0)
METRES_PER_DEGREE = 111_320.0
TOWN_GAP_M = 8_000.0
TOWNS_PER_ROW = 4
_STREETS = (
    "Oak",
    "Union",
    "Chester",
    "Niles",
    "Ming",
    "Panama",
    "Brundage",
    "Hosking",
    "Olive",
    "Rosedale",
    "Stine",
    "Wible",
    "Columbus",
    "Edison",
    "Lake",
    "Baker",
)
_KINDS = ("Park", "Heights", "Grove", "Gardens", "Acres", "Terrace", "Village", "Flats")


def to_wgs84(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat0, lon0 = ORIGIN
    lat = lat0 + np.asarray(y_m) / METRES_PER_DEGREE
    lon = lon0 + np.asarray(x_m) / (METRES_PER_DEGREE * math.cos(math.radians(lat0)))
    return lat, lon


@dataclass(frozen=True)
class Geography:
    """Neighborhoods, one row each: id, town, name, x0, y0, x1, y1 (metres), population,
    risk (relative background rate per resident)."""

    neighborhoods: pd.DataFrame

    def geojson(self) -> dict:
        features = []
        for n in self.neighborhoods.itertuples(index=False):
            lat0, lon0 = to_wgs84(n.x0, n.y0)
            lat1, lon1 = to_wgs84(n.x1, n.y1)
            ring = [
                [float(lon0), float(lat0)],
                [float(lon1), float(lat0)],
                [float(lon1), float(lat1)],
                [float(lon0), float(lat1)],
                [float(lon0), float(lat0)],
            ]
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "id": int(n.id),
                        "name": n.name,
                        "town": n.town,
                        "population": int(n.population),
                        "x0_m": n.x0,
                        "y0_m": n.y0,
                        "x1_m": n.x1,
                        "y1_m": n.y1,
                    },
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
        return {"type": "FeatureCollection", "features": features}


def build_geography(scenario: Scenario, rng: np.random.Generator) -> Geography:
    """Towns side by side along x, ``TOWNS_PER_ROW`` to a row (so a county of many towns is
    a block that a map can frame, not a strip); neighborhoods share the town's residents
    unevenly (lognormal weights) and carry a lognormal risk, so a few neighborhoods hold most
    shootings, as in real cities."""
    rows = []
    x_offset = y_offset = row_height = 0.0
    used: set[str] = set()
    for index, town in enumerate(scenario.towns):
        nx, ny = town.grid
        if index and index % TOWNS_PER_ROW == 0:
            x_offset, y_offset = 0.0, y_offset + row_height + TOWN_GAP_M
            row_height = 0.0
        row_height = max(row_height, ny * town.cell_m)
        weights = rng.lognormal(0.0, 0.5, size=nx * ny)
        weights /= weights.sum()
        risks = rng.lognormal(0.0, 0.7, size=nx * ny) * town.risk
        for k in range(nx * ny):
            i, j = divmod(k, ny)
            name = _name(rng, used)
            rows.append(
                {
                    "id": len(rows),
                    "town": town.name,
                    "name": name,
                    "x0": x_offset + i * town.cell_m,
                    "y0": y_offset + j * town.cell_m,
                    "x1": x_offset + (i + 1) * town.cell_m,
                    "y1": y_offset + (j + 1) * town.cell_m,
                    "population": round(town.population * weights[k]),
                    "risk": float(risks[k]),
                }
            )
        x_offset += nx * town.cell_m + TOWN_GAP_M
    return Geography(pd.DataFrame(rows))


def _name(rng: np.random.Generator, used: set[str]) -> str:
    while True:
        name = f"{_STREETS[rng.integers(len(_STREETS))]} {_KINDS[rng.integers(len(_KINDS))]}"
        if name not in used:
            used.add(name)
            return name
        name = f"{name} {len(used)}"
        if name not in used:
            used.add(name)
            return name
