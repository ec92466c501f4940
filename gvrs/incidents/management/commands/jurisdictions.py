"""``gvrs jurisdictions``: the places in the registry, with their parents and slugs."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand
from django.db.models import Count

from gvrs.cliutil import OUTPUT_FORMATS, write_frame
from gvrs.data.states import state_code
from gvrs.incidents.models import Jurisdiction


class Command(BaseCommand):
    help = "List jurisdictions with their level, parent, slug and incident count."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table")
        parser.add_argument("--search", help="only names containing this text")
        parser.add_argument("--state", help="only places in this state (USPS code)")
        parser.add_argument("--import-run", type=int, help="only places this import created")

    def handle(self, *args, **options) -> None:
        qs = Jurisdiction.objects.annotate(n=Count("incidents"))
        if options["search"]:
            qs = qs.filter(name__icontains=options["search"])
        if options["state"]:
            qs = qs.filter(state=(state_code(options["state"]) or options["state"]))
        if options["import_run"]:
            qs = qs.filter(import_run_id=options["import_run"])
        columns = ["name", "slug", "level", "state", "parent__name", "time_zone", "ori", "n"]
        frame = pd.DataFrame(list(qs.values_list(*columns)), columns=columns)
        frame = frame.rename(columns={"parent__name": "parent", "n": "incidents"})
        write_frame(frame, options["format"], self.stdout, title="Jurisdictions")
