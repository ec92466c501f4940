"""What the overview dashboard shows, computed from the statistics engine: headline tiles,
the annual trend with its record, monthly and weekly counts, the projection, and the map.

Charts are Plotly figures turned into plain JSON here; the page draws them with our own
static script (no inline JavaScript, so a strict Content-Security-Policy holds).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from django.db.models import Count

from gvrs.analysis.counts import CountSeries, SeriesError, compare_periods, count_in, counts_by
from gvrs.analysis.history import rank_in_history
from gvrs.analysis.narrative import EVIDENCE_THRESHOLD, projection_sentence
from gvrs.analysis.periods import Period, same_window_last_year, year_to_date
from gvrs.analysis.projection import project_year_end
from gvrs.data.metrics import Metric
from gvrs.incidents.models import Area, Incident, Jurisdiction
from gvrs.reports.labels import source_title
from gvrs.reports.series import all_series, metric_filter

KEY_METRICS = ("homicides", "shootings", "shooting_incidents", "nonfatal_shootings")
MAP_POINTS = 5_000


@dataclass
class Tile:
    metric: Metric
    source: str
    headline: str  # e.g. "31 so far in 2024"
    count: int | None
    direction: str  # "up" | "down" | "flat"
    sentences: list[str] = field(default_factory=list)
    history: str = ""
    coverage: str = ""  # "data through 2025-01-26, 10 months ago"


def _figure_json(figure: go.Figure) -> dict:
    return json.loads(figure.to_json())


def tile_for(metric: Metric, series: CountSeries, baseline_year: int | None) -> Tile:
    """Year to date against the same window last year and in the baseline year (daily
    series), or the latest year against the one before and the baseline (annual series)."""
    sentences = []
    if series.resolution == "day":
        as_of = series.last
        now = year_to_date(as_of)
        before = same_window_last_year(now)
        comparisons = [before]
        if baseline_year and baseline_year < before.start.year:
            comparisons.append(year_to_date(as_of, baseline_year))
        latest: Period = now
    else:
        annual = series.counts
        year = int(annual.index.max())
        latest = Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))
        comparisons = [Period(dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31), str(year - 1))]
        if baseline_year and baseline_year < year - 1:
            comparisons.append(
                Period(
                    dt.date(baseline_year, 1, 1), dt.date(baseline_year, 12, 31), str(baseline_year)
                )
            )
    count = count_in(series, latest)
    direction = "flat"
    for other in comparisons:
        try:
            change = compare_periods(series, latest, other)
        except SeriesError:
            continue
        sentences.append(change.sentence)
        # Colour says "this moved beyond ordinary variation": a change the exact test cannot
        # tell from noise stays uncoloured, whichever way it went.
        if other is comparisons[0] and change.p_value < EVIDENCE_THRESHOLD:
            direction = "down" if change.change < 0 else "up" if change.change > 0 else "flat"
    history = ""
    annual = series.annual()
    if len(annual) > 1:
        year = int(annual.index.max())
        history = f"{year}: {annual.loc[year]:,}, {rank_in_history(annual, year).phrase}"
    if series.resolution != "day":
        headline = f"{count:,} in {latest.label}"
    elif series.last == dt.date(latest.start.year, 12, 31):
        headline = f"{count:,} in {latest.start.year}"
    elif series.year_is_over(latest.start.year):
        # The year is over (or the data hold all of it): a window of it is not "so far".
        headline = f"{count:,} in {latest.start.year} to {series.last:%d %b}"
    else:
        headline = f"{count:,} so far in {latest.start.year} (to {series.last:%d %b})"
    return Tile(
        metric,
        source_title(series.source),
        headline,
        count,
        direction,
        sentences,
        history,
        series.coverage(),
    )


def annual_figure(metric: Metric, all_of_them: list[CountSeries]) -> dict:
    figure = go.Figure()
    for series in all_of_them:
        annual = series.annual()
        if annual.empty:
            continue
        name = source_title(series.source)
        figure.add_trace(
            go.Scatter(
                x=[int(y) for y in annual.index],
                y=annual.to_list(),
                mode="lines+markers",
                name=name,
                hovertemplate="%{x}: %{y:,}<extra></extra>",
            )
        )
        top = int(annual.idxmax())
        figure.add_trace(
            go.Scatter(
                x=[top],
                y=[int(annual.max())],
                mode="markers+text",
                text=[f"record {annual.max():,} ({top})"],
                textposition="top center",
                cliponaxis=False,  # the label sits above the highest point: never cut off
                marker={"symbol": "star", "size": 14},
                name=f"record ({name})",
                hoverinfo="skip",
            )
        )
    top_count = max((int(s.annual().max()) for s in all_of_them if not s.annual().empty), default=0)
    coverage = "; ".join(s.coverage() for s in all_of_them)
    figure.update_layout(
        title={"text": f"{metric.label} by year (complete years; {coverage})", "font_size": 13},
        margin={"t": 50, "l": 50, "r": 20},
        # Years on a number line: Plotly spaces the labels so they never overlap.
        xaxis={"tickformat": "d", "nticks": 12},
        yaxis={"range": [0, max(top_count, 1) * 1.18], "tickformat": ",d"},
        legend_orientation="h",
    )
    return _figure_json(figure)


def recent_figure(metric: Metric, series: CountSeries, freq: str, periods: int) -> dict:
    rows = counts_by(series, freq)[-periods:]
    figure = go.Figure(
        go.Bar(
            x=[r.period.label + ("" if r.complete else " (partial)") for r in rows],
            y=[r.count for r in rows],
            name=metric.label,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [r.ci_high - r.count for r in rows],
                "arrayminus": [r.count - r.ci_low for r in rows],
                "thickness": 1,
            },
        )
    )
    figure.update_layout(
        title={
            "text": f"{metric.label} by {freq} (95% exact intervals; {series.coverage()})",
            "font_size": 13,
        },
        margin={"t": 40, "l": 40, "r": 10},
        yaxis_rangemode="tozero",
        xaxis_type="category",
    )
    return _figure_json(figure)


# Metres per degree: a degree of latitude is at least 110,574 m (at the equator) and a degree
# of longitude 111,320 m x cos(latitude); dividing by these lower bounds makes every cell at
# least ``cell_m`` on each side.
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0
MIN_CELL_M = 250


def grid_cells(lon: np.ndarray, lat: np.ndarray, cell_m: float) -> pd.DataFrame:
    """Count points per grid cell of at least ``cell_m`` a side; one row per occupied cell
    with its centre (``lon``, ``lat``) and ``n``.

    The grid is fixed on the globe, not fitted to the data, so a cell's centre says nothing
    about where in the cell its incidents lie: rows are ``cell_m / 110,574`` degrees of
    latitude apart from the equator; each row is cut into columns of ``cell_m / (111,320
    cos φ)`` degrees of longitude, φ being the row's poleward edge (the row's narrowest).
    """
    lat_step = cell_m / _M_PER_DEG_LAT
    row = np.floor(lat / lat_step)
    poleward = np.maximum(np.abs(row), np.abs(row + 1)) * lat_step
    lon_step = cell_m / (_M_PER_DEG_LON_EQUATOR * np.cos(np.radians(np.minimum(poleward, 89.0))))
    col = np.floor(lon / lon_step)
    cells = (
        pd.DataFrame({"row": row, "col": col, "lon_step": lon_step})
        .groupby(["row", "col"], as_index=False)
        .agg(n=("lon_step", "size"), lon_step=("lon_step", "first"))
    )
    cells["lat"] = (cells["row"] + 0.5) * lat_step
    cells["lon"] = (cells["col"] + 0.5) * cells["lon_step"]
    return cells[["lon", "lat", "n"]]


def suppress_small(counts: dict, threshold: int) -> set:
    """Keys whose counts are hidden: those under ``threshold`` and, when exactly one is, the
    next smallest too (complementary suppression), so the total does not reveal it."""
    hidden = {key for key, n in counts.items() if 0 < n < threshold}
    if len(hidden) == 1:
        others = sorted((n, str(key), key) for key, n in counts.items() if key not in hidden)
        if others:
            hidden.add(others[0][2])
    return hidden


def map_figure(
    metric: Metric,
    jurisdiction: Jurisdiction,
    area: Area | None,
    since: dt.date,
    until: dt.date,
    *,
    exact: bool = False,
) -> tuple[dict, int, int, str]:
    """Incidents on plain WGS84 axes (equal aspect, no tile server) over the area outlines.
    SVG markers, not WebGL: the map must draw on machines without a GPU.

    ``exact`` (roles with ``incidents.view_restricted_fields``): each incident's point. Other
    roles get counts per grid cell (``GVRS_MAP_CELL_M``, at least 250 m) with cells under
    ``GVRS_SUPPRESS_BELOW`` left out, and area counts with small ones suppressed: never a
    point, a date or a coordinate finer than a cell.
    Returns (figure, incidents selected, incidents drawn, the note under the map).
    """
    from django.conf import settings

    threshold = settings.GVRS_SUPPRESS_BELOW
    qs = Incident.objects.filter(
        metric_filter(metric),
        jurisdiction_id__in=jurisdiction.descendant_ids(),
        occurred_on__gte=since,
        occurred_on__lte=until,
    )
    if area is not None:
        qs = qs.filter(area=area)
    total = qs.count()
    figure = go.Figure()
    counts = dict(
        qs.exclude(area__isnull=True)
        .values("area")
        .annotate(n=Count("id"))
        .values_list("area", "n")
    )
    hidden = set() if exact else suppress_small(counts, threshold)
    outlines = list(
        Area.objects.filter(
            jurisdiction_id__in=jurisdiction.descendant_ids(), boundary__isnull=False
        )[:1000]
    )
    top = max((n for key, n in counts.items() if key not in hidden), default=0)
    for outline in outlines:
        # A choropleth drawn as filled polygons on the same plain axes: no tile server and no
        # topojson download, so it works offline and under a strict CSP.
        n = counts.get(outline.pk, 0)
        shown_n = 0 if outline.pk in hidden else n
        label = f"{outline.name}: suppressed" if outline.pk in hidden else f"{outline.name}: {n}"
        shade = 0.08 + 0.6 * (shown_n / top if top else 0)
        for ring in _outer_rings(outline.boundary):
            xs, ys = zip(*ring, strict=True)
            figure.add_trace(
                go.Scatter(
                    x=list(xs),
                    y=list(ys),
                    mode="lines",
                    fill="toself",
                    fillcolor=f"rgba(166, 58, 43, {shade:.2f})",
                    line={"width": 1, "color": "#8a94a6"},
                    hoverinfo="text",
                    text=label,
                    showlegend=False,
                )
            )
    located = qs.filter(latitude__isnull=False, longitude__isnull=False)
    if exact:
        rows = list(
            located.order_by("-occurred_on").values_list(
                "longitude", "latitude", "occurred_on", "kind"
            )[:MAP_POINTS]
        )
        frame = pd.DataFrame(rows, columns=["lon", "lat", "day", "kind"])
        for kind, group in frame.groupby("kind"):
            figure.add_trace(
                go.Scatter(
                    x=group["lon"],
                    y=group["lat"],
                    mode="markers",
                    name=kind.replace("_", " "),
                    marker={"size": 5, "opacity": 0.6},
                    text=group["day"].astype(str),
                    hoverinfo="text+name",
                )
            )
        shown = len(frame)
        note = (
            f"{shown:,} of {total:,} incidents shown"
            + (" (most recent first)" if shown < total else "")
            + "; incidents without coordinates are not on the map."
        )
    else:
        cell_m = max(MIN_CELL_M, settings.GVRS_MAP_CELL_M)
        points = np.array(list(located.values_list("longitude", "latitude")), dtype=float)
        cells = grid_cells(points[:, 0], points[:, 1], cell_m) if len(points) else None
        if cells is not None:
            cells = cells[cells["n"] >= threshold]
        shown = 0 if cells is None else int(cells["n"].sum())
        if shown:
            figure.add_trace(
                go.Scatter(
                    x=cells["lon"].round(6),
                    y=cells["lat"].round(6),
                    mode="markers",
                    name=f"incidents per {cell_m:,} m cell",
                    marker={
                        "symbol": "square",
                        "size": (6 + 14 * np.sqrt(cells["n"] / cells["n"].max())).round(1),
                        "color": "#a63a2b",
                        "opacity": 0.7,
                    },
                    text=[f"{n:,} incidents in this cell" for n in cells["n"]],
                    hoverinfo="text",
                )
            )
        note = (
            f"{total:,} incidents; counts per cell of {cell_m:,} m, cells with fewer than "
            f"{threshold} incidents left out and small area counts suppressed. Exact "
            "locations are shown only to roles allowed to see restricted fields."
        )
    figure.update_layout(
        title=f"{metric.label}: incidents {since} to {until}",
        margin={"t": 40, "l": 10, "r": 10},
        xaxis_visible=False,
        yaxis={"visible": False, "scaleanchor": "x"},
        legend_orientation="h",
    )
    return _figure_json(figure), total, shown, note


def _outer_rings(geometry: dict | None) -> list[list]:
    """The outer ring of each polygon of a GeoJSON Polygon or MultiPolygon."""
    if not geometry:
        return []
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]] if geometry.get("coordinates") else []
    if geometry.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in geometry.get("coordinates", []) if polygon]
    return []


@dataclass
class Dashboard:
    jurisdiction: Jurisdiction
    metric: Metric
    area: Area | None
    since: dt.date | None
    until: dt.date | None
    tiles: list[Tile]
    series: list[CountSeries]
    figures: dict[str, dict]
    projection: str | None
    map_note: str


def build(
    jurisdiction: Jurisdiction,
    metric: Metric,
    metrics: dict[str, Metric],
    *,
    area: Area | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    exact_locations: bool = False,
) -> Dashboard:
    """``exact_locations``: the map shows incident points (roles allowed restricted fields);
    otherwise suppressed counts per cell and area."""
    baseline = jurisdiction.baseline_year
    tiles = []
    for name in KEY_METRICS:
        found = all_series(metrics[name], jurisdiction, area=area, as_of=until)
        if found:
            tiles.append(tile_for(metrics[name], found[0], baseline))
    chosen = all_series(metric, jurisdiction, area=area, as_of=until)
    figures: dict[str, dict] = {}
    projection = None
    map_note = ""
    if chosen:
        figures["annual"] = annual_figure(metric, chosen)
        daily = next((s for s in chosen if s.resolution == "day"), None)
        if daily is not None:
            figures["monthly"] = recent_figure(metric, daily, "month", 36)
            figures["weekly"] = recent_figure(metric, daily, "week", 52)
            if daily.year_is_over(daily.last.year):
                projection = f"No projection: {daily.last.year} is over ({daily.coverage()})."
            else:
                try:
                    projection = projection_sentence(
                        metric.label, project_year_end(daily.counts, daily.last)
                    )
                    projection = f"{projection[:-1]} ({daily.coverage()})."
                except ValueError as exc:
                    projection = f"No projection: {exc}."
            end = until or daily.last
            start = since or end - dt.timedelta(days=365)
            figures["map"], _, _, map_note = map_figure(
                metric, jurisdiction, area, start, end, exact=exact_locations
            )
    return Dashboard(
        jurisdiction, metric, area, since, until, tiles, chosen, figures, projection, map_note
    )
