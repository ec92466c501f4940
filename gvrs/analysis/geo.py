"""Coordinates in metres for space-time analysis.

Distances in metres need a projected CRS. Points already projected pass through; WGS84
longitude/latitude are projected to the UTM zone of their centre (pyproj), and the CRS used is
reported with every result so a figure can be reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projected:
    x_m: np.ndarray
    y_m: np.ndarray
    crs: str  # e.g. "EPSG:32611" or "as given (metres)"
    dropped: int  # points without coordinates, left out
    kept: np.ndarray  # boolean mask over the input: which points were kept


def project(x: np.ndarray, y: np.ndarray, *, wgs84: bool | None = None) -> Projected:
    """Project longitude ``x`` / latitude ``y`` (WGS84) to UTM metres, or pass metres through.

    ``wgs84=None`` decides from the values: all within longitude/latitude ranges means WGS84.
    Points with a missing coordinate are dropped and counted.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    kept = np.isfinite(x) & np.isfinite(y)
    xs, ys = x[kept], y[kept]
    if wgs84 is None:
        wgs84 = bool(len(xs)) and np.all(np.abs(xs) <= 180) and np.all(np.abs(ys) <= 90)
    if not wgs84 or not len(xs):
        return Projected(xs, ys, "as given (metres)", int((~kept).sum()), kept)
    from pyproj import CRS, Transformer
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    lon, lat = float(np.median(xs)), float(np.median(ys))
    info = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )[0]
    crs = CRS.from_epsg(int(info.code))
    transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    px, py = transformer.transform(xs, ys)
    return Projected(np.asarray(px), np.asarray(py), f"EPSG:{info.code}", int((~kept).sum()), kept)
