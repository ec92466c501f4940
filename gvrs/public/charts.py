"""The public page's charts, drawn from the published tables alone.

A hidden figure has no y value and no colour value in any chart: it appears as a labelled gap
("fewer than 11" or "suppressed" on hover and in the axis text), never as zero, and its count
is not in the chart's data at all. The map shades areas only (never points or cells), from
the published area table; the boundaries are the areas' own, already public.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gvrs.analysis.narrative import NBSP, month_abbr
from gvrs.incidents.models import Area
from gvrs.public.published import PublicPage, Table, language, month_names
from gvrs.reports.areamap import _COLOURS, _simplified, area_labels, fitted_map

_BAR = "#8c2a17"
_HIDDEN = "#c9ced8"  # a suppressed area's fill on the map (its outline and legend name it)
# A hidden count's mark on a bar chart: 3.1:1 against the plot's background and 3.7:1 against
# white (WCAG 2.1's 3:1 for graphics), and labelled in text ("<11", "s") besides.
_HIDDEN_MARK = "#7d8696"


def _json(figure: go.Figure) -> dict:
    # Plotly's own number formatting (axes, hover) in the reader's convention: decimal and
    # thousands separators, "1,234.5" or "1 234,5".
    figure.update_layout(separators="," + NBSP if language() == "es" else ".,")
    return json.loads(figure.to_json())


def _bars(x: list[str], cells, title: str, unit: str) -> dict:
    """Bars for shown counts; a hidden count is a grey marker on the axis, labelled."""
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=x,
            y=[c.value for c in cells],
            marker_color=_BAR,
            name=unit,
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    hidden = [(label, c) for label, c in zip(x, cells, strict=True) if c.hidden]
    if hidden:
        figure.add_trace(
            go.Scatter(
                x=[label for label, _cell in hidden],
                y=[0] * len(hidden),
                # A gap says nothing: each hidden count is marked and labelled in its place.
                mode="markers+text",
                marker={
                    "symbol": "line-ew-open",
                    "size": 14,
                    "color": _HIDDEN_MARK,
                    "line_width": 3,
                },
                text=[c.text for _label, c in hidden],
                texttemplate=[
                    "<" + c.text.rsplit(" ", 1)[-1]
                    if c.state == "fewer"
                    else pgettext("the mark of a suppressed count on a chart", "s")
                    for _label, c in hidden
                ],
                textposition="top center",
                textfont={"size": 9, "color": "#5b6577"},
                cliponaxis=False,
                name=_("suppressed (a small count)"),
                hovertemplate="%{x}: %{text}<extra></extra>",
            )
        )
    figure.update_layout(
        title={"text": title},
        margin={"t": 56, "l": 44, "r": 10},
        yaxis={"rangemode": "tozero", "tickformat": ",d"},
        xaxis={"type": "category", "nticks": 12, "tickangle": -45 if len(x) > 12 else 0},
        # Above the plot, right: below it the legend would sit on the month labels.
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        showlegend=bool(hidden),
    )
    return _json(figure)


def annual_chart(page: PublicPage, months: Table) -> dict:
    rows = months.rows[:-1]  # without the all-years row
    through = page.published_through
    day = f"{through.day} {month_abbr(through.month, language())} {through.year}"
    return _bars(
        [label for label, _cells in rows],
        [cells[-1] for _label, cells in rows],
        _("%(metric)s by year<br><sub>whole months through %(day)s; the last year so far</sub>")
        % {"metric": _(page.metric.label), "day": day},
        _(page.metric.unit),
    )


def monthly_chart(page: PublicPage, months: Table, last: int = 36) -> dict:
    x, cells = [], []
    for label, row in months.rows[:-1]:
        year = label.split(" ")[0]
        for name, cell in zip(month_names(), row[:12], strict=True):
            if cell.state == "missing":
                continue
            x.append(f"{name} {year}")
            cells.append(cell)
    return _bars(
        x[-last:],
        cells[-last:],
        _("%(metric)s by month<br><sub>the last %(n)s months published</sub>")
        % {"metric": _(page.metric.label), "n": min(last, len(x))},
        _(page.metric.unit),
    )


def area_map(page: PublicPage, places: list[int]) -> dict | None:
    """A choropleth of the published area counts; None when no area has a boundary."""
    shown = dict(page.areas_shown)
    boundaries = (
        Area.objects.filter(jurisdiction_id__in=places, boundary__isnull=False)
        .order_by("name")
        .values_list("name", "boundary")[:1000]
    )
    features, lons, lats, names = [], [], [], []
    for name, boundary in boundaries:
        shape = _simplified(boundary) if boundary and name in shown else None
        if shape is None:
            continue
        features.append({"type": "Feature", "id": name, "geometry": shape})
        names.append(name)
        polygons = (
            shape["coordinates"] if shape["type"] == "MultiPolygon" else [shape["coordinates"]]
        )
        for polygon in polygons:
            lons.extend(p[0] for p in polygon[0])
            lats.extend(p[1] for p in polygon[0])
    if not features:
        return None
    geojson = {"type": "FeatureCollection", "features": features}
    visible = [n for n in names if shown[n].value is not None]
    veiled = [n for n in names if shown[n].value is None]
    unit = _(page.metric.unit)
    figure = go.Figure()
    if visible:
        figure.add_trace(
            go.Choroplethmap(
                geojson=geojson,
                locations=visible,
                z=[shown[n].value for n in visible],
                colorscale=_COLOURS,
                zmin=0,
                zmax=max([1, *(shown[n].value for n in visible)]),
                marker={"opacity": 0.75, "line": {"width": 1, "color": "#5b6577"}},
                colorbar={"title": {"text": unit}, "thickness": 14},
                hovertemplate="<b>%{location}</b><br>%{z:,} " + unit + "<extra></extra>",
                name=_("%(unit)s by area") % {"unit": unit},
            )
        )
    if veiled:
        figure.add_trace(
            go.Choroplethmap(
                geojson=geojson,
                locations=veiled,
                z=[0] * len(veiled),
                text=[shown[n].text for n in veiled],
                colorscale=[[0, _HIDDEN], [1, _HIDDEN]],
                showscale=False,
                marker={"opacity": 0.6, "line": {"width": 1, "color": "#5b6577"}},
                hovertemplate="<b>%{location}</b><br>%{text}<extra></extra>",
                name=_("suppressed (a small count)"),
                showlegend=True,
            )
        )
    figure.update_layout(
        title={
            "text": _("%(metric)s: %(unit)s by area<br>%(year)s")
            % {"metric": _(page.metric.label), "unit": unit, "year": page.breakdown_year},
            "font_size": 14,
        },
        margin={"t": 58, "l": 4, "r": 4, "b": 4},
        **fitted_map(lons, lats, labels=area_labels([(f["id"], f["geometry"]) for f in features])),
        legend={"orientation": "h", "x": 0, "y": 0, "yanchor": "bottom"},
        height=470,
    )
    return _json(figure)


def charts(page: PublicPage, places: list[int]) -> dict[str, dict]:
    months = page.table("months")
    if months is None:
        return {}
    out = {"annual": annual_chart(page, months), "monthly": monthly_chart(page, months)}
    if page.table("areas") is not None:
        drawn = area_map(page, places)
        if drawn is not None:
            out["map"] = drawn
    return out
