"""``gvrs demo``: build a fresh demo registry from the bundled real data and show the overview.

The demo lives in its own database (``$GVRS_HOME/demo``), chosen by ``gvrs.cli`` before Django
starts, so it never touches the registry an analyst has built.
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import ExtractYear

from gvrs.analysis.inference import compare_counts
from gvrs.analysis.narrative import change_sentence
from gvrs.data import bundled_path
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident, PublishedCount

CITIES = ("Bakersfield", "Fresno", "Stockton")


class Command(BaseCommand):
    help = "Build the demo database from bundled real data and print the overview figures."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="build the database and exit (the web app is not there yet either way)",
        )

    def handle(self, *args, **options) -> None:
        if connection.vendor != "sqlite":
            raise CommandError(
                "gvrs demo builds its own SQLite database; unset GVRS_DATABASE_URL to run it",
                returncode=2,
            )
        self.stdout.write(f"Building the demo database at {connection.settings_dict['NAME']}")
        call_command("flush", interactive=False, verbosity=0)
        for name in ("ca-doj", "philly-shootings"):
            mapping = load_format(name)
            report = import_file(bundled_path(name), mapping, initiated_by="gvrs demo")
            run = report.run
            self.stdout.write(
                f"  {mapping.title}: {run.rows_inserted:,} rows in {run.duration_s:.1f} s"
            )
            self.stdout.write(f"    source: {mapping.attribution}")
        self._overview()

    def _overview(self) -> None:
        self.stdout.write("\nHomicides, California DOJ published counts (2021 vs 2022):")
        for city in CITIES:
            counts = dict(
                PublishedCount.objects.filter(
                    jurisdiction__name=city,
                    metric="homicides",
                    period_start__year__in=(2021, 2022),
                ).values_list("period_start__year", "count")
            )
            sentence = change_sentence(
                "Homicides", compare_counts(counts[2021], counts[2022]), "2021", "2022"
            )
            self.stdout.write(f"  {city}: {sentence}")
        self.stdout.write("\nPhiladelphia shootings, counted from incidents (victims shot):")
        by_year = dict(
            Incident.objects.filter(source="philly-shootings")
            .annotate(year=ExtractYear("occurred_on"))
            .values("year")
            .annotate(n=Count("id"), victims=Sum("injured") + Sum("killed"))
            .values_list("year", "victims")
        )
        for year in (2021, 2022, 2023, 2024):
            sentence = change_sentence(
                "People shot",
                compare_counts(by_year[year - 1], by_year[year]),
                str(year - 1),
                str(year),
            )
            self.stdout.write(f"  {sentence}")
