"""``gvrs demo``: build a fresh demo registry from the bundled real data and show the overview.

The demo lives in its own database (``$GVRS_HOME/demo``), chosen by ``gvrs.cli`` before Django
starts, so it never touches the registry an analyst has built.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import ExtractYear

from gvrs.analysis.counts import compare_periods
from gvrs.analysis.inference import compare_counts
from gvrs.analysis.narrative import change_sentence
from gvrs.analysis.periods import parse_period
from gvrs.data import PHILADELPHIA_NEIGHBORHOODS, bundled_file, bundled_path
from gvrs.data.mapping import load_format
from gvrs.data.metrics import get_metric
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident, Jurisdiction, PublishedCount
from gvrs.reports.models import SiteSettings
from gvrs.reports.series import incident_series

CITIES = ("Bakersfield", "Fresno", "Stockton")
# The simulated county: Bakersfield-like with its strategy, and comparison towns without one.
DEMO_SCENARIO = "kern-like-demo"


class Command(BaseCommand):
    help = "Build the demo database from bundled real data and print the overview figures."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="build the database and exit instead of serving it",
        )
        parser.add_argument("--port", type=int, default=8000)

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
                f"  {mapping.title}: {run.rows_read:,} rows read, "
                + (
                    f"{run.incidents_inserted:,} incidents"
                    if run.target == "incidents"
                    else f"{run.rows_inserted:,} published counts"
                )
                + f" stored in {run.duration_s:.1f} s"
            )
            self.stdout.write(f"    source: {mapping.attribution}")
        # Philadelphia's 49 neighbourhoods, so its map is a named choropleth with no network.
        call_command(
            "boundaries",
            str(bundled_file(PHILADELPHIA_NEIGHBORHOODS)),
            jurisdiction="Philadelphia",
            name_field="neighborhood",
            state="PA",
            stdout=self.stdout,
        )
        self._simulated_county()
        self._overview()
        password = self._users()
        self._partners(password)
        self._reviews()
        if options["no_serve"]:
            self.stdout.write("Serve it later with: gvrs serve --demo")
        else:
            call_command("serve", port=options["port"])

    def _users(self) -> str:
        """One demo user per role, named after it; the password from GVRS_DEMO_PASSWORD or a
        random one, printed once."""
        import os
        import secrets

        from django.contrib.auth.models import Group, User

        from gvrs.accounts.roles import DEMO_USERS, sync_roles

        sync_roles()
        password = os.environ.get("GVRS_DEMO_PASSWORD") or secrets.token_urlsafe(12)
        for name, role in DEMO_USERS.items():
            user = User.objects.create_user(
                name, password=password, is_staff=name == "admin", is_superuser=name == "admin"
            )
            user.groups.add(Group.objects.get(name=role))
        shown = "from GVRS_DEMO_PASSWORD" if os.environ.get("GVRS_DEMO_PASSWORD") else password
        self.stdout.write(f"\nDemo users {', '.join(DEMO_USERS)} (one per role); password: {shown}")
        return password

    def _partners(self, password: str) -> None:
        """Two partner organizations with the simulator's participants (gvrs.partners.demo)."""
        from gvrs.data.simulate import SCENARIOS
        from gvrs.env import gvrs_home
        from gvrs.partners.demo import build_partner_demo

        self.stdout.write("\nCommunity partners (simulated; the police user sees none of it):")
        lines = build_partner_demo(
            gvrs_home() / "simulated",
            county=SCENARIOS[DEMO_SCENARIO].county,
            password=password,
        )
        for line in lines:
            self.stdout.write(line)

    def _reviews(self) -> None:
        """The group audit and the review queue of the simulated county (gvrs.reviews.demo)."""
        from gvrs.data.simulate import SCENARIOS
        from gvrs.env import gvrs_home
        from gvrs.reviews.demo import build_review_demo

        self.stdout.write("\nShooting review (simulated groups; no person is listed):")
        for line in build_review_demo(
            gvrs_home() / "simulated", county=SCENARIOS[DEMO_SCENARIO].county
        ):
            self.stdout.write(line)

    def _simulated_county(self) -> None:
        """A Kern-like county from the simulator: incident-level data with groups and
        participants that no real source publishes."""
        from gvrs.data.simulate import simulate
        from gvrs.data.simulate.output import write_city
        from gvrs.env import gvrs_home

        # The strategy runs to the day the demo is built: the data end yesterday, so the
        # review queue, the alerts and the year to date are live. Same seed, same county,
        # apart from where "today" cuts it. Today in the county's own zone (the places the
        # demo makes keep the default zone), so the data never reach the county's today
        # while the server's clock (UTC) has already turned the day.
        today = dt.datetime.now(ZoneInfo(settings.GVRS_DEFAULT_TIME_ZONE)).date()
        city = simulate(DEMO_SCENARIO, years=(2015, today.year), seed=1, today=today)
        paths = write_city(city, gvrs_home() / "simulated")
        # The simulated county lies in California, as the city it is modelled on.
        report = import_file(
            paths["incidents.csv"], load_format("gvrs"), initiated_by="gvrs demo", state="CA"
        )
        call_command(
            "populations",
            str(paths["populations.csv"]),
            state="CA",
            verbosity=0,
            stdout=self.stdout,
        )
        call_command(
            "boundaries",
            str(paths["neighborhoods.geojson"]),
            jurisdiction_field="town",
            parent=city.scenario.county,
            state="CA",
            stdout=self.stdout,
        )
        self.stdout.write(
            f"  Simulated {city.scenario.county} (seed 1): {report.run.rows_inserted:,} rows; "
            f"files and truth in {paths['truth.json'].parent}"
        )
        # The demo deployment serves the simulated county: sign-in lands on its overview.
        county = Jurisdiction.objects.named(city.scenario.county)
        SiteSettings.objects.update_or_create(pk=1, defaults={"home_jurisdiction": county})
        # ... and publishes its public dashboard (open to anyone, small counts suppressed).
        from gvrs.public.models import PublicDashboard

        PublicDashboard.objects.update_or_create(jurisdiction=county, defaults={"enabled": True})
        self.stdout.write(f"  Public dashboard, no sign-in: /public/{county.slug}/")

    def _overview(self) -> None:
        self.stdout.write("\nHomicides, California DOJ published counts (2021 vs 2022):")
        for city in CITIES:
            counts = dict(
                PublishedCount.objects.filter(
                    jurisdiction__name=city,
                    jurisdiction__state="CA",
                    metric="homicides",
                    period_start__year__in=(2021, 2022),
                ).values_list("period_start__year", "count")
            )
            sentence = change_sentence(
                "Homicides", compare_counts(counts[2021], counts[2022]), "2021", "2022"
            )
            self.stdout.write(f"  {city}: {sentence}")
        simulated = Jurisdiction.objects.named("Bakersfield-like")
        this_year = simulated.today().year
        self.stdout.write(
            "\nBakersfield-like (simulated, counted from its incidents), this year to date"
            " against the same days last year:"
        )
        for metric in ("homicides", "shootings"):
            series = incident_series(get_metric(metric), simulated)
            change = compare_periods(
                series, parse_period(str(this_year)), parse_period(str(this_year - 1))
            )
            self.stdout.write(f"  {change.sentence}")
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
