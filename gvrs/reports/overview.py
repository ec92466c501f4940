"""What the overview dashboard shows, computed from the statistics engine: headline tiles,
the annual trend with its record, monthly and weekly counts, the projection, and the map.

Charts are Plotly figures turned into plain JSON here; the page draws them with our own
static script (no inline JavaScript, so a strict Content-Security-Policy holds).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import plotly.graph_objects as go

from gvrs.analysis.counts import CountSeries, SeriesError, compare_periods, count_in, counts_by
from gvrs.analysis.disclosure import Audience, Policy
from gvrs.analysis.history import rank_in_history
from gvrs.analysis.narrative import EVIDENCE_THRESHOLD, projection_sentence
from gvrs.analysis.periods import (
    Period,
    day_month,
    day_month_year,
    same_window_last_year,
    year_to_date,
)
from gvrs.analysis.periods import year as whole_year
from gvrs.analysis.projection import project_year_end
from gvrs.data.metrics import Metric
from gvrs.incidents.models import Area, Incident, Jurisdiction, PublishedCount
from gvrs.reports.areamap import AreaMap, area_map
from gvrs.reports.labels import series_title
from gvrs.reports.protected import (
    EXACT,
    PERTURBED,
    MonthlyFigures,
    monthly_figures,
    protected_series,
)
from gvrs.reports.series import (
    all_series,
    by_coverage,
    incident_source_names,
    published_series,
)

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
        whole = (as_of.month, as_of.day) == (12, 31)
        # A whole year is compared as years, never labelled "year to date".
        now = whole_year(as_of.year) if whole else year_to_date(as_of)
        before = whole_year(as_of.year - 1) if whole else same_window_last_year(now)
        comparisons = [before]
        if baseline_year and baseline_year < before.start.year:
            comparisons.append(
                whole_year(baseline_year) if whole else year_to_date(as_of, baseline_year)
            )
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
        headline = f"{count:,} in {latest.start.year} to {day_month(series.last)}"
    else:
        headline = f"{count:,} so far in {latest.start.year} (to {day_month(series.last)})"
    return Tile(
        metric,
        series_title(series),
        headline,
        count,
        direction,
        sentences,
        history,
        series.coverage(),
    )


def _year_axis(years: list[int]) -> dict:
    if not years:
        return {"tickformat": "d"}
    span = max(years) - min(years)
    step = next((s for s in (1, 2, 5, 10, 20, 50) if span / s <= 12), 100)
    return {"tickformat": "d", "tickmode": "linear", "tick0": min(years), "dtick": step}


def annual_figure(metric: Metric, all_of_them: list[CountSeries]) -> dict:
    figure = go.Figure()
    for series in all_of_them:
        annual = series.annual()
        if annual.empty:
            continue
        name = series_title(series)
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
    years = [int(y) for s in all_of_them for y in s.annual().index]
    coverage = "; ".join(s.coverage() for s in all_of_them)
    figure.update_layout(
        title={"text": f"{metric.label} by year<br><sub>complete years; {coverage}</sub>"},
        margin={"t": 50, "l": 50, "r": 20},
        # Years on a number line, a tick on whole years only (a step of 1, 2, 5 ... years
        # so that at most 12 are labelled): Plotly's own ticks fall between years on a short
        # span and then print one year several times.
        xaxis=_year_axis(years),
        yaxis={
            "range": [0, max(top_count, 1) * 1.18],
            "tickformat": ",d",
            "title": {"text": f"{metric.unit} per year"},
        },
        legend_orientation="h",
    )
    return _figure_json(figure)


def recent_figure(metric: Metric, series: CountSeries, freq: str, periods: int) -> dict:
    rows = counts_by(series, freq)[-periods:]
    # Bars on a time axis (Plotly spaces its date labels so they never overlap), each at the
    # middle of its month or week; the hover names the period in words.
    middle = [r.period.start + (r.period.end - r.period.start) / 2 for r in rows]
    said = [
        (
            f"{r.period.start:%B %Y}"
            if freq == "month"
            else f"week of {day_month_year(r.period.start)}"
        )
        + ("" if r.complete else " (partial)")
        for r in rows
    ]
    figure = go.Figure(
        go.Bar(
            x=[d.isoformat() for d in middle],
            y=[r.count for r in rows],
            name=metric.label,
            customdata=[
                [s, f"{r.ci_low:.0f}–{r.ci_high:.0f}"] for s, r in zip(said, rows, strict=True)
            ],
            hovertemplate="%{customdata[0]}: %{y:,} (95% interval %{customdata[1]})<extra></extra>",
            marker={"opacity": [1.0 if r.complete else 0.5 for r in rows]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [r.ci_high - r.count for r in rows],
                "arrayminus": [r.count - r.ci_low for r in rows],
                # Light and capless, so the intervals of empty weeks do not outweigh the bars.
                "thickness": 1,
                "width": 0,
                "color": "rgba(29, 35, 48, 0.35)",
            },
        )
    )
    figure.update_layout(
        title={
            "text": f"{metric.label} by {freq}<br><sub>95% exact intervals; "
            f"{series.coverage()}</sub>",
        },
        margin={"t": 56, "l": 50, "r": 10},
        yaxis={"rangemode": "tozero", "title": {"text": f"{metric.unit} per {freq}"}},
        xaxis={"type": "date", "tickformat": "%b %Y" if freq == "month" else "%-d %b"},
        bargap=0.15,
    )
    return _figure_json(figure)


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
    areas: AreaMap | None = None
    no_data: str = ""  # why the chosen metric shows nothing, and what the place does hold
    level: str = EXACT  # how its figures are protected (gvrs.reports.protected)
    protection: str = ""  # what the reader is shown and why, when not every count is exact
    perturbed_within: int = 0  # the perturbation's bound, when figures are perturbed


def _led_by(found: list[CountSeries], source: str | None) -> list[CountSeries]:
    """``found`` with the incident series of ``source`` first (when it is one of them): the
    series the page's tiles, charts and map lead with."""
    if source is None:
        return found
    first = [k for k, s in enumerate(found) if s.from_incidents and s.source == source]
    if not first:
        return found
    return [found[first[0]]] + [s for k, s in enumerate(found) if k != first[0]]


def held_here(jurisdiction: Jurisdiction, metrics: dict[str, Metric]) -> tuple[list[str], bool]:
    """The metrics some source publishes for this place (or the places inside it), in the
    metrics' own order, and whether any incident records lie here: two queries."""
    places = jurisdiction.descendant_ids()
    published = set(
        PublishedCount.objects.filter(jurisdiction_id__in=places)
        .values_list("metric", flat=True)
        .distinct()
    )
    incidents = Incident.objects.filter(jurisdiction_id__in=places).exists()
    return [name for name in metrics if name in published], incidents


def no_data_message(metric: Metric, jurisdiction: Jurisdiction, metrics: dict[str, Metric]) -> str:
    """ "No data on people shot for Bakersfield. What gvrs holds here: ..." """
    published, incidents = held_here(jurisdiction, metrics)
    held = [metrics[name].label.lower() for name in published]
    parts = []
    if held:
        parts.append("published counts of " + ", ".join(held))
    if incidents:
        parts.append("incident records (which do not record this metric's kinds)")
    tail = (
        "What gvrs holds here: " + "; ".join(parts) + "."
        if parts
        else "gvrs holds no data here yet."
    )
    return f"No data on {metric.label.lower()} for {jurisdiction.name}. {tail}"


def build(
    jurisdiction: Jurisdiction,
    metric: Metric,
    metrics: dict[str, Metric],
    *,
    area: Area | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    level: str = EXACT,
    audience: Audience | None = None,
    policy: Policy | None = None,
    source: str | None = None,
) -> Dashboard:
    """The overview as a reader at ``level`` (``gvrs.reports.protected.level_of``) may see
    it: ``exact`` and ``cells`` count incidents exactly, the map of ``exact`` shows points
    and the others perturbed cells of whole years; ``perturbed`` shows every incident count
    perturbed, for whole months only (``audience`` and ``policy`` below ``exact``).

    ``source`` names the incident source that leads (default: each metric's primary one);
    the others stand beside it, never added to it."""
    if level == PERTURBED:
        return _build_perturbed(
            jurisdiction, metric, metrics, area, since, until, audience, policy, source
        )
    baseline = jurisdiction.baseline_year
    tiles = []
    key_series: dict[str, list] = {}
    for name in KEY_METRICS:
        found = key_series[name] = _led_by(
            all_series(metrics[name], jurisdiction, area=area, as_of=until), source
        )
        if found:
            tiles.append(tile_for(metrics[name], found[0], baseline))
    if len(tiles) < len(KEY_METRICS) and area is None:
        # A place known only from published counts (the California DOJ's agencies): its
        # other published series fill the row, rather than one lonely tile.
        published, _ = held_here(jurisdiction, metrics)
        for name in published:
            if len(tiles) >= len(KEY_METRICS):
                break
            if name in KEY_METRICS:
                continue
            found = all_series(metrics[name], jurisdiction, as_of=until, source=None)
            annual = [s for s in found if s.resolution != "day"]
            if annual:
                tiles.append(tile_for(metrics[name], annual[0], baseline))
    chosen = key_series.get(metric.name)
    if chosen is None:
        chosen = _led_by(all_series(metric, jurisdiction, area=area, as_of=until), source)
    areas = None
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
            areas = area_map(
                metric,
                jurisdiction,
                area,
                start,
                end,
                level=level,
                audience=audience,
                policy=policy,
                data_end=daily.covered_through,
                source=daily.source,
            )
            figures["map"] = areas.figure
            map_note = areas.note
    no_data = "" if chosen else no_data_message(metric, jurisdiction, metrics)
    protection = (
        ""
        if level == EXACT
        else "Counts are exact; the map's cells are perturbed, for whole years only, because "
        "your role may not see where incidents happened."
    )
    return Dashboard(
        jurisdiction,
        metric,
        area,
        since,
        until,
        tiles,
        chosen,
        figures,
        projection,
        map_note,
        areas,
        no_data,
        level,
        protection,
    )


def _build_perturbed(
    jurisdiction: Jurisdiction,
    metric: Metric,
    metrics: dict[str, Metric],
    area: Area | None,
    since: dt.date | None,
    until: dt.date | None,
    audience: Audience,
    policy: Policy,
    source: str | None = None,
) -> Dashboard:
    """The overview for a reader who may not read incident records: whole months only, every
    incident count perturbed (docs/disclosure.md); published counts, public already, as they
    are. Every figure is a sum of one fixed set of perturbed monthly figures per metric, place
    and area, whatever dates, area and metric are asked for."""
    baseline = jurisdiction.baseline_year
    asked_until = until
    computed: dict[str, MonthlyFigures | None] = {}

    def series_of(m: Metric, as_of: dt.date | None) -> list[CountSeries]:
        if m.name not in computed:
            lead = source if source in incident_source_names(m, jurisdiction) else None
            computed[m.name] = (
                monthly_figures(m, jurisdiction, policy, source=lead)
                if not m.published_only
                else None
            )
        found = []
        monthly = computed[m.name]
        if monthly is not None:
            protected = protected_series(monthly, m, jurisdiction, area=area, as_of=as_of)
            if protected is not None:
                found.append(protected)
        if area is None:
            found += published_series(m, jurisdiction)
            return by_coverage(found, jurisdiction)
        return found

    window_note = ""
    if since is not None or until is not None:
        asked = (since or dt.date(1900, 1, 1), until or dt.date(2100, 12, 31))
        window = policy.window(audience, *asked)
        if window.empty:
            window_note = (
                f"Your dates ({asked[0]:%-d %B %Y} to {asked[1]:%-d %B %Y}) hold no whole "
                "month: for your role figures are shown for whole calendar months only."
            )
            since, until = None, asked[1]
        else:
            since = window.start if since is not None else None
            until = window.end if until is not None else None
    tiles = []
    key_series: dict[str, list] = {}
    for name in KEY_METRICS:
        found = key_series[name] = series_of(metrics[name], until)
        if found:
            tiles.append(tile_for(metrics[name], found[0], baseline))
    if len(tiles) < len(KEY_METRICS) and area is None:
        published, _ = held_here(jurisdiction, metrics)
        for name in published:
            if len(tiles) >= len(KEY_METRICS):
                break
            if name in KEY_METRICS:
                continue
            annual = [
                s for s in published_series(metrics[name], jurisdiction) if s.resolution != "day"
            ]
            if annual:
                tiles.append(tile_for(metrics[name], annual[0], baseline))
    chosen = key_series.get(metric.name)
    if chosen is None:
        chosen = series_of(metric, until)
    figures: dict[str, dict] = {}
    projection = None
    map_note = ""
    areas = None
    monthly_series = next((s for s in chosen if s.resolution == "day"), None)
    if chosen:
        figures["annual"] = annual_figure(metric, chosen)
    if monthly_series is not None:
        figures["monthly"] = recent_figure(metric, monthly_series, "month", 36)
        if monthly_series.year_is_over(monthly_series.last.year):
            projection = (
                f"No projection: {monthly_series.last.year} is over ({monthly_series.coverage()})."
            )
        else:
            try:
                projection = projection_sentence(
                    metric.label, project_year_end(monthly_series.counts, monthly_series.last)
                )
                projection = f"{projection[:-1]} (whole months to {monthly_series.last:%-d %B %Y})."
            except ValueError as exc:
                projection = f"No projection: {exc}."
        end = monthly_series.last
        if since is not None:
            start = max(since, monthly_series.first)
        else:
            start = end.replace(day=1)
            for _ in range(11):
                start = (start - dt.timedelta(days=1)).replace(day=1)
            start = max(start, monthly_series.first)
        if start <= end:
            areas = area_map(
                metric,
                jurisdiction,
                area,
                start,
                end,
                level=PERTURBED,
                audience=audience,
                policy=policy,
                figures=computed[metric.name],
                data_end=monthly_series.covered_through,
                source=monthly_series.source,
            )
            figures["map"] = areas.figure
            map_note = areas.note
        shown = f"{monthly_series.first:%-d %B %Y} to {monthly_series.last:%-d %B %Y}"
        if start <= end:
            shown = f"{start:%-d %B %Y} to {end:%-d %B %Y}"
        window_note = window_note or (
            f"Figures for whole months, {shown}"
            + (
                f" (your dates, to {asked_until:%-d %B %Y}, were narrowed to whole months)."
                if asked_until is not None and asked_until != end
                else "."
            )
        )
    no_data = "" if chosen else no_data_message(metric, jurisdiction, metrics)
    protection = (
        f"{window_note} Your role may not read incident records, so every count here is "
        f"perturbed: it may be up to {policy.noise.cap} from the true count (usually 0 or 1), "
        "and the same records always give the same figure. Weekly counts are not shown."
    )
    return Dashboard(
        jurisdiction,
        metric,
        area,
        since,
        until,
        tiles,
        chosen,
        figures,
        projection,
        map_note,
        areas,
        no_data,
        PERTURBED,
        protection,
        policy.noise.cap,
    )
