"""``gvrs places``: which incident source leads a place's figures.

    gvrs places sources --jurisdiction Philadelphia --metric shootings
    gvrs places set-primary --jurisdiction Philadelphia --source philly-shootings [--metric M]
    gvrs places clear-primary --jurisdiction Philadelphia [--metric M]

Where several incident sources record one place (the police records export beside a national
archive), each is a series of its own and none is ever summed with another. The primary one
leads the place's headline figures: the one set here (for a metric, or for every metric of
the place when no ``--metric`` is given), else the one whose coverage of the place is widest.
"""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.cliutil import OUTPUT_FORMATS, write_frame
from gvrs.data.metrics import MetricError, get_metric
from gvrs.incidents.lookup import find_jurisdiction
from gvrs.incidents.models import Incident, PrimarySource
from gvrs.reports.options import metric_set
from gvrs.reports.series import incident_sources, primary_basis


class Command(BaseCommand):
    help = "Show a place's incident sources and set the primary one its figures lead with."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        show = actions.add_parser("sources", help="a place's incident sources, primary first")
        show.add_argument("--jurisdiction", required=True)
        show.add_argument("--metric", default="shootings")
        show.add_argument("--metrics", help="TOML file of your own metric definitions")
        show.add_argument("--format", choices=OUTPUT_FORMATS, default="table")
        set_ = actions.add_parser("set-primary", help="set the primary incident source")
        set_.add_argument("--jurisdiction", required=True)
        set_.add_argument("--source", required=True, help="the name its import gave it")
        set_.add_argument("--metric", help="one metric (default: every metric of the place)")
        set_.add_argument("--metrics", help="TOML file of your own metric definitions")
        clear = actions.add_parser("clear-primary", help="back to the widest coverage")
        clear.add_argument("--jurisdiction", required=True)
        clear.add_argument("--metric", help="one metric (default: the place-wide setting)")
        clear.add_argument("--metrics", help="TOML file of your own metric definitions")

    def handle(self, *args, **options) -> None:
        place = find_jurisdiction(options["jurisdiction"])
        metric = self._metric(options)
        if options["action"] == "sources":
            self._sources(place, metric, options)
        elif options["action"] == "set-primary":
            self._set(place, metric, options["source"])
        else:
            name = metric.name if metric else ""
            deleted, _ = PrimarySource.objects.filter(jurisdiction=place, metric=name).delete()
            what = metric.name if metric else "every metric"
            self.stdout.write(
                f"{place.path}, {what}: "
                + ("primary source cleared" if deleted else "no primary source was set")
                + "; the source with the widest coverage leads."
            )

    @staticmethod
    def _metric(options):
        if not options.get("metric"):
            return None
        try:
            return get_metric(options["metric"], metric_set(options))
        except MetricError as exc:
            raise CommandError(str(exc), returncode=2) from None

    def _set(self, place, metric, source: str) -> None:
        held = sorted(
            Incident.objects.filter(jurisdiction_id__in=place.descendant_ids())
            .order_by()
            .values_list("source", flat=True)
            .distinct()
        )
        if source not in held:
            raise CommandError(
                f"{place.path} holds no incident records from source {source!r}; its incident "
                f"sources: {', '.join(held) or 'none'}",
                returncode=2,
            )
        PrimarySource.objects.update_or_create(
            jurisdiction=place, metric=metric.name if metric else "", defaults={"source": source}
        )
        what = metric.name if metric else "every metric"
        self.stdout.write(f"{place.path}, {what}: primary incident source {source}.")

    def _sources(self, place, metric, options) -> None:
        metric = metric or get_metric("shootings", metric_set(options))
        found = incident_sources(metric, place)
        rows = [
            {
                "source": c.source,
                "primary": k == 0,
                "why": primary_basis(metric, place, c.source) if k == 0 else "",
                "data_from": c.first.isoformat(),
                "data_through": c.last.isoformat(),
                "gaps": len(c.gaps),
            }
            for k, c in enumerate(found)
        ]
        if not rows:
            raise CommandError(f"no incident source records {metric.name} in {place}", returncode=1)
        write_frame(
            pd.DataFrame(rows),
            options["format"],
            self.stdout,
            title=f"Incident sources of {metric.label.lower()}, {place.path}",
        )
