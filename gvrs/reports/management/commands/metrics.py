"""``gvrs metrics [--format table|json]``: every metric, its definition, and which sources
and places hold data for it."""

from __future__ import annotations

import json

import pandas as pd
from django.core.management.base import BaseCommand
from django.db.models import Count

from gvrs.cliutil import write_frame
from gvrs.incidents.coverage import source_coverage
from gvrs.incidents.models import Incident, PublishedCount
from gvrs.reports.options import metric_set


class Command(BaseCommand):
    help = "List the metrics, their definitions, and the sources and places with data for each."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--metrics", help="TOML file of your own metric definitions")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    def handle(self, *args, **options) -> None:
        metrics = metric_set(options)
        published: dict[str, list[dict]] = {}
        for row in (
            PublishedCount.objects.values("metric", "source")
            .annotate(places=Count("jurisdiction", distinct=True))
            .order_by("metric", "source")
        ):
            published.setdefault(row["metric"], []).append(
                {"source": row["source"], "places": row["places"]}
            )
        # (source, kind, place) triples: a few per place, read once.
        held = pd.DataFrame(
            list(Incident.objects.values_list("source", "kind", "jurisdiction_id").distinct()),
            columns=["source", "kind", "place"],
        )
        coverage = source_coverage(sorted(held["source"].unique())) if len(held) else {}
        records = []
        for name, metric in metrics.items():
            sources = []
            if not metric.published_only and len(held):
                for source, group in held.groupby("source"):
                    kinds = coverage[source].kinds if source in coverage else set(group["kind"])
                    if metric.kinds and not set(metric.kinds) & set(kinds):
                        continue
                    matching = (
                        group if not metric.kinds else group[group["kind"].isin(metric.kinds)]
                    )
                    sources.append(
                        {
                            "source": f"incidents ({source})",
                            "places": int(matching["place"].nunique()),
                        }
                    )
            if metric.ratio:
                top, bottom = metric.ratio
                tops = {s["source"] for s in published.get(top, [])}
                sources += [s for s in published.get(bottom, []) if s["source"] in tops]
            else:
                sources += published.get(name, [])
            records.append(
                {
                    "metric": name,
                    "label": metric.label,
                    "definition": metric.description,
                    "counted_from": metric.counted_from,
                    "caveat": metric.caveat,
                    "sources": sources,
                }
            )
        if options["format"] == "json":
            self.stdout.write(json.dumps(records, indent=2))
            return
        table = pd.DataFrame(
            [
                {
                    "metric": r["metric"],
                    "definition": r["definition"],
                    "data": "; ".join(
                        f"{s['source']}: {s['places']:,} place{'s' if s['places'] != 1 else ''}"
                        for s in r["sources"]
                    )
                    or "no data yet",
                }
                for r in records
            ]
        )
        write_frame(table, "table", self.stdout, title="Metrics")
