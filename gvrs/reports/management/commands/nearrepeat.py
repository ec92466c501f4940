"""``gvrs nearrepeat``: the Knox test over incidents selected like ``gvrs stats``."""

from __future__ import annotations

import json

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.nearrepeat import KnoxError, knox_test
from gvrs.cliutil import write_frame
from gvrs.reports.spatial import add_selection_arguments, load_points


def _bands(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise CommandError(f"bands {text!r}: give numbers like 100,200,400", returncode=2) from None


class Command(BaseCommand):
    help = "Knox space-time test (Near Repeat Calculator layout) with Monte Carlo p-values."

    def add_arguments(self, parser) -> None:
        add_selection_arguments(parser)
        parser.add_argument("--space-bands", default="100,200,400", help="metres, e.g. 100,200,400")
        parser.add_argument("--time-bands", default="7,14,28", help="days, e.g. 7,14,28")
        parser.add_argument("--permutations", type=int, default=999)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--distance", choices=("euclidean", "manhattan"), default="euclidean")

    def handle(self, *args, **options) -> None:
        points, t, _, description = load_points(options)
        try:
            result = knox_test(
                points.x_m,
                points.y_m,
                t,
                space_bands_m=_bands(options["space_bands"]),
                time_bands_days=_bands(options["time_bands"]),
                permutations=options["permutations"],
                seed=options["seed"],
                metric=options["distance"],
            )
        except KnoxError as exc:
            raise CommandError(str(exc), returncode=2) from None
        cells = [cell.__dict__ for cell in result.cells]
        if options["format"] == "json":
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
                        "band_edges": "first band [0, upper], later bands (lower, upper]",
                        "cells": cells,
                    },
                    indent=2,
                )
            )
        elif options["format"] == "csv":
            write_frame(pd.DataFrame(cells), "csv", self.stdout)
        else:
            self.stdout.write(description)
            self.stdout.write(
                f"Knox ratios (observed / expected pairs; * p < 0.05, "
                f"{result.permutations} permutations, seed {result.seed}):"
            )
            self.stdout.write(result.table().to_string())
