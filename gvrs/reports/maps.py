"""Maps of risk surfaces written by the command line, readable by someone who did not run the
command: a title saying what and from when, a colour scale with its unit, and a scale bar.

- PNG (Matplotlib, 1,200 px wide): the surface on the projected plane, north up, with the
  incidents if given, a labelled colour bar and a scale bar in metres or kilometres.
- HTML: a MapLibre map (inside the Plotly bundle, embedded in the file, so it opens on a network
  with no internet): the surface as an image on its true place on the globe, on streets when
  ``GVRS_MAP_TILES`` names a tile source and a plain background otherwise.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import numpy as np

from gvrs.analysis.hotspots import Grid

WIDTH_PX = 1200


def _nice_length(span_m: float) -> float:
    """A round length near a fifth of ``span_m`` (1, 2 or 5 times a power of ten)."""
    target = max(span_m / 5, 1.0)
    power = 10 ** math.floor(math.log10(target))
    return max(step * power for step in (1, 2, 5) if step * power <= target)


def _length_label(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def write_png(
    surface: np.ndarray,
    grid: Grid,
    path: Path,
    *,
    title: str,
    subtitle: str,
    unit: str,
    crs: str,
    points: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """``surface[row, col]``: row 0 is the southern edge of ``grid``."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    x0, y0 = grid.x0, grid.y0
    x1, y1 = x0 + grid.nx * grid.cell_m, y0 + grid.ny * grid.cell_m
    aspect = (y1 - y0) / max(x1 - x0, 1.0)
    figure, axes = plt.subplots(figsize=(12, max(5.0, min(12.0, 10.5 * aspect + 1.5))), dpi=100)
    image = axes.imshow(
        np.ma.masked_invalid(surface),
        origin="lower",
        extent=(x0, x1, y0, y1),
        cmap="viridis",
        interpolation="nearest",
    )
    if points is not None and len(points[0]):
        axes.scatter(
            points[0],
            points[1],
            s=4,
            c="white",
            alpha=0.5,
            linewidths=0,
            label="incidents in those days",
        )
        axes.legend(loc="upper right", framealpha=0.8, fontsize=11)
    bar = figure.colorbar(image, ax=axes, shrink=0.85, pad=0.02)
    bar.set_label(unit, fontsize=12)
    bar.ax.tick_params(labelsize=11)
    length = _nice_length(x1 - x0)
    axes.add_artist(
        AnchoredSizeBar(
            axes.transData,
            length,
            _length_label(length),
            "lower left",
            pad=0.6,
            color="white",
            frameon=False,
            size_vertical=(y1 - y0) / 150,
            label_top=True,
            fontproperties={"size": 12},
        )
    )
    axes.annotate(
        "N ↑", xy=(0.97, 0.04), xycoords="axes fraction", ha="right", color="white", fontsize=13
    )
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_title(f"{title}\n{subtitle}", fontsize=14, loc="left")
    axes.set_xlabel(f"cells of {grid.cell_m:g} m; coordinates in {crs}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=WIDTH_PX / figure.get_size_inches()[0], format="png")
    plt.close(figure)


def _surface_image(surface: np.ndarray) -> tuple[str, float]:
    """The surface as a PNG data URI (north up, transparent where zero) and its top value."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import colormaps

    top = float(np.nanmax(surface)) if np.isfinite(surface).any() else 0.0
    scaled = np.zeros_like(surface) if top <= 0 else np.clip(surface / top, 0, 1)
    rgba = colormaps["viridis"](np.flipud(scaled))
    rgba[..., 3] = np.where(np.flipud(scaled) > 0.01, 0.75, 0.0)
    buffer = io.BytesIO()
    import matplotlib.pyplot as plt

    plt.imsave(buffer, rgba, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(), top


def _points_image(grid: Grid, x: np.ndarray, y: np.ndarray, size_px: int = 1600) -> str:
    """Dots at the points, as a PNG data URI covering exactly the grid (north up)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = size_px / max(grid.nx, grid.ny)
    width, height = max(1, round(grid.nx * scale)), max(1, round(grid.ny * scale))
    rgba = np.zeros((height, width, 4))
    cols = np.floor((x - grid.x0) / grid.cell_m * scale).astype(int)
    rows = np.floor((grid.y0 + grid.ny * grid.cell_m - y) / grid.cell_m * scale).astype(int)
    radius = 3
    for dr in range(-radius, radius + 1):
        for dc in range(-radius, radius + 1):
            if dr * dr + dc * dc > radius * radius:
                continue
            r, c = rows + dr, cols + dc
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            rgba[r[inside], c[inside]] = (0.84, 0.15, 0.16, 0.9)
    buffer = io.BytesIO()
    plt.imsave(buffer, rgba, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def write_html(
    surface: np.ndarray,
    grid: Grid,
    path: Path,
    *,
    title: str,
    subtitle: str,
    unit: str,
    crs: str,
    points: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    import plotly.graph_objects as go
    from pyproj import Transformer

    from gvrs.reports.areamap import map_style

    if not crs.upper().startswith("EPSG:"):
        raise ValueError(f"an HTML map needs coordinates on the globe; these are {crs}")
    to_globe = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x0, y0 = grid.x0, grid.y0
    x1, y1 = x0 + grid.nx * grid.cell_m, y0 + grid.ny * grid.cell_m
    # MapLibre places an image by its corners: top left, top right, bottom right, bottom left.
    corners = [to_globe.transform(x, y) for x, y in ((x0, y1), (x1, y1), (x1, y0), (x0, y0))]
    source, top = _surface_image(surface)
    images = [source]
    if points is not None and len(points[0]):
        # The incidents as red dots in an image layer of their own, not a scatter trace: a
        # trace is drawn by MapLibre's worker, which Chromium does not start for a page opened
        # from a file, and this map is a file.
        images.append(_points_image(grid, np.asarray(points[0]), np.asarray(points[1])))
        subtitle = f"{subtitle}; red dots: the incidents of those days"
    lons = [c[0] for c in corners]
    lats = [c[1] for c in corners]
    centre = {"lon": sum(lons) / 4, "lat": sum(lats) / 4}
    span = max(max(lons) - min(lons), (max(lats) - min(lats)) * 1.6, 1e-3)
    zoom = max(1.0, min(15.0, math.log2(360 / span) + 1.0))
    figure = go.Figure()
    # The image layer carries no colour scale: an invisible trace draws the legend and its unit.
    figure.add_trace(
        go.Scattermap(
            lon=[centre["lon"]],
            lat=[centre["lat"]],
            mode="markers",
            marker={
                "size": 0,
                "opacity": 0,
                "color": [0, top],
                "colorscale": "Viridis",
                "cmin": 0,
                "cmax": top,
                "showscale": True,
                "colorbar": {"title": {"text": unit, "side": "right"}},
            },
            hoverinfo="skip",
            showlegend=False,
        )
    )
    figure.update_layout(
        title={"text": f"{title}<br><sup>{subtitle}</sup>"},
        map={
            "style": map_style(),
            "center": centre,
            "zoom": zoom,
            "layers": [
                {
                    "sourcetype": "image",
                    "source": image,
                    "coordinates": [list(c) for c in corners],
                    "below": "traces",
                }
                for image in images
            ],
        },
        height=800,
        margin={"t": 70, "l": 10, "r": 10, "b": 10},
    )
    figure.write_html(path, include_plotlyjs=True, full_html=True)


def write_map(
    surface: np.ndarray,
    grid: Grid,
    path: Path,
    *,
    title: str,
    crs: str,
    subtitle: str = "",
    unit: str = "",
    points=None,
) -> None:
    options = {"title": title, "subtitle": subtitle, "unit": unit, "crs": crs, "points": points}
    if path.suffix.lower() == ".png":
        write_png(surface, grid, path, **options)
    elif path.suffix.lower() in (".html", ".htm"):
        write_html(surface, grid, path, **options)
    else:
        raise ValueError(f"{path}: a map is written as .png or .html")
