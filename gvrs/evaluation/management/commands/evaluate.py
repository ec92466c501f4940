"""``gvrs evaluate``: did the strategy work? One design (interrupted time series, difference
in differences or synthetic control) against comparison places or the place's own trend."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.evaluation import EvaluationError
from gvrs.cliutil import parse_date, write_frame
from gvrs.evaluation.runs import (
    METHOD_NAMES,
    METHODS,
    DonorFileError,
    evaluate,
    read_donor_file,
    record,
    remember,
)
from gvrs.reports.options import resolve_place, usage


class Command(BaseCommand):
    help = (
        "Evaluate a strategy from its start date: effect ratio with its interval, pre-period "
        "fit, placebos, assumptions and one honest sentence."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--jurisdiction", required=True, help="name or slug")
        parser.add_argument("--metric", required=True, help="e.g. homicides, shootings")
        parser.add_argument("--metrics", help="TOML file of your own metric definitions")
        parser.add_argument("--start", required=True, type=parse_date, help="YYYY-MM-DD")
        parser.add_argument("--method", required=True, choices=METHODS)
        parser.add_argument(
            "--donors",
            default="auto",
            help="'auto' (places of similar size and pre-period path) or a file naming one "
            "comparison place per line",
        )
        parser.add_argument("--source", help="'incidents' or a published source")
        parser.add_argument(
            "--from",
            dest="since",
            type=parse_date,
            help="first period used (default: all incident months; 20 years of annual figures)",
        )
        parser.add_argument("--level", type=float, default=0.9, help="interval level (0.9)")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    def handle(self, *args, **options) -> None:
        if not 0.5 <= options["level"] < 1:
            raise usage("--level must be between 0.5 and 1, e.g. 0.9")
        metric, jurisdiction, _ = resolve_place(options)
        donors = None
        if options["donors"] != "auto":
            try:
                donors = read_donor_file(Path(options["donors"]))
            except DonorFileError as exc:
                raise usage(str(exc)) from None
        try:
            result, tables = evaluate(
                metric,
                jurisdiction,
                options["start"],
                options["method"],
                donors=donors,
                source=options["source"],
                since=options["since"],
                level=options["level"],
            )
        except EvaluationError as exc:
            raise CommandError(str(exc), returncode=1) from None
        out = record(result, tables, metric)
        remember(
            jurisdiction,
            out,
            made_by="gvrs evaluate",
            # The page asks with neither: the same question, the same row.
            question=tuple(
                part for part in (options["since"], donors and sorted(d.pk for d in donors)) if part
            ),
        )
        if options["format"] == "json":
            self.stdout.write(json.dumps(out, indent=2, allow_nan=False))
            return
        self._table(out, result, tables, metric)

    def _table(self, out, result, tables, metric) -> None:
        def fmt(value, digits=3):
            return "—" if value is None else f"{value:.{digits}g}"

        rows = [
            ("method", METHOD_NAMES[out["method"]]),
            (
                "data",
                f"{tables.source}, {out['first_period']} to {out['last_period']} "
                f"({out['resolution']}ly)",
            ),
            ("effect ratio", fmt(out["effect_ratio"])),
            (f"{result.level:.0%} interval", f"{fmt(out['ci_low'])} – {fmt(out['ci_high'])}"),
            ("p-value (no effect)", fmt(out["p_value"], 2)),
            ("pre-period fit (RMSE / mean)", fmt(out["pre_fit"], 2)),
            ("pre-trend test p", fmt(out["pre_trend_p"], 2)),
            (
                "placebo rank",
                "—"
                if out["placebo_rank"] is None
                else f"{out['placebo_rank']} of {out['placebo_count'] + 1}",
            ),
        ]
        if out["placebo_outcome"]:
            po = out["placebo_outcome"]
            rows.append(
                (
                    f"placebo outcome: {po['label']}",
                    f"{fmt(po['effect_ratio'])} ({fmt(po['ci_low'])} – {fmt(po['ci_high'])})",
                )
            )
        title = f"{metric.label}, {result.place}, from {result.start}"
        write_frame(pd.DataFrame(rows, columns=["", "value"]), "table", self.stdout, title=title)
        if out.get("weights"):
            weights = pd.DataFrame(list(out["weights"].items()), columns=["donor", "weight"])
            write_frame(weights, "table", self.stdout, title="Synthetic control weights")
        if out.get("event_study"):
            study = pd.DataFrame(out["event_study"]).map(
                lambda v: round(v, 3) if isinstance(v, float) else v
            )
            write_frame(study, "table", self.stdout, title="Event study (year before start = 1)")
        if out.get("donors") and not out.get("weights"):
            self.stdout.write("Comparison places: " + ", ".join(out["donors"]))
        self.stdout.write(out["sentence"])
        self.stdout.write("Assumes:")
        for line in out["assumptions"]:
            self.stdout.write(f"- {line}")
        self.stdout.write(f"{tables.source}: {tables.definition}")
