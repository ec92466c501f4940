"""What each role may see of an aggregate, in one place: every figure the API serves passes
through here, for the token's user, and nowhere else in the API is a role asked.

It applies the one disclosure policy (``gvrs.analysis.disclosure``, docs/disclosure.md) as the
overview does, at the user's level (``gvrs.reports.protected.level_of``): users who may read
incident records get exact figures (the map's cells perturbed, for whole years, unless they
may read locations too); users who may not (partner staff and managers) get the perturbed
monthly series, windows and periods of whole months only, no weekly counts.
"""

from __future__ import annotations

import datetime as dt

from gvrs.accounts.audience import audience_of, deployment_policy
from gvrs.analysis.counts import CountSeries
from gvrs.analysis.disclosure.windows import month_end
from gvrs.data.metrics import Metric
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.reports.areamap import AreaMap, area_map
from gvrs.reports.protected import PERTURBED, level_of, monthly_figures, protected_series
from gvrs.reports.series import INCIDENTS
from gvrs.reports.statistics import (
    StatisticsError,
    compare_records,
    find_series,
    period_of,
    projection_record,
    series_records,
)

# Incident records themselves (with their coordinates) are served only to this permission.
RESTRICTED = "incidents.view_restricted_fields"
WHOLE_MONTHS = (
    "for your role figures are counted by whole calendar months and perturbed (docs/disclosure.md)"
)


def level(user) -> str:
    """The user's protection level: a part of every cached answer's key."""
    return level_of(audience_of(user))


def restricted(user) -> bool:
    """Whether the user may read incident records and their locations (exact figures, the
    map's points)."""
    return level(user) == "exact"


def series_for(
    user,
    metric: Metric,
    place: Jurisdiction,
    *,
    area: Area | None,
    as_of: dt.date | None,
    source: str | None,
) -> list[CountSeries]:
    """Every series of the metric for the place as the user may see it, the primary one
    first (as the overview orders them)."""
    found = find_series(metric, place, area=area, as_of=as_of, source=source)
    if level(user) != PERTURBED:
        return found
    out = []
    for series in found:
        if not series.from_incidents:
            out.append(series)
            continue
        monthly = monthly_figures(metric, place, deployment_policy(), source=series.source)
        protected = (
            protected_series(monthly, metric, place, area=area, as_of=as_of) if monthly else None
        )
        if protected is not None:
            out.append(protected)
    if not out:
        raise StatisticsError(f"no whole month of {metric.name} data for {place}; {WHOLE_MONTHS}")
    return out


def _whole(day: dt.date | None, end: bool) -> None:
    if day is None:
        return
    if (end and day != month_end(day)) or (not end and day.day != 1):
        raise StatisticsError(
            f"{day.isoformat()} is not the {'last' if end else 'first'} day of a month: "
            + WHOLE_MONTHS,
            usage=True,
        )


def rows_for(
    user, series: CountSeries, by: str, since: dt.date | None, until: dt.date | None
) -> list[dict]:
    """``gvrs stats``' records of one series, as the overview's charts show them."""
    if level(user) == PERTURBED and series.from_incidents:
        if by == "week":
            raise StatisticsError(f"weekly counts are not served: {WHOLE_MONTHS}", usage=True)
        _whole(since, end=False)
        _whole(until, end=True)
    return series_records(series, by, since, until)


def comparisons_for(user, metric, place, period, vs, **options) -> tuple[list[dict], list[str]]:
    if level(user) != PERTURBED:
        return compare_records(metric, place, period, vs, **options)
    found = series_for(
        user,
        metric,
        place,
        area=options.get("area"),
        as_of=options.get("as_of"),
        source=options.get("source"),
    )
    for series in found:
        if series.from_incidents:
            for text in (period, vs):
                window = period_of(text, series.last)
                _whole(window.start, end=False)
                _whole(window.end, end=True)
    return compare_records(metric, place, period, vs, series=found, **options)


def projection_for(user, metric, place, **options) -> dict:
    if level(user) != PERTURBED:
        return projection_record(metric, place, **options)
    series = series_for(
        user,
        metric,
        place,
        area=None,
        as_of=options.get("as_of"),
        source=options.get("source") or INCIDENTS,
    )
    counted = [s for s in series if s.from_incidents]
    if not counted:
        return projection_record(metric, place, **options)
    return projection_record(metric, place, series=counted[0], **options)


def area_map_for(
    user,
    metric: Metric,
    place: Jurisdiction,
    area: Area | None,
    since: dt.date,
    until: dt.date,
) -> AreaMap:
    """The map's cells and the ranked areas, as the overview shows them to this user."""
    audience = audience_of(user)
    policy = deployment_policy()
    level_ = level_of(audience)
    figures = None
    data_end = None
    if level_ == PERTURBED:
        window = policy.window(audience, since, until)
        if window.empty:
            raise StatisticsError(f"no whole month between {since} and {until}: {WHOLE_MONTHS}")
        since, until = window.start, window.end
        figures = monthly_figures(metric, place, policy)
        if figures is None:
            raise StatisticsError(f"no whole month of {metric.name} data for {place}")
        data_end = figures.data_end
    else:
        found = find_series(metric, place, area=area, source=INCIDENTS)
        data_end = found[0].covered_through
    return area_map(
        metric,
        place,
        area,
        since,
        until,
        level=level_,
        audience=audience,
        policy=policy,
        figures=figures,
        data_end=data_end,
    )
