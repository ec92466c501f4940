"""What each role may see of an aggregate, in one place: every figure the API serves passes
through here, for the token's user, and nowhere else in the API is a role asked.

Today this is exactly what the pages call: roles with ``incidents.view_restricted_fields`` see
the map's cells unsuppressed (they see each incident's point on the page); every other role
gets the cells and area counts ``gvrs.reports.areamap`` suppresses for the overview, and the
series the overview's charts and tiles draw. When the one disclosure policy of
``gvrs.analysis`` lands (docs/disclosure.md), these functions call its entry point instead:
the change is here and only here.
"""

from __future__ import annotations

import datetime as dt

from gvrs.analysis.counts import CountSeries
from gvrs.data.metrics import Metric
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.reports.areamap import AreaMap, area_map
from gvrs.reports.statistics import (
    compare_records,
    find_series,
    projection_record,
    series_records,
)

RESTRICTED = "incidents.view_restricted_fields"


def restricted(user) -> bool:
    """Whether the user's role may see records and exact figures (the pages' own test)."""
    return user.has_perm(RESTRICTED)


def series_for(
    user,
    metric: Metric,
    place: Jurisdiction,
    *,
    area: Area | None,
    as_of: dt.date | None,
    source: str | None,
) -> list[CountSeries]:
    """Every series of the metric for the place, the primary one first (as the overview
    orders them)."""
    return find_series(metric, place, area=area, as_of=as_of, source=source)


def rows_for(
    user, series: CountSeries, by: str, since: dt.date | None, until: dt.date | None
) -> list[dict]:
    """``gvrs stats``' records of one series, as the overview's charts show them."""
    return series_records(series, by, since, until)


def comparisons_for(user, metric, place, period, vs, **options) -> tuple[list[dict], list[str]]:
    return compare_records(metric, place, period, vs, **options)


def projection_for(user, metric, place, **options) -> dict:
    return projection_record(metric, place, **options)


def area_map_for(
    user,
    metric: Metric,
    place: Jurisdiction,
    area: Area | None,
    since: dt.date,
    until: dt.date,
) -> AreaMap:
    """The map's cells and the ranked areas, suppressed as the overview suppresses them for
    this user's role."""
    return area_map(metric, place, area, since, until, exact=restricted(user))
