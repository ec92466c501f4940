"""``gvrs imports``: the import runs, newest first."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand

from gvrs.cliutil import OUTPUT_FORMATS, write_frame
from gvrs.incidents.models import ImportRun

COLUMNS = [
    "id",
    "started_at",
    "initiated_by",
    "file_name",
    "format",
    "status",
    "rows_read",
    "rows_inserted",
    "rows_updated",
    "rows_unchanged",
    "rows_rejected",
    "duration_s",
    "file_sha256",
]


class Command(BaseCommand):
    help = "List import runs: who imported which file when, and what it changed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table")
        parser.add_argument("--limit", type=int, default=50)

    def handle(self, *args, **options) -> None:
        runs = ImportRun.objects.values_list(*COLUMNS)[: options["limit"]]
        frame = pd.DataFrame(list(runs), columns=COLUMNS)
        frame["duration_s"] = frame["duration_s"].round(2)
        if options["format"] == "table":
            frame["started_at"] = frame["started_at"].map(lambda t: f"{t:%Y-%m-%d %H:%M}")
            frame["file_sha256"] = frame["file_sha256"].str[:12]
        write_frame(frame, options["format"], self.stdout, title="Import runs")
