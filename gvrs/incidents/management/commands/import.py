"""``gvrs import FILE --format NAME``: load an export into the registry.

Exit codes: 0 imported, 1 invalid data (nothing imported unless --accept-valid), 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError

from gvrs.cliutil import parse_date
from gvrs.data.errors import FileError
from gvrs.data.mapping import MappingError, available_formats, load_format, load_mapping
from gvrs.data.schema import SOURCE_MAX_LENGTH
from gvrs.data.states import state_code
from gvrs.incidents.importing import import_file
from gvrs.incidents.importing.run import ImportReport, busy_message

SHOWN_ERRORS = 50
SHOWN_PLACES = 1000
PROGRESS_MIN_BYTES = 256 * 1024  # roughly a few thousand rows


class Command(BaseCommand):
    help = "Import incidents or published counts from a CSV (or .csv.gz), XLSX or Parquet file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--format",
            dest="format_name",
            help=f"a shipped format: {', '.join(available_formats())}",
        )
        parser.add_argument("--mapping", type=Path, help="your own column mapping (TOML)")
        parser.add_argument("--jurisdiction", help="jurisdiction for rows that name none")
        parser.add_argument(
            "--accept-valid",
            action="store_true",
            help="import the valid rows and set the invalid ones aside (see --rejects)",
        )
        parser.add_argument("--rejects", type=Path, help="write rejected rows here, with a reason")
        parser.add_argument("--encoding", help="the file's text encoding (default: detected)")
        parser.add_argument("--source", help="source name stored with each incident")
        parser.add_argument(
            "--state",
            help="state (USPS code or name) of places the file names without one "
            "(default: the mapping's, else GVRS_DEFAULT_STATE)",
        )
        parser.add_argument(
            "--new-places",
            action="store_true",
            help="create a place even where its name already exists elsewhere in the state "
            "(a separate place; an existing one is never moved)",
        )
        parser.add_argument(
            "--from",
            dest="covers_from",
            type=parse_date,
            help="first day the file covers (default: its first date, from the month's start)",
        )
        parser.add_argument(
            "--through",
            dest="covers_through",
            type=parse_date,
            help="last day the file covers (default: its latest date, strays left out)",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file", returncode=2)
        if options["source"] and len(options["source"]) > SOURCE_MAX_LENGTH:
            raise CommandError(
                f"--source is longer than {SOURCE_MAX_LENGTH} characters", returncode=2
            )
        if (
            options["covers_from"]
            and options["covers_through"]
            and options["covers_through"] < options["covers_from"]
        ):
            raise CommandError("--through is before --from", returncode=2)
        try:
            if options["mapping"]:
                mapping = load_mapping(options["mapping"])
            elif options["format_name"]:
                mapping = load_format(options["format_name"])
            else:
                raise CommandError(
                    "give --format NAME or --mapping FILE.toml; formats: "
                    + ", ".join(available_formats()),
                    returncode=2,
                )
        except MappingError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if options["state"] and state_code(options["state"]) is None:
            raise CommandError(
                f"--state {options['state']!r} is not a US state (e.g. CA or California)",
                returncode=2,
            )

        progress = ProgressBar(path) if sys.stderr.isatty() else None
        try:
            report = import_file(
                path,
                mapping,
                jurisdiction=options["jurisdiction"],
                accept_valid=options["accept_valid"],
                rejects_path=options["rejects"],
                encoding=options["encoding"],
                source=options["source"],
                covers_from=options["covers_from"],
                covers_through=options["covers_through"],
                progress=progress.update if progress else None,
                state=options["state"],
                new_places=options["new_places"],
            )
        except FileError as exc:
            raise CommandError(str(exc), returncode=1) from None
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            raise CommandError(busy_message(path.name), returncode=1) from None
        finally:
            if progress:
                progress.close()
        self._print(report, path, options)
        if not report.ok:
            raise CommandError(
                f"{path.name}: {len(report.errors)} invalid values; nothing was imported "
                "(fix the file, or use --accept-valid to import the valid rows)",
                returncode=1,
            )

    def _print(self, report: ImportReport, path: Path, options) -> None:
        run = report.run
        for error in report.errors[:SHOWN_ERRORS]:
            self.stderr.write(error.describe(path.name))
        if len(report.errors) > SHOWN_ERRORS:
            more = len(report.errors) - SHOWN_ERRORS
            hint = "" if options["rejects"] else " (--rejects FILE.csv writes every rejected row)"
            self.stderr.write(f"... and {more:,} more errors{hint}")
        if not report.ok:
            return
        unit = "figures" if run.target == "published_counts" else "rows"
        self.stdout.write(
            f"Imported {path.name} as {run.format}: {run.rows_read:,} rows read; "
            f"{unit} {run.rows_inserted:,} inserted, {run.rows_updated:,} updated, "
            f"{run.rows_unchanged:,} unchanged, {run.rows_rejected:,} rejected "
            f"({run.duration_s:.1f} s, import run {run.pk})"
        )
        if run.target == "incidents":
            self.stdout.write(
                f"Incidents: {run.incidents_inserted:,} new, {run.incidents_updated:,} updated, "
                f"{run.incidents_unchanged:,} unchanged"
            )
        if (
            run.rows_read
            and run.rows_unchanged == run.rows_read - run.rows_rejected
            and not (run.rows_inserted or run.rows_updated)
        ):
            self.stdout.write("Nothing changed: the registry already held this file.")
        if run.message:
            self.stdout.write(run.message)
        if report.created_jurisdictions:
            created = report.created_jurisdictions
            self.stdout.write(f"New places ({len(created):,}):")
            for path in created[:SHOWN_PLACES]:
                self.stdout.write(f"  {path}")
            if len(created) > SHOWN_PLACES:
                self.stdout.write(
                    f"  ... and {len(created) - SHOWN_PLACES:,} more: "
                    f"gvrs jurisdictions --import-run {run.pk}"
                )
        if report.rejects_written is not None:
            self.stdout.write(f"Rejected rows written to {options['rejects']}")


class ProgressBar:
    """A rich progress bar over the bytes of the file, on stderr, for large files only."""

    def __init__(self, path: Path) -> None:
        self._progress = None
        if path.stat().st_size < PROGRESS_MIN_BYTES:
            return
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("importing"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("import", total=path.stat().st_size, rows=0)
        self._progress.start()

    def update(self, done: int, total: int, rows: int) -> None:
        if self._progress:
            self._progress.update(self._task, completed=done, total=total, rows=rows)

    def close(self) -> None:
        if self._progress:
            self._progress.stop()
