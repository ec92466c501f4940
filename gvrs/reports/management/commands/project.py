"""``gvrs project --metric M --as-of D``: the year-end total from the year to date."""

from __future__ import annotations

import json

import pandas as pd
from django.core.management.base import BaseCommand

from gvrs.data.csvsafe import frame_text
from gvrs.reports.options import add_series_arguments, failed, resolve, resolve_place
from gvrs.reports.statistics import StatisticsError, projection_record


class Command(BaseCommand):
    help = "Project the year-end total from the year to date, with a 90% prediction interval."

    def add_arguments(self, parser) -> None:
        add_series_arguments(parser)
        parser.add_argument("--level", type=float, default=0.90, help="interval coverage")

    def handle(self, *args, **options) -> None:
        metric, jurisdiction, _ = resolve_place(options)
        # People filtered by --where: the filtered series (incident records only).
        series = resolve(options)[3][0] if options.get("where") else None
        try:
            item = projection_record(
                metric,
                jurisdiction,
                as_of=options["as_of"],
                source=options["source"],
                level=options["level"],
                series=series,
            )
        except StatisticsError as exc:
            raise failed(exc) from None
        if options["format"] == "table":
            self.stdout.write(f"{item['jurisdiction']}: {item['sentence']} ({item['coverage']})")
        elif options["format"] == "json":
            self.stdout.write(json.dumps(item, indent=2))
        else:
            frame = pd.DataFrame(
                [{k: v for k, v in item.items() if not isinstance(v, dict | list)}]
            )
            self.stdout.write(frame_text(frame))
