"""``gvrs stats``: counts (and rates) of a metric by year, quarter, month or ISO week."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.counts import proportions_by_year
from gvrs.analysis.periods import FREQUENCIES
from gvrs.cliutil import parse_date, write_frame
from gvrs.reports.options import (
    add_series_arguments,
    metric_set,
    resolve,
    resolve_place,
    where_of,
)
from gvrs.reports.series import INCIDENTS, incident_source_names, published_series
from gvrs.reports.statistics import StatisticsError, breakdown_records, series_records


class Command(BaseCommand):
    help = "Counts of a metric by period, with exact intervals and the change on the period before."

    def add_arguments(self, parser) -> None:
        add_series_arguments(parser)
        parser.add_argument(
            "--by",
            action="append",
            default=[],
            metavar="PERIOD|FIELD",
            help=f"{', '.join(FREQUENCIES)} (default year), and/or a person field to break "
            "the figures down by (victim_sex, victim_age_group, victim_race, ...)",
        )
        parser.add_argument("--from", dest="start", type=parse_date, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", type=parse_date, help="last day, YYYY-MM-DD")
        parser.add_argument("--per-100k", action="store_true", help="show rates per 100,000")

    def handle(self, *args, **options) -> None:
        options["by"], field = self._by(options["by"])
        metric, jurisdiction, area = resolve_place(options)
        if metric.ratio:
            if field or options["where"]:
                raise CommandError(
                    f"{metric.name} is a proportion of published counts: no people to break "
                    "it down by",
                    returncode=2,
                )
            self._ratio(metric, jurisdiction, area, options)
            return
        if field:
            self._breakdown(metric, jurisdiction, area, field, options)
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

    @staticmethod
    def _by(values: list[str] | str) -> tuple[str, str | None]:
        """(period frequency, person field or None) from the --by options (one value when
        called as ``call_command("stats", by="year")``)."""
        values = [values] if isinstance(values, str) else values
        periods = [v for v in values if v in FREQUENCIES]
        fields = [v for v in values if v not in FREQUENCIES]
        if len(periods) > 1 or len(fields) > 1:
            raise CommandError(
                "give --by at most once for a period and once for a person field, e.g. "
                "--by month --by victim_sex",
                returncode=2,
            )
        if fields and not fields[0].startswith("victim_"):
            raise CommandError(
                f"--by {fields[0]!r}: a period ({', '.join(FREQUENCIES)}) or a person field "
                "(victim_sex, victim_age_group, victim_race, victim_ethnicity, ...)",
                returncode=2,
            )
        return (periods[0] if periods else "year"), (fields[0] if fields else None)

    def _breakdown(self, metric, jurisdiction, area, field, options) -> None:
        """The metric per value of a person field: a series each, as ``gvrs stats`` prints
        one (exact counts: the command line reads the registry itself)."""
        source = options.get("source")
        if source not in (None, INCIDENTS) and source not in incident_source_names(
            metric, jurisdiction
        ):
            raise CommandError(
                f"--by {field}: people are counted from incident records only", returncode=2
            )
        try:
            records = breakdown_records(
                metric,
                jurisdiction,
                field,
                options["by"],
                options["start"],
                options["end"],
                area=area,
                as_of=options.get("as_of"),
                where=where_of(options),
                source=source,
            )
        except StatisticsError as exc:
            raise CommandError(str(exc), returncode=2 if exc.usage else 1) from None
        if options["format"] != "table":
            write_frame(pd.DataFrame(records), options["format"], self.stdout)
            return
        frame = pd.DataFrame(records)
        if frame.empty:
            self.stdout.write("no periods in that range")
            return
        frame["95% CI"] = frame.apply(lambda r: f"{r.ci_low:.1f}–{r.ci_high:.1f}", axis=1)
        if not frame["complete"].all():
            frame["period"] = frame.apply(
                lambda r: r.period + ("" if r.complete else " (partial)"), axis=1
            )
        frame = frame.sort_values("period_start", kind="stable")
        write_frame(
            frame[["period", field, "count", "95% CI"]],
            "table",
            self.stdout,
            title=f"{metric.label}, {jurisdiction.name}, by {options['by']} and {field}",
        )
        self.stdout.write(
            f"{metric.description} Each person counts once, under the value their record "
            f"holds ({records[0]['coverage']})."
        )
        if metric.count == "incidents":
            self.stdout.write(
                "An incident with victims of several values counts under each: the rows "
                "add up to more than the incidents."
            )

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
