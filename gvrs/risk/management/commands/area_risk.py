"""``gvrs area_risk``: expected shootings per area from the contagion model, for the alerts."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.contagion import ContagionError
from gvrs.incidents.lookup import find_jurisdiction
from gvrs.risk.arearisk import AreaRiskError, compute_area_risk
from gvrs.risk.threads import add_threads_argument, threads_option


class Command(BaseCommand):
    help = "Fit the contagion model and store expected shootings per area for retaliation alerts."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--jurisdiction", required=True, help="the place (e.g. a county)")
        parser.add_argument(
            "--horizon",
            type=int,
            help="days ahead (default: the place's alert window, 14 unless its policy says)",
        )
        parser.add_argument(
            "--history", type=int, default=730, help="days of shootings to fit on (730)"
        )
        add_threads_argument(parser)

    def handle(self, *args, **options) -> None:
        threads = threads_option(options)
        place = find_jurisdiction(options["jurisdiction"])
        try:
            result = compute_area_risk(
                place,
                horizon_days=options["horizon"],
                history_days=options["history"],
                threads=threads,
            )
        except (AreaRiskError, ContagionError) as exc:
            raise CommandError(str(exc), returncode=1) from None
        raised = sorted(result.expected.items(), key=lambda kv: -kv[1])
        self.stdout.write(
            f"{place}: {result.shootings} shootings fitted (branching ratio"
            f" {result.branching_ratio:.3f}); {result.surface_total:.1f} expected in the"
            f" {result.horizon_days} days after {result.as_of}, stored for"
            f" {len(raised)} areas; {sum(1 for _, v in raised if v >= 1.0)} expect one or more"
        )
        for name, value in raised[:10]:
            self.stdout.write(f"  {name}: {value:.2f}")
