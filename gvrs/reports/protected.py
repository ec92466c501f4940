"""The overview's figures for readers who may not read the records behind them, through the
disclosure policy (``gvrs.analysis.disclosure``, docs/disclosure.md).

Three levels, from what the reader may read (``level_of``):

- ``exact``: incident records and their locations (administrators, police analysts): every
  count exact, incidents as points on the map;
- ``cells``: incident records but not locations (strategy analysts, viewers): counts exact,
  the map's grid cells perturbed, for whole calendar years only;
- ``perturbed``: neither (partner staff and managers): every count perturbed, for whole
  calendar months only, the grid cells as for ``cells``.

Perturbed counts come as a monthly series per place and per area, consistent within every
whole year (``Policy.monthly``); every window of whole months is a sum of it, so the figures
a reader can ask for are this one fixed set however the dates, areas and metrics are chosen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import F, IntegerField, Value

from gvrs.analysis.counts import CountSeries
from gvrs.analysis.disclosure import Audience, Policy, Records
from gvrs.analysis.disclosure.windows import months_between, whole_months
from gvrs.data.metrics import Metric
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.reports.grid import cell_centres, grid_index
from gvrs.reports.series import INCIDENTS, covered_incidents, incident_source, populations

EXACT = "exact"
CELLS = "cells"
PERTURBED = "perturbed"

RECORD_WEIGHT = {
    "incidents": Value(1, output_field=IntegerField()),
    "victims": F("killed") + F("injured"),
    "killed": F("killed"),
    "injured": F("injured"),
}


def level_of(audience: Audience) -> str:
    """How the overview protects its figures for ``audience``."""
    if not audience.knows(Records.INCIDENTS):
        return PERTURBED
    return EXACT if audience.knows(Records.LOCATIONS) else CELLS


@dataclass(frozen=True)
class MonthlyFigures:
    """Perturbed figures per whole month of the metric's coverage, for the place and for each
    of its areas (``areas``: area pk -> figures, areas with no record left out)."""

    months: list[dt.date]  # the first day of each month
    last: dt.date  # the last day of the last whole month
    data_end: dt.date
    place: np.ndarray
    areas: dict[int, np.ndarray]
    source: str = "incidents"  # the one incident source counted
    primary: bool = True

    def window(self, start: dt.date, end: dt.date) -> slice:
        index = [k for k, m in enumerate(self.months) if start <= m <= end]
        return slice(index[0], index[-1] + 1) if index else slice(0, 0)

    def total(self, figures: np.ndarray, start: dt.date, end: dt.date) -> int:
        return int(figures[self.window(start, end)].sum())


def monthly_figures(
    metric: Metric, jurisdiction: Jurisdiction, policy: Policy, source: str | None = None
) -> MonthlyFigures | None:
    """The perturbed monthly figures of ``metric`` in ``jurisdiction`` from one incident
    source (by default the primary one): one query for every record counted, then the
    policy; None when there are no data or no whole month."""
    chosen = incident_source(metric, jurisdiction, source)
    if chosen is None:
        return None
    covered = covered_incidents(metric, jurisdiction, source=chosen[0].source)
    if covered is None:
        return None
    qs, first, data_end = covered
    months = whole_months(first, data_end)
    if months is None:
        return None
    start, end = months
    rows = list(
        qs.filter(occurred_on__gte=start, occurred_on__lte=end)
        .annotate(weight=RECORD_WEIGHT[metric.count])
        .filter(weight__gt=0)
        .values_list("pk", "occurred_on", "area_id", "weight")
        .order_by()
    )
    frame = pd.DataFrame(rows, columns=["pk", "day", "area", "weight"])
    starts = months_between(start, end)
    n = len(starts)
    days = pd.to_datetime(frame["day"]).to_numpy(dtype="datetime64[D]")
    _, place = policy.monthly(
        "incident", frame["pk"], days, start, n, weights=frame["weight"].to_numpy()
    )
    located = frame["area"].notna().to_numpy()
    area_ids = frame.loc[located, "area"].astype(int).to_numpy()
    codes, index = np.unique(area_ids, return_inverse=True)
    _, by_area = policy.monthly(
        "incident",
        frame.loc[located, "pk"],
        days[located],
        start,
        n,
        groups=index,
        n_groups=codes.size,
        weights=frame.loc[located, "weight"].to_numpy(),
    )
    return MonthlyFigures(
        months=starts,
        last=end,
        data_end=data_end,
        place=place[0],
        areas={int(code): by_area[k] for k, code in enumerate(codes)},
        source=chosen[0].source,
        primary=chosen[1],
    )


def protected_series(
    figures: MonthlyFigures,
    metric: Metric,
    jurisdiction: Jurisdiction,
    area: Area | None = None,
    as_of: dt.date | None = None,
) -> CountSeries | None:
    """The perturbed figures as a series the statistics engine reads: each whole month's
    figure on its first day, from the first whole month to the last one on or before
    ``as_of`` (so every window a caller asks of it must be whole months)."""
    values = figures.place if area is None else figures.areas.get(area.pk)
    if values is None:
        values = np.zeros(len(figures.months), dtype=np.int64)
    last = figures.last
    if as_of is not None and as_of < last:
        snapped = whole_months(figures.months[0], as_of)
        if snapped is None:
            return None
        last = snapped[1]
    keep = [k for k, m in enumerate(figures.months) if m <= last]
    if not keep:
        return None
    daily = pd.Series(values[keep], index=pd.to_datetime([figures.months[k] for k in keep]))
    name = jurisdiction.name if area is None else f"{area.name}, {jurisdiction.name}"
    return CountSeries.from_daily(
        daily,
        first=figures.months[0],
        last=last,
        metric=metric.name,
        label=metric.label,
        place=name,
        source=figures.source,
        definition=(
            f"{metric.description} Counted by gvrs from the incident records of "
            f"{figures.source}, by whole month, each figure perturbed (docs/disclosure.md)."
        ),
        populations=populations(jurisdiction) if area is None else {},
        data_end=figures.data_end,
        kind=INCIDENTS,
        primary=figures.primary,
    )


def closed_year(end: dt.date, data_end: dt.date) -> int | None:
    """The latest calendar year that is over by ``end`` and inside the data: the year a map
    of cells shows to readers who may not read locations."""

    def over(day: dt.date) -> int:
        return day.year if day == dt.date(day.year, 12, 31) else day.year - 1

    return min(over(end), over(data_end))


def cell_figures(
    metric: Metric,
    jurisdiction: Jurisdiction,
    area: Area | None,
    year: int,
    audience: Audience,
    policy: Policy,
    cell_m: float,
    source: str | None = None,
) -> pd.DataFrame:
    """Grid cells of one whole calendar year with their figures as ``audience`` may see
    them (perturbed unless it may read locations), the cells it may be shown only: columns
    lon, lat (the cell's centre), figure."""
    covered = covered_incidents(metric, jurisdiction, area=area, source=source)
    if covered is None:
        return pd.DataFrame(columns=["lon", "lat", "figure"])
    qs = covered[0].filter(
        occurred_on__gte=dt.date(year, 1, 1),
        occurred_on__lte=dt.date(year, 12, 31),
        latitude__isnull=False,
        longitude__isnull=False,
    )
    rows = list(
        qs.annotate(weight=RECORD_WEIGHT[metric.count])
        .filter(weight__gt=0)
        .values_list("pk", "longitude", "latitude", "weight")
        .order_by()
    )
    if not rows:
        return pd.DataFrame(columns=["lon", "lat", "figure"])
    frame = pd.DataFrame(rows, columns=["pk", "lon", "lat", "weight"])
    row, col = grid_index(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float), cell_m)
    codes, group = np.unique(np.column_stack([row, col]), axis=0, return_inverse=True)
    _, shown = policy.grouped(
        audience,
        Records.LOCATIONS,
        "incident",
        frame["pk"],
        group.ravel(),
        len(codes),
        weights=frame["weight"].to_numpy(),
    )
    lon, lat = cell_centres(codes[:, 0], codes[:, 1], cell_m)
    cells = pd.DataFrame({"lon": lon, "lat": lat, "figure": shown})
    if not audience.knows(Records.LOCATIONS):
        cells = cells[policy.on_map(cells["figure"].to_numpy())]
    return cells.reset_index(drop=True)


def month_window(start: dt.date, end: dt.date) -> str:
    return f"{start:%-d %B %Y} to {end:%-d %B %Y}"


def before_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same number of whole months just before ``start``..``end``."""
    n = len(months_between(start, end))
    first = start
    for _ in range(n):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first, start - dt.timedelta(days=1)
