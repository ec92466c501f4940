"""The dashboard's map and the ranked table of areas beside it.

The map is a Plotly tile-based map (MapLibre, inside the Plotly bundle already served): with a
tile source configured (``GVRS_MAP_TILES``) it draws on streets; with none (offline, the
default) it draws the areas' own boundaries on a plain background. Either way it has a title
saying what and when, a colour scale with its unit, and the areas' names on hover.

What it may show depends on what the reader may read (``gvrs.reports.protected``, the
disclosure policy of docs/disclosure.md): roles allowed restricted fields see each incident's
point; roles that may read incident records but not locations see exact counts per area and,
for the latest whole calendar year, perturbed counts per grid cell of at least 250 m, drawn
from the map's minimum up; roles that may read neither see the same cells and perturbed
counts per area over whole months. Never a point or a coordinate finer than a cell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from django.conf import settings
from django.db.models import Q

from gvrs.analysis.disclosure import Audience, Policy
from gvrs.analysis.inference import compare_counts
from gvrs.analysis.narrative import EVIDENCE_THRESHOLD, format_p
from gvrs.data.metrics import Metric
from gvrs.incidents.models import Area, Incident, Jurisdiction
from gvrs.reports.grid import grid_cells
from gvrs.reports.protected import (
    EXACT,
    PERTURBED,
    MonthlyFigures,
    before_window,
    cell_figures,
    closed_year,
)
from gvrs.reports.series import count_expression, incident_source, metric_filter

MAP_POINTS = 5_000
MIN_CELL_M = 250
# Boundaries are drawn at about 10 m: finer vertices add page weight and nothing visible.
_BOUNDARY_DECIMALS = 4
_COLOURS = [[0.0, "#fbe9e4"], [0.5, "#e08a6f"], [1.0, "#8c2a17"]]


@dataclass(frozen=True)
class AreaRow:
    """One area in the ranked table (``suppressed``: its counts are not shown)."""

    name: str
    count: int | None
    before: int | None  # the same number of days just before
    change_pct: float | None
    p_value: float | None
    rate_per_100k: float | None
    suppressed: bool

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < EVIDENCE_THRESHOLD

    @property
    def p_text(self) -> str:
        return "" if self.p_value is None else format_p(self.p_value)


@dataclass(frozen=True)
class MapCell:
    """One grid cell of the map: its centre (never a finer coordinate) and its count, as the
    reader may see it (perturbed unless it may read locations)."""

    lon: float
    lat: float
    count: int


@dataclass
class AreaMap:
    figure: dict
    rows: list[AreaRow]
    note: str
    window: str  # "1 Jan 2024 to 31 Dec 2024"
    window_before: str
    # Incidents drawn at their own coordinates (roles allowed restricted fields; 0 for cells):
    # the page that shows the map writes each such read to the audit log.
    points_shown: int = 0
    # The cells drawn (every cell of the window for ``exact``; otherwise the perturbed cells of
    # one whole year, ``cells_year``, from the map's minimum up), for the API.
    cells: list[MapCell] = field(default_factory=list)
    cell_m: int = 0
    exact: bool = False
    cells_year: int | None = None

    @property
    def has_rates(self) -> bool:
        return any(r.rate_per_100k is not None for r in self.rows)


def _days(since: dt.date, until: dt.date) -> str:
    return f"{since:%-d %b %Y} to {until:%-d %b %Y}"


def _simplified(geometry: dict) -> dict | None:
    """A GeoJSON Polygon or MultiPolygon rounded to about 10 m, repeated vertices dropped."""

    def ring(points: list) -> list:
        out: list = []
        for x, y, *_ in points:
            point = [round(x, _BOUNDARY_DECIMALS), round(y, _BOUNDARY_DECIMALS)]
            if not out or out[-1] != point:
                out.append(point)
        return out if len(out) >= 4 else []

    kind = geometry.get("type")
    if kind == "Polygon":
        rings = [r for r in (ring(r) for r in geometry.get("coordinates", [])) if r]
        return {"type": "Polygon", "coordinates": rings} if rings else None
    if kind == "MultiPolygon":
        polygons = []
        for polygon in geometry.get("coordinates", []):
            rings = [r for r in (ring(r) for r in polygon) if r]
            if rings:
                polygons.append(rings)
        return {"type": "MultiPolygon", "coordinates": polygons} if polygons else None
    return None


def _view(lons: list[float], lats: list[float], snap_m: float | None = None) -> dict:
    """Centre and zoom that fit the given extent into a map about 900 px wide. ``snap_m``:
    the centre moves to the centre of its grid cell, so a map of cells carries no coordinate
    finer than a cell."""
    if not lons:
        return {"center": {"lon": -98.6, "lat": 39.8}, "zoom": 3}
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    centre = {"lon": (west + east) / 2, "lat": (south + north) / 2}
    if snap_m:
        cell = grid_cells(np.array([centre["lon"]]), np.array([centre["lat"]]), snap_m)
        centre = {"lon": float(cell["lon"].iloc[0]), "lat": float(cell["lat"].iloc[0])}
    span_lon = max(east - west, 1e-3)
    span_lat = max(north - south, 1e-3) / max(math.cos(math.radians(centre["lat"])), 0.1)
    zoom = math.log2(360 / max(span_lon, span_lat * 1.6)) + 0.9
    return {"center": centre, "zoom": round(max(1.0, min(zoom, 15.0)), 2)}


def fitted_map(
    lons: list[float],
    lats: list[float],
    snap_m: float | None = None,
    labels: list[list] | None = None,
) -> dict:
    """Layout entries for a map of the given extent: ``map`` (the style, and a centre and zoom
    for a frame of about 900 px) and ``meta.fit``, the extent ([west, south, east, north]) that
    the page's script (charts.js) fits into the frame the map is drawn in, at every width;
    ``meta.labels`` ([name, lon, lat], from ``area_labels``) are the names it writes over the
    map."""
    out: dict = {"map": {"style": map_style(), **_view(lons, lats, snap_m)}}
    meta: dict = {}
    if lons:
        meta["fit"] = [min(lons), min(lats), max(lons), max(lats)]
    if labels:
        meta["labels"] = labels
    if meta:
        out["meta"] = meta
    return out


def _ring_area_centre(ring: list) -> tuple[float, float, float]:
    """(area in square degrees scaled by cos(latitude), centre lon, centre lat) of a ring:
    the shoelace area, and the centre of its bounding box."""
    xs = np.array([p[0] for p in ring], dtype=float)
    ys = np.array([p[1] for p in ring], dtype=float)
    area = 0.5 * abs(float(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1))))
    area *= math.cos(math.radians(float(ys.mean())))
    return area, (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2


def area_labels(shapes: list[tuple[str, dict]], limit: int = 12) -> list[list]:
    """The names of the ``limit`` largest areas at their centres, as [name, lon, lat], the
    largest first (every area is named on hover too). ``shapes``: (name, simplified GeoJSON
    geometry).

    The page's script (charts.js) writes them over the map as HTML, hiding one that would
    overlap a larger one's. Not a Plotly text trace: the map library draws trace text from
    glyph files it fetches from a font server on the internet, which a deployment without
    internet (and the pages' Content Security Policy) refuses."""
    placed = []
    for name, shape in shapes:
        polygons = (
            shape["coordinates"] if shape["type"] == "MultiPolygon" else [shape["coordinates"]]
        )
        area, lon, lat = max(_ring_area_centre(polygon[0]) for polygon in polygons)
        placed.append((area, name, lon, lat))
    placed.sort(key=lambda t: (-t[0], t[1]))
    return [[name, round(lon, 5), round(lat, 5)] for _, name, lon, lat in placed[:limit]]


def map_style() -> str | dict:
    """``GVRS_MAP_TILES``: a MapLibre style URL (ending in .json) or a raster tile URL template
    ({z}/{x}/{y}); unset, a blank background that needs no network."""
    tiles = settings.GVRS_MAP_TILES
    if not tiles:
        return "white-bg"
    if tiles.split("?")[0].endswith(".json"):
        return tiles
    return {
        "version": 8,
        "sources": {"base": {"type": "raster", "tiles": [tiles], "tileSize": 256}},
        "layers": [{"id": "base", "type": "raster", "source": "base"}],
    }


def boundaries(jurisdiction: Jurisdiction) -> dict:
    """The areas' shapes inside ``jurisdiction``, simplified, as the map draws them:
    ``features`` (GeoJSON features with the area's primary key as id), the outer rings'
    ``lons`` and ``lats`` (the extent to fit), and ``named`` ((name, shape) for the labels).
    Computed once per registry version."""
    from django.core.cache import cache

    from gvrs.incidents.versions import registry_version

    key = f"boundaries-{jurisdiction.pk}-{registry_version()}"
    found = cache.get(key)
    if found is not None:
        return found
    features, lons, lats, named = [], [], [], []
    areas = (
        Area.objects.filter(
            jurisdiction_id__in=jurisdiction.descendant_ids(), boundary__isnull=False
        )
        .order_by("name")
        .values_list("pk", "name", "boundary")[:1000]
    )
    for pk, name, boundary in areas:
        shape = _simplified(boundary) if boundary else None
        if shape is None:
            continue
        named.append((name, shape))
        features.append({"type": "Feature", "id": str(pk), "geometry": shape})
        for polygon in (
            shape["coordinates"] if shape["type"] == "MultiPolygon" else [shape["coordinates"]]
        ):
            lons.extend(p[0] for p in polygon[0])
            lats.extend(p[1] for p in polygon[0])
    found = {"features": features, "lons": lons, "lats": lats, "named": named}
    cache.set(key, found)
    return found


def boundaries_url(jurisdiction: Jurisdiction) -> str:
    """Where the page fetches the shapes (``reports-boundaries``), versioned by the registry:
    the response is cached for a year, and a new import gives a new URL."""
    from django.urls import reverse

    from gvrs.incidents.versions import registry_version

    version = hashlib.sha256(registry_version().encode()).hexdigest()[:16]
    return reverse("reports-boundaries", kwargs={"slug": jurisdiction.slug}) + f"?v={version}"


def area_map(
    metric: Metric,
    jurisdiction: Jurisdiction,
    area: Area | None,
    since: dt.date,
    until: dt.date,
    *,
    level: str = EXACT,
    audience: Audience | None = None,
    policy: Policy | None = None,
    figures: MonthlyFigures | None = None,
    data_end: dt.date | None = None,
    source: str | None = None,
) -> AreaMap:
    """The map and the ranked area table for ``metric`` from ``since`` to ``until``; the
    change is against the same number of days (whole months, when perturbed) just before,
    with its exact test.

    ``level`` (``gvrs.reports.protected.level_of``): ``exact`` draws incidents as points;
    ``cells`` and ``perturbed`` draw the perturbed cells of the latest whole calendar year by
    ``until`` (``audience`` and ``policy`` required); ``perturbed`` also takes the areas'
    counts from ``figures`` (the perturbed monthly figures; ``since`` and ``until`` are then
    the first and last day of whole months). One incident source is mapped: ``source``, by
    default the place's primary one (two sources are never summed)."""
    places = jurisdiction.descendant_ids()
    chosen_source = incident_source(metric, jurisdiction, source)
    one_source = Q(source=chosen_source[0].source) if chosen_source else Q(pk__in=[])
    unit = "incidents" if metric.unit == "incidents" else metric.unit
    if level == PERTURBED:
        before_since, before_until = before_window(since, until)
        chosen = [area.pk] if area is not None else list(figures.areas)
        counts = {
            pk: figures.total(figures.areas[pk], since, until)
            for pk in chosen
            if pk in figures.areas
        }
        before = {
            pk: figures.total(figures.areas[pk], before_since, before_until)
            for pk in chosen
            if pk in figures.areas
        }
        whole = figures.place if area is None else figures.areas.get(area.pk)
        total = 0 if whole is None else figures.total(whole, since, until)
        length_days = (until - since).days
    else:
        selected = Incident.objects.filter(
            metric_filter(metric), one_source, jurisdiction_id__in=places
        )
        if area is not None:
            selected = selected.filter(area=area)
        length = until - since
        length_days = length.days
        before_until = since - dt.timedelta(days=1)
        before_since = before_until - length
        now_qs = selected.filter(occurred_on__gte=since, occurred_on__lte=until)
        counted = count_expression(metric)
        total = now_qs.aggregate(n=counted)["n"] or 0

        def by_area(qs) -> dict[int, int]:
            return {
                pk: int(n or 0)
                for pk, n in qs.exclude(area__isnull=True)
                .values("area")
                .annotate(n=counted)
                .values_list("area", "n")
            }

        counts = by_area(now_qs)
        before = by_area(
            selected.filter(occurred_on__gte=before_since, occurred_on__lte=before_until)
        )
    areas = list(
        Area.objects.filter(jurisdiction_id__in=places)
        .order_by("name")
        .values("pk", "name", "population", "boundary")[:1000]
    )
    rows = []
    for a in areas:
        n, m = counts.get(a["pk"], 0), before.get(a["pk"], 0)
        test = compare_counts(m, n)
        rows.append(
            AreaRow(
                name=a["name"],
                count=n,
                before=m,
                change_pct=None if m == 0 else 100 * (n - m) / m,
                p_value=test.p_value if n or m else None,
                rate_per_100k=(
                    100_000 * n / a["population"] * 365.25 / (length_days + 1)
                    if a["population"]
                    else None
                ),
                suppressed=False,
            )
        )
    rows.sort(key=lambda r: (-r.count, r.name))

    figure = go.Figure()
    drawn = boundaries(jurisdiction)
    features, lons, lats, named_shapes = (
        drawn["features"],
        drawn["lons"],
        drawn["lats"],
        drawn["named"],
    )
    # The shapes are the same for every metric, window and visitor: the page names them by
    # URL (versioned, so the browser keeps them) instead of carrying them inline.
    geojson = boundaries_url(jurisdiction)
    shown_areas = [a for a in areas if a["boundary"]]
    if features:
        figure.add_trace(
            go.Choroplethmap(
                geojson=geojson,
                locations=[str(a["pk"]) for a in shown_areas],
                z=[counts.get(a["pk"], 0) for a in shown_areas],
                text=[a["name"] for a in shown_areas],
                colorscale=_COLOURS,
                zmin=0,
                zmax=max([1, *(counts.get(a["pk"], 0) for a in shown_areas)]),
                marker={"opacity": 0.75, "line": {"width": 1, "color": "#5b6577"}},
                colorbar={"title": {"text": unit}, "thickness": 14},
                hovertemplate="<b>%{text}</b><br>%{z:,} " + unit + "<extra></extra>",
                name=f"{unit} by area",
            )
        )
    cell_m = max(MIN_CELL_M, settings.GVRS_MAP_CELL_M)
    points_shown = 0
    if level == EXACT:
        located = Incident.objects.filter(
            metric_filter(metric),
            one_source,
            jurisdiction_id__in=places,
            occurred_on__gte=since,
            occurred_on__lte=until,
            latitude__isnull=False,
            longitude__isnull=False,
        )
        if area is not None:
            located = located.filter(area=area)
        points = list(
            located.order_by("-occurred_on").values_list(
                "longitude", "latitude", "occurred_on", "kind"
            )[:MAP_POINTS]
        )
        frame = pd.DataFrame(points, columns=["lon", "lat", "day", "kind"])
        xy = np.array(list(located.values_list("longitude", "latitude")), dtype=float)
        every = grid_cells(xy[:, 0], xy[:, 1], cell_m) if len(xy) else None
        cells = (
            None
            if every is None
            else pd.DataFrame({"lon": every["lon"], "lat": every["lat"], "figure": every["n"]})
        )
        year = None
        for kind, group in frame.groupby("kind"):
            figure.add_trace(
                go.Scattermap(
                    lon=group["lon"],
                    lat=group["lat"],
                    mode="markers",
                    name=kind.replace("_", " "),
                    marker={"size": 6, "opacity": 0.7},
                    text=group["day"].astype(str),
                    hovertemplate="%{text}<extra>%{fullData.name}</extra>",
                )
            )
        if not features:
            lons, lats = frame["lon"].tolist(), frame["lat"].tolist()
        shown = points_shown = len(frame)
        note = (
            f"{total:,} {unit} in all; {shown:,} incidents shown as points"
            + (f" (the {MAP_POINTS:,} most recent)" if shown >= MAP_POINTS else "")
            + "; incidents without coordinates are not on the map."
        )
    else:
        year = closed_year(until, data_end or until)
        cells = (
            cell_figures(
                metric,
                jurisdiction,
                area,
                year,
                audience,
                policy,
                cell_m,
                source=chosen_source[0].source if chosen_source else None,
            )
            if year is not None
            else None
        )
        if cells is not None and len(cells):
            figure.add_trace(
                go.Scattermap(
                    lon=cells["lon"].round(6),
                    lat=cells["lat"].round(6),
                    mode="markers",
                    name=f"{unit} per {cell_m:,} m cell, {year}",
                    marker={
                        "size": (8 + 16 * np.sqrt(cells["figure"] / cells["figure"].max())).round(
                            1
                        ),
                        "color": "#5b2a86",
                        "opacity": 0.6,
                    },
                    text=[
                        f"{n:,} {unit} in this cell ({cell_m:,} m) in {year}"
                        for n in cells["figure"]
                    ],
                    hovertemplate="%{text}<extra></extra>",
                )
            )
            if not features:
                lons, lats = cells["lon"].tolist(), cells["lat"].tolist()
        areas_said = (
            "Counts per area over whole months, perturbed"
            if level == PERTURBED
            else "Counts per area"
        )
        when = f"in {year}, the latest whole year" if year is not None else "for whole years"
        note = (
            f"{total:,} {unit} in all. {areas_said}; {unit} per cell of {cell_m:,} m {when} "
            f"(perturbed, cells under {policy.map_minimum} left out). Exact locations are "
            "shown only to roles allowed to see restricted fields."
        )
    window = _days(since, until)
    figure.update_layout(
        title={"text": f"{metric.label}: {unit} by area<br>{window}", "font_size": 14},
        margin={"t": 58, "l": 4, "r": 4, "b": 4},
        **fitted_map(
            lons, lats, None if level == EXACT else cell_m, labels=area_labels(named_shapes)
        ),
        legend={
            "orientation": "h",
            "x": 0,
            "y": 0,
            "yanchor": "bottom",
            "bgcolor": "rgba(255,255,255,0.7)",
        },
        height=520,
    )
    return AreaMap(
        figure=json.loads(figure.to_json()),
        rows=rows,
        note=note,
        window=window,
        window_before=_days(before_since, before_until),
        cells=[]
        if cells is None
        else [
            MapCell(round(float(lon), 6), round(float(lat), 6), int(n))
            for lon, lat, n in cells[["lon", "lat", "figure"]].itertuples(index=False)
        ],
        cell_m=cell_m,
        exact=level == EXACT,
        points_shown=points_shown,
        cells_year=year,
    )
