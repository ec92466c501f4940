"""``gvrs project --metric M --as-of D``: the year-end total from the year to date."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.counts import count_in
from gvrs.analysis.narrative import projection_sentence
from gvrs.analysis.periods import year
from gvrs.analysis.projection import project_year_end
from gvrs.data.csvsafe import frame_text
from gvrs.reports.options import add_series_arguments, resolve


class Command(BaseCommand):
    help = "Project the year-end total from the year to date, with a 90% prediction interval."

    def add_arguments(self, parser) -> None:
        add_series_arguments(parser)
        parser.add_argument("--level", type=float, default=0.90, help="interval coverage")

    def handle(self, *args, **options) -> None:
        options["source"] = options["source"] or "incidents"
        metric, jurisdiction, _, all_series = resolve(options)
        series = all_series[0]
        # Never past the data: a year to date counted to an earlier end would undercount.
        as_of = min(options["as_of"] or series.last, series.last)
        if series.year_is_over(as_of.year, jurisdiction.today()):
            whole = year(as_of.year)
            if series.covered_through >= whole.end:
                uncut = resolve({**options, "as_of": None})[3][0]
                known = f"{count_in(uncut, whole):,} {metric.label.lower()} in {as_of.year}"
            else:
                known = f"the data stop on {series.covered_through.isoformat()}"
            raise CommandError(
                f"{series.place}: {as_of.year} is over ({series.coverage()}): {known}; "
                "nothing to project",
                returncode=1,
            )
        try:
            result = project_year_end(series.counts, as_of, level=options["level"])
        except ValueError as exc:
            raise CommandError(f"{jurisdiction}: {exc}", returncode=1) from None
        sentence = projection_sentence(metric.label, result)
        item = {
            "metric": metric.name,
            "jurisdiction": series.place,
            "source": series.source,
            "period": f"{result.year}",
            "as_of": as_of.isoformat(),
            "count": result.ytd_count,
            "projected": result.projected,
            "pi_low": result.low,
            "pi_high": result.high,
            "level": result.level,
            "share_elapsed": result.share_elapsed,
            "prior_years": list(result.prior_years),
            "record_high": result.record_high,
            "record_high_year": result.record_high_year,
            "p_exceed_record": result.p_exceed_record,
            "p_lowest_in": {str(k): v for k, v in result.p_lowest_in.items()},
            "sentence": sentence,
            "model": result.model,
            "data_through": series.covered_through.isoformat(),
            "coverage": series.coverage(),
        }
        if options["format"] == "table":
            self.stdout.write(f"{series.place}: {sentence} ({series.coverage()})")
        elif options["format"] == "json":
            import json

            self.stdout.write(json.dumps(item, indent=2))
        else:
            frame = pd.DataFrame(
                [{k: v for k, v in item.items() if not isinstance(v, dict | list)}]
            )
            self.stdout.write(frame_text(frame))
