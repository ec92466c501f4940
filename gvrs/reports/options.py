"""Options shared by ``gvrs stats``, ``gvrs compare`` and ``gvrs project``, and the JSON
record they all print (keys are a documented contract: see README "Statistics")."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError

from gvrs.analysis.counts import SeriesError
from gvrs.analysis.periods import PeriodError, parse_period
from gvrs.cliutil import OUTPUT_FORMATS, parse_date
from gvrs.data.metrics import MetricError, get_metric, load_metrics
from gvrs.env import gvrs_home
from gvrs.incidents.lookup import find_jurisdiction
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.incidents.people import PersonFieldError, parse_where, person_field, person_filter
from gvrs.reports.series import all_series
from gvrs.reports.statistics import StatisticsError, record


def add_series_arguments(parser) -> None:
    parser.add_argument("--metric", required=True, help="e.g. homicides, shootings")
    parser.add_argument("--metrics", help="TOML file of your own metric definitions")
    parser.add_argument("--jurisdiction", help="name or slug (required if there are several)")
    parser.add_argument("--area", help="neighborhood or beat inside the jurisdiction")
    parser.add_argument(
        "--source",
        help="an incident source by its import name, 'incidents' (the primary one), A+B "
        "(their linked union) or a published source; default: all, side by side",
    )
    parser.add_argument("--as-of", type=parse_date, help="last day counted (default: latest data)")
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="only people whose field has this value, e.g. victim_sex=F (repeat: the same "
        "field means either value, different fields both)",
    )
    parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table")


def usage(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def resolve(options):
    """(metric, jurisdiction, area, series) from the options, or a usage error."""
    metric, jurisdiction, area = resolve_place(options)
    if metric.ratio:
        raise usage(f"{metric.name} is a proportion of two series: see it with gvrs stats")
    series = all_series(
        metric,
        jurisdiction,
        area=area,
        as_of=options.get("as_of"),
        source=options.get("source"),
        where=where_of(options),
    )
    if not series:
        raise CommandError(
            f"no {metric.name} data for {jurisdiction}"
            + (f" from source {options['source']!r}" if options.get("source") else ""),
            returncode=1,
        )
    return metric, jurisdiction, area, series


def where_of(options) -> dict[str, list[str]]:
    """``--where`` as {person field: values}, each field checked, or a usage error."""
    try:
        given = options.get("where") or []
        where = parse_where([given] if isinstance(given, str) else given)
        for name in where:
            person_field(name)
        person_filter(where)
    except PersonFieldError as exc:
        raise usage(str(exc)) from None
    return where


def metric_set(options) -> dict:
    """The shipped metrics and the jurisdiction's own (``--metrics`` or GVRS_HOME's file)."""
    extra = options.get("metrics")
    if extra is None and (gvrs_home() / "metrics.toml").exists():
        extra = gvrs_home() / "metrics.toml"
    try:
        return load_metrics(extra)
    except MetricError as exc:
        raise usage(str(exc)) from None


def resolve_place(options):
    """(metric, jurisdiction, area) from the options, or a usage error listing choices."""
    try:
        metric = get_metric(options["metric"], metric_set(options))
    except MetricError as exc:
        raise usage(str(exc)) from None
    if options.get("jurisdiction"):
        jurisdiction = find_jurisdiction(options["jurisdiction"])
    else:
        roots = Jurisdiction.objects.filter(parent__isnull=True).exclude(
            level=Jurisdiction.Level.NATION
        )
        tops = list(roots[:2])
        if len(tops) != 1:
            names = ", ".join(roots.values_list("name", flat=True)[:30])
            raise usage(f"give --jurisdiction; top-level jurisdictions: {names or 'none yet'}")
        jurisdiction = tops[0]
    area = None
    if options.get("area"):
        area = Area.objects.filter(
            jurisdiction_id__in=jurisdiction.descendant_ids(), name__iexact=options["area"]
        ).first()
        if area is None:
            names = ", ".join(
                Area.objects.filter(jurisdiction_id__in=jurisdiction.descendant_ids()).values_list(
                    "name", flat=True
                )[:40]
            )
            raise usage(f"unknown area {options['area']!r} in {jurisdiction}; areas: {names}")
    return metric, jurisdiction, area


def period_arg(text: str, as_of: dt.date):
    try:
        return parse_period(text, as_of)
    except PeriodError as exc:
        raise usage(str(exc)) from None


def failed(exc: StatisticsError) -> CommandError:
    """The command's error for a statistics error: a usage error exits 2, no data 1."""
    return CommandError(str(exc), returncode=2 if exc.usage else 1)


__all__ = [
    "SeriesError",
    "add_series_arguments",
    "failed",
    "period_arg",
    "record",
    "resolve",
    "usage",
]
