"""``gvrs jurisdictions``: the places in the registry, with their parents and slugs."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand
from django.db.models import Count

from gvrs.cliutil import OUTPUT_FORMATS, write_frame
from gvrs.incidents.models import Jurisdiction


class Command(BaseCommand):
    help = "List jurisdictions with their level, parent, slug and incident count."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table")
        parser.add_argument("--search", help="only names containing this text")

    def handle(self, *args, **options) -> None:
        qs = Jurisdiction.objects.annotate(n=Count("incidents"))
        if options["search"]:
            qs = qs.filter(name__icontains=options["search"])
        columns = ["name", "slug", "level", "parent__name", "time_zone", "n"]
        frame = pd.DataFrame(list(qs.values_list(*columns)), columns=columns)
        frame = frame.rename(columns={"parent__name": "parent", "n": "incidents"})
        write_frame(frame, options["format"], self.stdout, title="Jurisdictions")
