"""``gvrs compare --metric M --period P --vs Q``: one change, with its exact test."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.counts import SeriesError, compare_periods, compare_published_windows
from gvrs.analysis.periods import PERIOD_FORMS
from gvrs.cliutil import write_frame
from gvrs.reports.options import (
    add_series_arguments,
    period_arg,
    record,
    resolve,
    resolve_place,
)
from gvrs.reports.series import INCIDENTS, all_series, published_window


class Command(BaseCommand):
    help = f"Compare a metric between two periods ({PERIOD_FORMS})."

    def add_arguments(self, parser) -> None:
        add_series_arguments(parser)
        parser.add_argument("--period", required=True, help="e.g. 2022, 2024-YTD, 2022-Q3")
        parser.add_argument("--vs", required=True, help="the period to compare against")

    def handle(self, *args, **options) -> None:
        metric, jurisdiction, area = resolve_place(options)
        windows = self._published_windows(options, metric, jurisdiction, area)
        if windows:
            found = all_series(
                metric, jurisdiction, as_of=options.get("as_of"), source=options.get("source")
            )
        else:
            _, _, _, found = resolve(options)
        records = [_window_record(change) for change in windows]
        done = {change.source for change in windows}
        for series in found:
            if series.source in done:
                continue
            as_of = options["as_of"] or series.last
            period = period_arg(options["period"], as_of)
            baseline = period_arg(options["vs"], as_of)
            try:
                records.append(
                    record(compare_periods(series, period, baseline), series.place, series)
                )
            except SeriesError as exc:
                if len(found) == 1 and not records:
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

    def _published_windows(self, options, metric, jurisdiction, area) -> list:
        """Published figures for exactly the two windows (a source's year-to-date count and
        its count for the same window a year before), compared as they stand."""
        if area is not None or options.get("source") == INCIDENTS:
            return []
        as_of = options["as_of"] or dt.date.today()
        period = period_arg(options["period"], as_of)
        baseline = period_arg(options["vs"], as_of)
        now = published_window(metric, jurisdiction, period.start, period.end)
        before = published_window(metric, jurisdiction, baseline.start, baseline.end)
        if period.label.isdigit() and baseline.label.isdigit():
            return []  # whole years come from the annual series
        sources = sorted(set(now) & set(before))
        if options.get("source"):
            sources = [s for s in sources if s == options["source"]]
        return [
            compare_published_windows(
                metric=metric.name,
                label=metric.label,
                place=jurisdiction.name,
                source=source,
                period=period,
                baseline=baseline,
                count=now[source],
                baseline_count=before[source],
            )
            for source in sources
        ]


def _window_record(change) -> dict:
    """A published window comparison's record: its coverage is the two windows themselves."""
    out = record(change, change.place)
    out["data_from"] = change.baseline.start.isoformat()
    out["data_through"] = change.period.end.isoformat()
    out["coverage"] = (
        f"published for {change.baseline.start}..{change.baseline.end} "
        f"and {change.period.start}..{change.period.end}"
    )
    return out
