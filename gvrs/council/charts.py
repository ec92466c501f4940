"""Charts and maps for the report as SVG (Matplotlib): vector graphics that print sharp in the
PDF and scale in the browser. Text is drawn as outlines, so the picture is the same wherever
it is opened, with no font to find."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit
import matplotlib.pyplot as plt
from matplotlib.collections import PatchCollection
from matplotlib.patches import Polygon

INK = "#1f2a44"
ACCENT = "#b22222"
MUTED = "#8a93a6"
SUPPRESSED_GREY = "#d5d9e0"


def _svg(figure) -> str:
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "path", "svg.hashsalt": "gvrs"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    return buffer.getvalue()


def annual_chart(
    years: list[int], counts: list[int], *, highlight: int, unit: str, title: str
) -> str:
    """Counts by year, the report's year in the accent colour and the record labelled."""
    figure, axes = plt.subplots(figsize=(7.2, 2.9), layout="constrained")
    colours = [ACCENT if y == highlight else MUTED for y in years]
    axes.bar(years, counts, color=colours, width=0.8)
    top = max(counts) if counts else 0
    if counts:
        tied = [y for y, c in zip(years, counts, strict=True) if c == top]
        record_year = tied[-1]
        axes.annotate(
            f"record {top:,} ({', '.join(map(str, tied))})",
            xy=(record_year, top),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color=INK,
        )
    axes.set_ylim(0, max(top, 1) * 1.18)
    axes.set_ylabel(unit, fontsize=8)
    axes.set_title(title, fontsize=9, loc="left", color=INK)
    axes.tick_params(labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    axes.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=12))
    return _svg(figure)


def _rings(geometry: dict) -> list[list]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]] if geometry.get("coordinates") else []
    if geometry.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in geometry.get("coordinates", []) if polygon]
    return []


def _label_largest(axes, areas, squeeze: float, limit: int = 10) -> None:
    """Name the ``limit`` largest areas at the centre of their largest ring, skipping a name
    whose box would overlap one already placed (the table beside the map names them all)."""
    from matplotlib import patheffects

    placed = []
    for name, geometry, _ in areas:
        for ring in _rings(geometry):
            xs = [p[0] for p in ring]
            ys = [p[1] for p in ring]
            size = (
                abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(ring))))
                / 2
                * squeeze
            )
            placed.append((size, name, (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
    placed.sort(key=lambda t: (-t[0], t[1]))
    figure = axes.figure
    figure.canvas.draw()  # text extents need a renderer
    renderer = figure.canvas.get_renderer()
    boxes, named = [], set()
    for _, name, x, y in placed:
        if name in named or len(named) >= limit:
            continue
        text = axes.text(
            x,
            y,
            name,
            fontsize=6,
            ha="center",
            va="center",
            color=INK,
            path_effects=[patheffects.withStroke(linewidth=2, foreground="white")],
        )
        box = text.get_window_extent(renderer)
        if any(box.overlaps(other) for other in boxes):
            text.remove()
            continue
        boxes.append(box)
        named.add(name)


def area_map(areas: list[tuple[str, dict, int | None]], *, unit: str, title: str) -> str:
    """A choropleth of areas: ``(name, GeoJSON geometry, count or None when suppressed)``.
    Suppressed areas are grey and say so in the legend; the colour scale is in ``unit``, in
    whole numbers. The figure takes the shape of the areas' extent, north up."""
    import math

    rings = [(ring, count) for _, geometry, count in areas for ring in _rings(geometry)]
    xs = [p[0] for ring, _ in rings for p in ring]
    ys = [p[1] for ring, _ in rings for p in ring]
    # Degrees of longitude are shorter than degrees of latitude away from the equator.
    squeeze = max(math.cos(math.radians((min(ys) + max(ys)) / 2)), 0.1) if ys else 1.0
    width = (max(xs) - min(xs)) * squeeze if xs else 1.0
    height = (max(ys) - min(ys)) if ys else 1.0
    aspect = min(max(height / max(width, 1e-9), 0.35), 1.4)
    figure, axes = plt.subplots(figsize=(7.2, 1.2 + 6.0 * aspect), layout="constrained")
    shown = [n for _, _, n in areas if n is not None]
    top = max([1, *shown])
    cmap = matplotlib.colormaps["Reds"]
    norm = matplotlib.colors.Normalize(vmin=0, vmax=top)
    patches = [Polygon([(p[0], p[1]) for p in ring], closed=True) for ring, _ in rings]
    colours = [SUPPRESSED_GREY if n is None else cmap(0.05 + 0.9 * norm(n)) for _, n in rings]
    axes.add_collection(
        PatchCollection(patches, facecolors=colours, edgecolors="#5b6577", linewidths=0.4)
    )
    if xs:
        # Framed on the areas' extent, with a small margin: nothing cut, nothing wasted.
        pad_x, pad_y = (max(xs) - min(xs)) * 0.02, (max(ys) - min(ys)) * 0.02
        axes.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
        axes.set_ylim(min(ys) - pad_y, max(ys) + pad_y)
    axes.set_aspect(1 / squeeze)
    _label_largest(axes, areas, squeeze)
    axes.set_xticks([])
    axes.set_yticks([])
    for side in axes.spines.values():
        side.set_visible(False)
    mappable = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = figure.colorbar(mappable, ax=axes, shrink=0.6, pad=0.02, aspect=25)
    bar.set_label(unit, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    bar.ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=6))
    if any(n is None for _, _, n in areas):
        handle = matplotlib.patches.Patch(
            facecolor=SUPPRESSED_GREY, edgecolor="#5b6577", label="suppressed (small count)"
        )
        axes.legend(
            handles=[handle],
            loc="upper left",
            bbox_to_anchor=(0, -0.01),
            fontsize=7,
            frameon=False,
        )
    axes.annotate("N ↑", xy=(1.0, 1.0), xycoords="axes fraction", ha="right", fontsize=8)
    axes.set_title(title, fontsize=9, loc="left", color=INK)
    return _svg(figure)
