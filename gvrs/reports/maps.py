"""Maps of risk surfaces that need no tile server: a PNG (written with zlib, no imaging
library) and an interactive HTML page whose Plotly JavaScript is embedded from the installed
package (no CDN, so it opens on a network with no internet)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from gvrs.analysis.hotspots import Grid

# A perceptually ordered ramp (dark blue -> yellow), interpolated per pixel.
_RAMP = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=float
)


def _colour(values: np.ndarray) -> np.ndarray:
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    scaled = np.zeros_like(values) if top <= 0 else np.clip(values / top, 0, 1)
    position = scaled * (len(_RAMP) - 1)
    low = np.floor(position).astype(int).clip(0, len(_RAMP) - 2)
    frac = (position - low)[..., None]
    return (_RAMP[low] * (1 - frac) + _RAMP[low + 1] * frac).astype(np.uint8)


def write_png(surface: np.ndarray, path: Path, scale: int = 2) -> None:
    """North up: row 0 of ``surface`` is the southern edge, so rows are flipped."""
    rgb = _colour(np.flipud(surface))
    rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def write_html(
    surface: np.ndarray,
    grid: Grid,
    path: Path,
    *,
    title: str,
    crs: str,
    points: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    import plotly.graph_objects as go

    cx, cy = grid.centres()
    figure = go.Figure(
        go.Heatmap(z=surface, x=cx[0], y=cy[:, 0], colorscale="Viridis", colorbar={"title": "risk"})
    )
    if points is not None:
        figure.add_trace(
            go.Scattergl(
                x=points[0],
                y=points[1],
                mode="markers",
                marker={"size": 3, "color": "white", "opacity": 0.5},
                name="incidents",
            )
        )
    figure.update_layout(
        title=title, xaxis_title=f"x (m, {crs})", yaxis_title="y (m)", yaxis_scaleanchor="x"
    )
    figure.write_html(path, include_plotlyjs=True, full_html=True)


def write_map(
    surface: np.ndarray, grid: Grid, path: Path, *, title: str, crs: str, points=None
) -> None:
    if path.suffix.lower() == ".png":
        write_png(surface, path)
    elif path.suffix.lower() in (".html", ".htm"):
        write_html(surface, grid, path, title=title, crs=crs, points=points)
    else:
        raise ValueError(f"{path}: a map is written as .png or .html")
