"""``gvrs evaluate``: did the strategy work? One design (interrupted time series, difference
in differences or synthetic control) against comparison places or the place's own trend."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.evaluation import EvaluationError
from gvrs.cliutil import parse_date, write_frame
from gvrs.data.panel import (
    PanelError,
    load_panel_mapping,
    read_adoptions,
    read_panel,
    read_predictors,
)
from gvrs.evaluation.runs import (
    METHOD_NAMES,
    METHODS,
    DonorFileError,
    evaluate,
    evaluate_panel,
    read_donor_file,
    read_donor_names,
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
        parser.add_argument(
            "--jurisdiction", help="name or slug (with --panel: a place of the panel)"
        )
        parser.add_argument("--metric", help="e.g. homicides, shootings (not with --panel)")
        parser.add_argument("--metrics", help="TOML file of your own metric definitions")
        parser.add_argument("--start", type=parse_date, help="YYYY-MM-DD")
        parser.add_argument("--method", required=True, choices=METHODS)
        parser.add_argument(
            "--donors",
            help="'auto' (places of similar size and pre-period path; the default on the "
            "registry), 'all' (every other place; the default with --panel) or a file naming "
            "one comparison place per line",
        )
        parser.add_argument(
            "--panel",
            help="evaluate a figure from a file instead of the registry: place, period, value "
            "(or count) columns, or any table with --mapping",
        )
        parser.add_argument(
            "--mapping", help="panel mapping (TOML) naming the panel's columns and predictors"
        )
        parser.add_argument(
            "--predictors",
            help="synthetic control: a file of place, name, value (optionally period) whose "
            "means the blend matches, their importance fitted to the pre-period outcome",
        )
        parser.add_argument(
            "--outcome-only",
            action="store_true",
            help="synthetic control: match the pre-period outcome path, not the predictors",
        )
        parser.add_argument(
            "--adoptions",
            help="a file of place, start: where and when strategies began; those places are "
            "never comparison places once they have begun",
        )
        parser.add_argument(
            "--source",
            help="an incident source by its import name, 'incidents' (the primary one), or a "
            "published source",
        )
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
        if options["mapping"] and not options["panel"]:
            raise usage("--mapping reads a --panel file; give --panel FILE too")
        staggered = options["method"] == "staggered"
        if not options["jurisdiction"] and not (staggered and options["panel"]):
            raise usage("give --jurisdiction: the place whose strategy is evaluated")
        if options["start"] is None and not (staggered and options["panel"]):
            raise usage("give --start YYYY-MM-DD: the day the strategy began")
        if staggered and options["adoptions"] and not options["panel"]:
            raise usage(
                "--adoptions names places of a --panel file; on the registry, record starts "
                "with `gvrs strategies add`"
            )
        try:
            if options["panel"]:
                result, tables, label = self._panel(options)
            else:
                result, tables, label = self._registry(options)
        except (EvaluationError, PanelError) as exc:
            raise CommandError(str(exc), returncode=1) from None
        out = record(result, tables, label)
        if options["format"] == "json":
            self.stdout.write(json.dumps(out, indent=2, allow_nan=False))
            return
        self._table(out, result, tables, label)

    def _registry(self, options):
        if not options["metric"]:
            raise usage("give --metric (e.g. homicides), or --panel FILE")
        metric, jurisdiction, _ = resolve_place(options)
        donors = None
        if options["donors"] not in (None, "auto"):
            if options["donors"] == "all":
                raise usage("--donors all is for --panel; on the registry give auto or a file")
            try:
                donors = read_donor_file(Path(options["donors"]))
            except DonorFileError as exc:
                raise usage(str(exc)) from None
        predictors = self._predictors(options)
        result, tables = evaluate(
            metric,
            jurisdiction,
            options["start"],
            options["method"],
            donors=donors,
            source=options["source"],
            since=options["since"],
            level=options["level"],
            predictors=predictors,
        )
        remember(
            jurisdiction,
            record(result, tables, metric),
            made_by="gvrs evaluate",
            # The page asks with neither: the same question, the same row.
            question=tuple(
                part
                for part in (
                    options["since"],
                    donors and sorted(d.pk for d in donors),
                    options["predictors"] and Path(options["predictors"]).name,
                )
                if part
            ),
        )
        return result, tables, metric

    def _panel(self, options):
        if options["metric"] or options["source"]:
            raise usage("--metric and --source choose registry series; a --panel has one figure")
        mapping = load_panel_mapping(options["mapping"]) if options["mapping"] else None
        panel = read_panel(options["panel"], mapping)
        donors: list[str] | str = "all"
        if options["donors"] in ("auto", "all"):
            donors = options["donors"]
        elif options["donors"]:
            try:
                donors = read_donor_names(Path(options["donors"]))
            except DonorFileError as exc:
                raise usage(str(exc)) from None
        adoptions = read_adoptions(options["adoptions"]) if options["adoptions"] else None
        result, tables = evaluate_panel(
            panel,
            options["jurisdiction"],
            options["start"],
            options["method"],
            donors=donors,
            since=options["since"],
            level=options["level"],
            predictors=self._predictors(options),
            adoptions=adoptions,
            outcome_only=options["outcome_only"],
        )
        return result, tables, panel.label

    def _predictors(self, options):
        if not options["predictors"]:
            return None
        if options["method"] != "synth":
            raise usage("--predictors is for --method synth")
        return read_predictors(options["predictors"], before=options["start"])

    def _table(self, out, result, tables, label) -> None:
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
        name = label if isinstance(label, str) else label.label
        title = f"{name}, {result.place or 'every adoption'}, from {result.start}"
        write_frame(pd.DataFrame(rows, columns=["", "value"]), "table", self.stdout, title=title)
        if out.get("weights"):
            weights = pd.DataFrame(list(out["weights"].items()), columns=["donor", "weight"])
            write_frame(weights, "table", self.stdout, title="Synthetic control weights")
        if out.get("predictor_balance"):
            balance = pd.DataFrame(out["predictor_balance"]).map(
                lambda v: round(v, 4) if isinstance(v, float) else v
            )
            write_frame(balance, "table", self.stdout, title="Predictors: importance and balance")
        if out.get("event_study"):
            study = pd.DataFrame(out["event_study"]).map(
                lambda v: round(v, 3) if isinstance(v, float) else v
            )
            reference = out.get("event_study_reference", "the year before the start")
            title = f"Event study (rate ratio; {reference} = 1)"
            write_frame(study, "table", self.stdout, title=title)
        if out.get("cohorts"):
            cohorts = pd.DataFrame(
                [
                    {
                        "start": c["start"],
                        "places": len(c["places"]),
                        "effect ratio": round(c["effect_ratio"], 3),
                        "interval": f"{fmt(c['ci_low'])} – {fmt(c['ci_high'])}",
                        "periods after": c["periods_after"],
                    }
                    for c in out["cohorts"]
                ]
            )
            write_frame(cohorts, "table", self.stdout, title="Adoption cohorts")
            twfe = out["twfe"]
            self.stdout.write(
                f"Two-way fixed effects, for comparison: {fmt(twfe['effect_ratio'])} "
                f"({fmt(twfe['ci_low'])} – {fmt(twfe['ci_high'])}, clustered by place, "
                f"p = {fmt(twfe['p_value'], 2)})"
            )
        if out.get("donors") and not out.get("weights"):
            self.stdout.write("Comparison places: " + ", ".join(out["donors"]))
        self.stdout.write(out["sentence"])
        self.stdout.write("Assumes:")
        for line in out["assumptions"]:
            self.stdout.write(f"- {line}")
        self.stdout.write(f"{tables.source}: {tables.definition}")
