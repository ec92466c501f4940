"""``gvrs nearrepeat``: the Knox test over incidents selected like ``gvrs stats``."""

from __future__ import annotations

import json
import math

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.nearrepeat import KnoxError, knox_test
from gvrs.cliutil import write_frame
from gvrs.risk.points import add_selection_arguments, load_points
from gvrs.risk.threads import add_threads_argument, threads_option

EDGES = {
    "left": "left: every band [lower, upper), as the Near Repeat Calculator counts",
    "right": "right: first band [0, upper], later bands (lower, upper]",
}


def _bands(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise CommandError(f"bands {text!r}: give numbers like 100,200,400", returncode=2) from None


def _json_number(value: float) -> float | None:
    return None if math.isinf(value) else value  # JSON has no infinity: null is "no limit"


class Command(BaseCommand):
    help = "Knox space-time test (Near Repeat Calculator layout) with Monte Carlo p-values."

    def add_arguments(self, parser) -> None:
        add_selection_arguments(parser, formats=("table", "json", "csv", "nrc"))
        parser.add_argument("--space-bands", default="100,200,400", help="metres, e.g. 100,200,400")
        parser.add_argument("--time-bands", default="7,14,28", help="days, e.g. 7,14,28")
        parser.add_argument("--permutations", type=int, default=999)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--distance", choices=("euclidean", "manhattan"), default="euclidean")
        parser.add_argument(
            "--band-edges",
            choices=("left", "right"),
            default="left",
            help="left (default): bands [lower, upper), the Near Repeat Calculator's counting; "
            "right: (lower, upper]",
        )
        add_threads_argument(parser)

    def handle(self, *args, **options) -> None:
        threads = threads_option(options)
        points, t, _, description = load_points(options)
        space = _bands(options["space_bands"])
        nrc = options["format"] == "nrc"
        if nrc and space and space[0] > 1:
            space = (1.0, *space)  # the calculator's "Same location" row
        try:
            result = knox_test(
                points.x_m,
                points.y_m,
                t,
                space_bands_m=space,
                time_bands_days=_bands(options["time_bands"]),
                permutations=options["permutations"],
                seed=options["seed"],
                metric=options["distance"],
                band_edges=options["band_edges"],
                threads=threads,
            )
        except KnoxError as exc:
            raise CommandError(str(exc), returncode=2) from None
        cells = [cell.__dict__ for cell in result.cells]
        if options["format"] == "json":
            outer = [
                {
                    **cell.__dict__,
                    "space_to_m": _json_number(cell.space_to_m),
                    "time_to_days": _json_number(cell.time_to_days),
                }
                for cell in result.outer_cells
            ]
            self.stdout.write(
                json.dumps(
                    {
                        "selection": description,
                        "crs": points.crs,
                        "events": result.n_events,
                        "dropped_without_coordinates": points.dropped,
                        "permutations": result.permutations,
                        "seed": result.seed,
                        "distance": result.metric,
                        "band_edges": EDGES[result.band_edges],
                        "cells": cells,
                        "outer_cells": outer,
                    },
                    indent=2,
                )
            )
        elif options["format"] == "csv":
            write_frame(pd.DataFrame(cells), "csv", self.stdout)
        elif nrc:
            self._write_nrc(result, description)
        else:
            self.stdout.write(description)
            self.stdout.write(
                f"Knox ratios (observed / expected pairs; * p < 0.05, "
                f"{result.permutations} permutations, seed {result.seed}; band edges "
                f"{EDGES[result.band_edges]}):"
            )
            self.stdout.write(result.table().to_string())

    def _write_nrc(self, result, description: str) -> None:
        self.stdout.write(description)
        self.stdout.write(
            f"Near Repeat Calculator layout: {result.permutations} permutations, seed "
            f"{result.seed}, {result.metric} distance; band edges {EDGES[result.band_edges]}."
        )
        for title, frame in result.nrc_tables().items():
            self.stdout.write("")
            self.stdout.write(f"{title} table")
            self.stdout.write(frame.to_string(float_format=lambda v: f"{v:.2f}"))
        # The calculator's labels read as whole units closed at both ends; say what each counts.
        self.stdout.write("")
        self.stdout.write("What each label counts:")
        for label, interval in result.nrc_legend():
            self.stdout.write(f"  {label}: {interval}")
