"""``gvrs simulate --scenario NAME --years 2015..2025 --seed N --out DIR``."""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gvrs.data.simulate import SCENARIOS, simulate
from gvrs.data.simulate.output import FILES, write_city


def parse_years(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})(?:\.\.(\d{4}))?", text.strip())
    if not match:
        raise CommandError(f"--years {text!r}: use 2015..2025 or one year", returncode=2)
    first = int(match[1])
    return first, int(match[2] or first)


class Command(BaseCommand):
    help = "Write a seeded synthetic county (incidents, groups, participants, truth) to a folder."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scenario", default="bakersfield-like", choices=sorted(SCENARIOS))
        parser.add_argument("--years", default="2015..2025", help="e.g. 2015..2025")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--size",
            type=float,
            default=1.0,
            help="multiply every town's residents (and about the events)",
        )
        parser.add_argument("--out", type=Path, required=True, help="folder to write")

    def handle(self, *args, **options) -> None:
        first, last = parse_years(options["years"])
        started = time.perf_counter()
        try:
            city = simulate(
                options["scenario"], years=(first, last), seed=options["seed"], size=options["size"]
            )
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from None
        write_city(city, options["out"])
        realised = city.truth()["realised"]
        self.stdout.write(
            f"Simulated {options['scenario']} {city.start}..{city.end} (seed {options['seed']}): "
            f"{realised['incidents']:,} shootings, {realised['people_shot']:,} people shot, "
            f"{realised['killed']:,} killed, in {time.perf_counter() - started:.1f} s"
        )
        for name, what in FILES.items():
            self.stdout.write(f"  {options['out'] / name}: {what}")
        # Places are matched within their state, and the file names none: the simulated
        # counties are modelled on California's, so the printed commands say --state CA.
        out = options["out"]
        self.stdout.write(
            "Import with:\n"
            f"  gvrs import {shlex.quote(str(out / 'incidents.csv'))} --format gvrs --state CA\n"
            f"  gvrs populations {shlex.quote(str(out / 'populations.csv'))} --state CA\n"
            f"  gvrs boundaries {shlex.quote(str(out / 'neighborhoods.geojson'))}"
            f" --jurisdiction-field town --parent {shlex.quote(city.scenario.county)} --state CA"
        )
