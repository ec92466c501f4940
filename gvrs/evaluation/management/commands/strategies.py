"""``gvrs strategies``: the registry of strategy starts (where, when, what began) that every
evaluation reads."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.cliutil import OUTPUT_FORMATS, parse_date, write_frame
from gvrs.evaluation.models import Strategy
from gvrs.incidents.lookup import find_jurisdiction
from gvrs.reports.options import usage


class Command(BaseCommand):
    help = (
        "The registry of strategy starts: add one (place, start date, what began) or list "
        "them; evaluations never compare with a place whose strategy has begun."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="record that a strategy began in a place")
        add.add_argument("--jurisdiction", required=True, help="name, slug or 'County > City'")
        add.add_argument("--start", required=True, type=parse_date, help="first day, YYYY-MM-DD")
        add.add_argument(
            "--what", required=True, help="what began, e.g. 'Ceasefire group violence intervention'"
        )
        listing = actions.add_parser("list", help="every recorded start, earliest first")
        listing.add_argument("--jurisdiction", help="only this place and the places within it")
        listing.add_argument("--format", choices=OUTPUT_FORMATS, default="table")
        remove = actions.add_parser("remove", help="remove a start recorded by mistake")
        remove.add_argument("id", type=int, help="its id, as `gvrs strategies list` shows")

    def handle(self, *args, **options) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _add(self, options) -> None:
        place = find_jurisdiction(options["jurisdiction"])
        what = options["what"].strip()
        if not what or len(what) > 300:
            raise usage("--what must say what began, in at most 300 characters")
        strategy, created = Strategy.objects.get_or_create(
            jurisdiction=place,
            start=options["start"],
            description=what,
            defaults={"added_by": "gvrs strategies add"},
        )
        verb = "Added" if created else "Already recorded"
        self.stdout.write(f"{verb} (id {strategy.pk}): {strategy}")

    def _list(self, options) -> None:
        rows = Strategy.objects.select_related("jurisdiction")
        if options["jurisdiction"]:
            place = find_jurisdiction(options["jurisdiction"])
            rows = rows.filter(jurisdiction_id__in=place.descendant_ids())
        frame = pd.DataFrame(
            [
                {
                    "id": s.pk,
                    "jurisdiction": s.jurisdiction.name,
                    "slug": s.jurisdiction.slug,
                    "start": s.start,
                    "what": s.description,
                }
                for s in rows
            ],
            columns=["id", "jurisdiction", "slug", "start", "what"],
        )
        write_frame(frame, options["format"], self.stdout, title="Strategy starts")

    def _remove(self, options) -> None:
        found = Strategy.objects.filter(pk=options["id"]).first()
        if found is None:
            raise CommandError(f"no strategy start with id {options['id']}", returncode=1)
        found.delete()
        self.stdout.write(f"Removed (id {options['id']}): {found}")
