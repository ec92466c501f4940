"""Incident points for the space-time commands, selected like ``gvrs stats`` (metric,
jurisdiction, area, dates) and read in one bulk query."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.core.management.base import CommandError

from gvrs.analysis.geo import Projected, project
from gvrs.cliutil import parse_date
from gvrs.reports.options import resolve_place
from gvrs.reports.series import covered_incidents


def add_selection_arguments(parser, formats=("table", "json", "csv")) -> None:
    parser.add_argument(
        "--metric", default="shooting_incidents", help="default: shooting_incidents"
    )
    parser.add_argument("--metrics", help="TOML file of your own metric definitions")
    parser.add_argument("--jurisdiction", help="name or slug (required if there are several)")
    parser.add_argument("--area", help="neighborhood or beat inside the jurisdiction")
    parser.add_argument("--from", dest="start", type=parse_date, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", type=parse_date, help="last day, YYYY-MM-DD")
    parser.add_argument("--format", choices=formats, default="table")


def load_points(options) -> tuple[Projected, np.ndarray, pd.Timestamp, str]:
    """(projected points, times in days from the first day, first day, description)."""
    metric, jurisdiction, area = resolve_place(options)
    # Inside the sources' recorded coverage only: a stray record after the data's end would
    # otherwise be taken as "now" and leave every scored week empty.
    covered = covered_incidents(metric, jurisdiction, area=area)
    if covered is None:
        raise CommandError(f"no {metric.name} data for {jurisdiction}", returncode=1)
    qs = covered[0]
    if options.get("start"):
        qs = qs.filter(occurred_on__gte=options["start"])
    if options.get("end"):
        qs = qs.filter(occurred_on__lte=options["end"])
    frame = pd.DataFrame(
        list(qs.values_list("longitude", "latitude", "occurred_on", "occurred_time")),
        columns=["lon", "lat", "day", "time"],
    )
    if frame.empty:
        raise CommandError(
            f"no {metric.name} incidents in {jurisdiction} for that selection", returncode=1
        )
    day = pd.to_datetime(frame["day"])
    seconds = pd.to_timedelta(frame["time"].astype(str).where(frame["time"].notna(), "12:00:00"))
    first = day.min()
    t = ((day - first) + seconds).dt.total_seconds().to_numpy() / 86_400
    points = project(frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float))
    where = jurisdiction.name if area is None else f"{area.name}, {jurisdiction.name}"
    description = (
        f"{metric.label} ({metric.name}), {where}, {day.min():%Y-%m-%d} to "
        f"{day.max():%Y-%m-%d}: {len(frame):,} incidents, {points.dropped:,} without "
        f"coordinates left out; coordinates in {points.crs}"
    )
    return points, t[points.kept], first, description
