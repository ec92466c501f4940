"""``gvrs stats``: counts (and rates) of a metric by year, quarter, month or ISO week."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.counts import proportions_by_year
from gvrs.analysis.periods import FREQUENCIES
from gvrs.cliutil import parse_date, write_frame
from gvrs.reports.options import add_series_arguments, metric_set, resolve, resolve_place
from gvrs.reports.series import published_series
from gvrs.reports.statistics import StatisticsError, series_records


class Command(BaseCommand):
    help = "Counts of a metric by period, with exact intervals and the change on the period before."

    def add_arguments(self, parser) -> None:
        add_series_arguments(parser)
        parser.add_argument("--by", choices=FREQUENCIES, default="year")
        parser.add_argument("--from", dest="start", type=parse_date, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", type=parse_date, help="last day, YYYY-MM-DD")
        parser.add_argument("--per-100k", action="store_true", help="show rates per 100,000")

    def handle(self, *args, **options) -> None:
        metric, jurisdiction, area = resolve_place(options)
        if metric.ratio:
            self._ratio(metric, jurisdiction, area, options)
            return
        metric, jurisdiction, _, all_series = resolve(options)
        records = []
        for series in all_series:
            try:
                records += series_records(series, options["by"], options["start"], options["end"])
            except StatisticsError as exc:
                if len(all_series) == 1:
                    raise CommandError(str(exc), returncode=2) from None
                self.stderr.write(f"{series.source}: {exc}")
        if options["format"] != "table":
            write_frame(pd.DataFrame(records), options["format"], self.stdout)
            return
        self._table(records, metric, jurisdiction, options, all_series)

    def _table(self, records, metric, jurisdiction, options, all_series) -> None:
        frame = pd.DataFrame(records)
        if frame.empty:
            self.stdout.write("no periods in that range")
            return
        frame["95% CI"] = frame.apply(lambda r: f"{r.ci_low:.1f}–{r.ci_high:.1f}", axis=1)
        columns = ["source", "period", "count", "95% CI"]
        if options["per_100k"]:
            frame["per 100k"] = frame["rate_per_100k"].map(
                lambda v: "" if pd.isna(v) else f"{v:.1f}"
            )
            columns.append("per 100k")
        for extra in ("change", "change_pct", "p_value", "history"):
            if extra in frame:
                columns.append(extra)
        if "p_value" in frame:
            frame["p_value"] = frame["p_value"].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
        if not frame["complete"].all():
            frame["period"] = frame.apply(
                lambda r: r.period + ("" if r.complete else " (partial)"), axis=1
            )
        write_frame(
            frame[columns],
            "table",
            self.stdout,
            title=f"{metric.label}, {jurisdiction.name}, by {options['by']}",
        )
        for series in all_series:
            self.stdout.write(f"{series.source}: {series.definition} ({series.coverage()})")
        partial = [r for r in records if r.get("compared_window")]
        for r in partial:
            self.stdout.write(
                f"{r['period']} is partial: its change is over {r['compared_window']} "
                f"against {r['vs_period']}."
            )
        if len(all_series) > 1:
            self.stdout.write("Sources are shown side by side, never merged.")

    def _ratio(self, metric, jurisdiction, area, options) -> None:
        """A proportion of two published annual series, per source, with exact intervals."""
        if area is not None or options["by"] != "year":
            raise CommandError(
                f"{metric.name} is published by year for whole places only", returncode=2
            )
        metrics = metric_set(options)
        top, bottom = (metrics[name] for name in metric.ratio)
        tops = {s.source: s for s in published_series(top, jurisdiction)}
        records = []
        for below in published_series(bottom, jurisdiction):
            if options.get("source") and below.source != options["source"]:
                continue
            if below.source not in tops:
                continue
            for p in proportions_by_year(metric.name, tops[below.source], below):
                if options["start"] and p.year < options["start"].year:
                    continue
                if options["end"] and p.year > options["end"].year:
                    continue
                if p.rate is None:
                    sentence = f"{metric.label}, {p.year}: no rate ({p.note})."
                elif p.ci_low is None:
                    sentence = (
                        f"{metric.label}, {p.year}: {p.rate:.0%} ({p.numerator:,} of "
                        f"{p.denominator:,}); {p.note}."
                    )
                else:
                    sentence = (
                        f"{metric.label}, {p.year}: {p.rate:.0%} ({p.numerator:,} of "
                        f"{p.denominator:,}; exact 95% interval {p.ci_low:.0%}–{p.ci_high:.0%})."
                    )
                records.append(
                    {
                        "metric": metric.name,
                        "jurisdiction": jurisdiction.name,
                        "source": below.source,
                        "period": str(p.year),
                        "period_start": f"{p.year}-01-01",
                        "period_end": f"{p.year}-12-31",
                        "count": p.numerator,
                        "denominator": p.denominator,
                        "rate": p.rate,
                        "ci_low": p.ci_low,
                        "ci_high": p.ci_high,
                        "note": p.note,
                        "sentence": sentence,
                        "caveat": metric.caveat,
                        "coverage": below.coverage(),
                    }
                )
        if not records:
            raise CommandError(f"no {metric.name} data for {jurisdiction}", returncode=1)
        if options["format"] != "table":
            write_frame(pd.DataFrame(records), options["format"], self.stdout)
            return
        frame = pd.DataFrame(records)
        frame["rate"] = frame["rate"].map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
        frame["95% CI"] = [
            "" if pd.isna(lo) else f"{lo:.1%}–{hi:.1%}"
            for lo, hi in zip(frame["ci_low"], frame["ci_high"], strict=True)
        ]
        frame = frame.rename(columns={"count": top.name, "denominator": bottom.name})
        write_frame(
            frame[["source", "period", top.name, bottom.name, "rate", "95% CI", "note"]],
            "table",
            self.stdout,
            title=f"{metric.label}, {jurisdiction.name}, by year",
        )
        self.stdout.write(f"{metric.description} {metric.caveat}")
        for source in frame["source"].unique():
            coverage = frame.loc[frame["source"] == source, "coverage"].iloc[0]
            self.stdout.write(f"{source}: {coverage}")
