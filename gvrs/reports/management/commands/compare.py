"""``gvrs compare --metric M --period P --vs Q``: one change, with its exact test."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand

from gvrs.analysis.periods import PERIOD_FORMS
from gvrs.cliutil import write_frame
from gvrs.reports.options import add_series_arguments, failed, resolve, resolve_place
from gvrs.reports.statistics import StatisticsError, compare_records


class Command(BaseCommand):
    help = f"Compare a metric between two periods ({PERIOD_FORMS})."

    def add_arguments(self, parser) -> None:
        add_series_arguments(parser)
        parser.add_argument("--period", required=True, help="e.g. 2022, 2024-YTD, 2022-Q3")
        parser.add_argument("--vs", required=True, help="the period to compare against")

    def handle(self, *args, **options) -> None:
        metric, jurisdiction, area = resolve_place(options)
        # People filtered by --where: the filtered series (incident records only).
        series = resolve(options)[3] if options.get("where") else None
        try:
            records, problems = compare_records(
                metric,
                jurisdiction,
                options["period"],
                options["vs"],
                area=area,
                as_of=options.get("as_of"),
                source=options.get("source"),
                series=series,
            )
        except StatisticsError as exc:
            raise failed(exc) from None
        for problem in problems:
            self.stderr.write(problem)
        if options["format"] != "table":
            write_frame(pd.DataFrame(records), options["format"], self.stdout)
            return
        for item in records:
            self.stdout.write(
                f"[{item['source']}] {item['jurisdiction']}: {item['sentence']} "
                f"({item['coverage']})"
            )
