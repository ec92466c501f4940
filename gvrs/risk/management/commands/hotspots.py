"""``gvrs hotspots``: kernel density or prospective hot spots, their evaluation on
rolling-origin holdouts (hit rate, PAI, PEI), and a map."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.hotspots import Grid, kernel_density, prospective_surface, rolling_origin
from gvrs.cliutil import write_frame
from gvrs.reports.maps import write_map
from gvrs.risk.points import add_selection_arguments, load_points
from gvrs.risk.threads import add_threads_argument, threads_option


class Command(BaseCommand):
    help = "Hot spots on a grid, scored week by week on what happened next."

    def add_arguments(self, parser) -> None:
        add_selection_arguments(parser)
        parser.add_argument("--method", choices=("kde", "prospective", "counts"), default="kde")
        parser.add_argument("--cell", type=float, default=100.0, help="cell size, metres")
        parser.add_argument("--bandwidth", type=float, default=200.0, help="metres")
        parser.add_argument(
            "--coverage",
            type=float,
            default=0.05,
            help="share of the area flagged (for hit rate, PAI, PEI)",
        )
        parser.add_argument("--train-days", type=float, default=365.0)
        parser.add_argument("--weeks", type=int, default=26, help="rolling-origin weeks scored")
        parser.add_argument("--map", type=Path, help="write the current surface (.png or .html)")
        add_threads_argument(parser)

    def handle(self, *args, **options) -> None:
        # Checked like the other risk commands' (one option, one rule), though hot spots'
        # kernel densities are numpy and FFT work on one thread today.
        threads_option(options)
        points, t, first_day, description = load_points(options)
        if len(t) < 10:
            raise CommandError(
                f"{len(t)} incidents with coordinates: too few for hot spots", returncode=1
            )
        if options["cell"] <= 0 or options["bandwidth"] <= 0 or not 0 < options["coverage"] <= 1:
            raise CommandError(
                "cell and bandwidth must be positive, coverage in (0, 1]", returncode=2
            )
        x, y = points.x_m, points.y_m
        grid = Grid.around(x, y, options["cell"], pad_m=2 * options["bandwidth"])
        end = float(t.max())
        last = end - 7
        first = max(last - 7 * (options["weeks"] - 1), float(t.min()) + options["train_days"] / 4)
        weekly = rolling_origin(
            grid,
            x,
            y,
            t,
            method=options["method"],
            first_origin_days=first,
            last_origin_days=last,
            train_days=options["train_days"],
            bandwidth_m=options["bandwidth"],
            coverage=options["coverage"],
        )
        now = end + 1e-9
        recent = t > end - options["train_days"]
        if options["method"] == "prospective":
            surface = prospective_surface(grid, x, y, t, now, bandwidth_m=options["bandwidth"])
        else:
            surface = kernel_density(grid, x[recent], y[recent], options["bandwidth"])
        scored = weekly.dropna(subset=["hit_rate"])
        if scored.empty:
            raise CommandError(
                "no incidents in any of the weeks scored; choose dates with --from/--to",
                returncode=1,
            )
        summary = {
            "selection": description,
            "crs": points.crs,
            "method": options["method"],
            "cell_m": options["cell"],
            "bandwidth_m": options["bandwidth"],
            "coverage": options["coverage"],
            "weeks_scored": len(scored),
            "weeks_without_incidents": len(weekly) - len(scored),
            "mean_hit_rate": float(scored["hit_rate"].mean()),
            "mean_pai": float(scored["pai"].mean()),
            "mean_pei": float(scored["pei"].mean()),
            "grid": {"x0": grid.x0, "y0": grid.y0, "nx": grid.nx, "ny": grid.ny},
        }
        if options["map"]:
            try:
                data_end = (first_day + pd.Timedelta(days=float(t.max()))).date()
                kind = (
                    "kernel density"
                    if options["method"] != "prospective"
                    else "prospective (recent, near incidents weigh most)"
                )
                write_map(
                    surface,
                    grid,
                    options["map"],
                    title=f"Hot spots: {description.split(',')[0]}, {kind}",
                    subtitle=(
                        f"from incidents to {data_end:%-d %b %Y} (the last "
                        f"{options['train_days']:g} days); where the week from "
                        f"{data_end + dt.timedelta(days=1):%-d %b %Y} is most likely to bring more"
                    ),
                    unit=(
                        f"incidents per km², last {options['train_days']:g} days"
                        if options["method"] != "prospective"
                        else "prospective risk score (relative)"
                    ),
                    crs=points.crs,
                    points=(x[recent], y[recent]),
                )
            except ValueError as exc:
                raise CommandError(str(exc), returncode=2) from None
            summary["map"] = str(options["map"])
        if options["format"] == "json":
            summary["weeks"] = weekly.to_dict(orient="records")
            self.stdout.write(json.dumps(summary, indent=2))
        elif options["format"] == "csv":
            write_frame(weekly, "csv", self.stdout)
        else:
            self.stdout.write(description)
            self.stdout.write(
                f"{options['method']} hot spots, {options['cell']:g} m cells, flagging "
                f"{options['coverage']:.0%} of the area, scored on the following week over "
                f"{len(scored)} weeks: hit rate {summary['mean_hit_rate']:.1%}, PAI "
                f"{summary['mean_pai']:.1f}, PEI {summary['mean_pei']:.2f}"
            )
            if options["map"]:
                self.stdout.write(f"Map written to {options['map']}")
