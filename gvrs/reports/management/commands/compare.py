"""``gvrs compare --metric M --period P --vs Q``: one change, with its exact test."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.counts import SeriesError, compare_periods
from gvrs.analysis.periods import PERIOD_FORMS
from gvrs.cliutil import write_frame
from gvrs.reports.options import add_series_arguments, period_arg, record, resolve


class Command(BaseCommand):
    help = f"Compare a metric between two periods ({PERIOD_FORMS})."

    def add_arguments(self, parser) -> None:
        add_series_arguments(parser)
        parser.add_argument("--period", required=True, help="e.g. 2022, 2024-YTD, 2022-Q3")
        parser.add_argument("--vs", required=True, help="the period to compare against")

    def handle(self, *args, **options) -> None:
        _, _, _, all_series = resolve(options)
        records = []
        for series in all_series:
            as_of = options["as_of"] or series.last
            period = period_arg(options["period"], as_of)
            baseline = period_arg(options["vs"], as_of)
            try:
                records.append(
                    record(compare_periods(series, period, baseline), series.place, series)
                )
            except SeriesError as exc:
                if len(all_series) == 1:
                    raise CommandError(str(exc), returncode=2) from None
                self.stderr.write(f"{series.source}: {exc}")
        if options["format"] != "table":
            write_frame(pd.DataFrame(records), options["format"], self.stdout)
            return
        for item in records:
            self.stdout.write(
                f"[{item['source']}] {item['jurisdiction']}: {item['sentence']} "
                f"({item['coverage']})"
            )
