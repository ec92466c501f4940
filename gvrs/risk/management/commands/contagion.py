"""``gvrs contagion``: fit the self-exciting model and map the risk for the next days."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.contagion import ContagionError, fit_contagion, risk_surface
from gvrs.analysis.hotspots import Grid
from gvrs.reports.maps import write_map
from gvrs.risk.points import add_selection_arguments, load_points
from gvrs.risk.threads import add_threads_argument, threads_option

INTERVAL_METHOD = (
    "observed information: Wald intervals on the log scale, the background's rate per time "
    "bin a parameter, its spatial shape held at its fit"
)


# What the number is, in one sentence (docs/conflicts-and-alerts.md has the checks behind it).
BRANCHING_RATIO_MEASURES = (
    "near-repeat triggering only: the expected number of the selected incidents within about "
    "a kilometre and two months that one of them triggers close by, through near repeats "
    "(also through shootings the selection leaves out, such as nobody-hit ones); retaliation "
    "on a rival group's turf, often far from the first shooting, is not in it"
)


class Command(BaseCommand):
    help = "Self-exciting (Hawkes) model: share of shootings triggered, decay, spatial scale."

    def add_arguments(self, parser) -> None:
        add_selection_arguments(parser)
        parser.add_argument(
            "--max-distance",
            type=float,
            default=1000.0,
            help="triggering truncated beyond this many metres",
        )
        parser.add_argument(
            "--max-lag", type=float, default=60.0, help="triggering truncated beyond this many days"
        )
        parser.add_argument("--horizon", type=float, default=7.0, help="risk surface, days ahead")
        parser.add_argument("--cell", type=float, default=100.0)
        parser.add_argument("--map", type=Path, help="write the risk surface (.png or .html)")
        add_threads_argument(parser)

    def handle(self, *args, **options) -> None:
        threads = threads_option(options)
        points, t, first_day, description = load_points(options)
        try:
            fit = fit_contagion(
                points.x_m,
                points.y_m,
                t,
                max_distance_m=options["max_distance"],
                max_lag_days=options["max_lag"],
                threads=threads,
            )
        except ContagionError as exc:
            raise CommandError(str(exc), returncode=1) from None
        result = {
            "selection": description,
            "crs": points.crs,
            "events": fit.n_events,
            "dropped_without_coordinates": points.dropped,
            "branching_ratio": fit.branching_ratio,
            "branching_ratio_measures": BRANCHING_RATIO_MEASURES,
            "decay_days": fit.decay_days,
            "spatial_scale_m": fit.spatial_scale_m,
            "intervals_90": {k: [v.low, v.high] for k, v in fit.intervals.items()},
            "interval_method": INTERVAL_METHOD,
            "interval_notes": list(fit.interval_notes),
            "background_events": fit.background_events,
            "background_bandwidth_m": fit.background_bandwidth_m,
            "iterations": fit.iterations,
            "converged": fit.converged,
            "log_likelihood": fit.log_likelihood,
            "kernel_mass_captured": fit.kernel_mass_captured,
            "truncation": {"max_distance_m": fit.max_distance_m, "max_lag_days": fit.max_lag_days},
            "candidate_pairs": fit.n_candidate_pairs,
        }
        if options["map"]:
            grid = Grid.around(points.x_m, points.y_m, options["cell"], pad_m=500)
            surface = risk_surface(fit, grid, options["horizon"])
            data_end = (first_day + pd.Timedelta(days=float(t.max()))).date()
            try:
                write_map(
                    surface,
                    grid,
                    options["map"],
                    crs=points.crs,
                    points=None,
                    title=f"Expected shootings in the next {options['horizon']:g} days",
                    subtitle=(
                        f"self-exciting model fitted on incidents to {data_end:%-d %b %Y}; "
                        f"the {options['horizon']:g} days from "
                        f"{data_end + dt.timedelta(days=1):%-d %b %Y}"
                    ),
                    unit=f"expected shootings per {options['cell']:g} m cell",
                )
            except ValueError as exc:
                raise CommandError(str(exc), returncode=2) from None
            result["map"] = str(options["map"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(result, indent=2))
            return
        self.stdout.write(description)
        ci = fit.intervals

        def show(name: str, value: float, fmt: str) -> str:
            if name in ci:
                return f"{value:{fmt}} (90% interval {ci[name].low:{fmt}} to {ci[name].high:{fmt}})"
            return f"{value:{fmt}}"

        self.stdout.write(
            f"Near-repeat triggering (branching ratio): "
            f"{show('branching_ratio', fit.branching_ratio, '.3f')}"
        )
        self.stdout.write(f"It measures {BRANCHING_RATIO_MEASURES}.")
        self.stdout.write(
            f"Triggering decays with mean {show('decay_days', fit.decay_days, '.1f')}"
            f" days, over {show('spatial_scale_m', fit.spatial_scale_m, '.0f')} m"
        )
        self.stdout.write(
            f"EM: {fit.iterations} iterations, converged={fit.converged}; "
            f"{fit.kernel_mass_captured:.1%} of the triggering kernel lies inside "
            f"the truncation ({fit.max_distance_m:g} m, {fit.max_lag_days:g} days)"
        )
        self.stdout.write(
            f"Background: {fit.background_events:,.0f} untriggered incidents, their density "
            f"smoothed over {fit.background_bandwidth_m:.0f} m (the bandwidth of largest "
            f"likelihood)"
        )
        for note in fit.interval_notes:
            self.stdout.write(f"Note: {note}")
        if fit.intervals:
            self.stdout.write(
                "Intervals from the observed information (the curvature of the likelihood at "
                "the estimate), with the background's spatial shape taken as fitted."
            )
        if options["map"]:
            self.stdout.write(f"Risk map written to {options['map']}")
