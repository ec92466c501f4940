"""``gvrs review_queue``: put shootings without a review into the review queue (idempotent)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from gvrs.incidents.models import Incident, Jurisdiction
from gvrs.reviews.models import Review
from gvrs.reviews.queue import queue_incidents, queue_new_shootings


class Command(BaseCommand):
    help = "Queue homicides and nonfatal shootings without a review for the shooting review."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since",
            type=dt.date.fromisoformat,
            help="queue every one since this date (a back-fill taken into the review on "
            "purpose); without it, only those inside the policy's queue_back_days",
        )
        parser.add_argument("--jurisdiction", help="only this place (and the places inside it)")

    def handle(self, *args, **options) -> None:
        incidents = Incident.objects.all()
        if options["jurisdiction"]:
            try:
                place = Jurisdiction.objects.named(options["jurisdiction"])
            except (Jurisdiction.DoesNotExist, Jurisdiction.MultipleObjectsReturned):
                raise CommandError(
                    f"no single place called {options['jurisdiction']!r}", returncode=2
                ) from None
            incidents = incidents.in_jurisdiction(place)
        if options["since"]:
            added = queue_incidents(incidents.filter(occurred_on__gte=options["since"]))
        elif options["jurisdiction"]:
            added = queue_incidents(incidents, recent_only=True)
        else:
            added = queue_new_shootings()
        still_open = Review.objects.open().count()
        self.stdout.write(f"{added} shootings entered the review queue; {still_open} open in all")
