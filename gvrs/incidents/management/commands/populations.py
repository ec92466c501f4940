"""``gvrs populations FILE.csv``: load residents per jurisdiction and year, for rates.

The file has columns ``jurisdiction, year, population`` and optionally ``source``. Loading is
idempotent (a year already stored is updated) and all-or-nothing like every import.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gvrs.data.errors import FileError, RowError
from gvrs.data.readers import open_table
from gvrs.incidents.importing.places import PlaceError, PlaceResolver
from gvrs.incidents.models import Population

REQUIRED = ("jurisdiction", "year", "population")


def read_populations(path: Path) -> tuple[pd.DataFrame, list[RowError]]:
    table = open_table(path)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise FileError(table.name, f"missing required columns {', '.join(missing)}", line=1)
    frames = [chunk.frame.assign(line=chunk.lines) for chunk in table.chunks()]
    frame = pd.concat(frames, ignore_index=True)
    errors = []
    year = pd.to_numeric(frame["year"].str.strip(), errors="coerce")
    people = pd.to_numeric(frame["population"].str.strip(), errors="coerce")
    checks = (
        (
            year.isna() | (year % 1 != 0) | (year < 1800) | (year > dt.date.today().year + 1),
            "year",
            "not a year",
        ),
        (
            people.isna() | (people % 1 != 0) | (people <= 0),
            "population",
            "population must be a whole number above 0",
        ),
        (frame["jurisdiction"].str.strip() == "", "jurisdiction", "required value is missing"),
    )
    for mask, column, reason in checks:
        errors += [
            RowError(int(n), column, str(v), reason)
            for n, v in zip(frame["line"][mask], frame[column][mask], strict=True)
        ]
    frame["year"], frame["population"] = year, people
    return frame, sorted(errors, key=lambda e: e.line)


class Command(BaseCommand):
    help = "Load population per jurisdiction and year (CSV: jurisdiction, year, population)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--state", help="state of places named without one (default: GVRS_DEFAULT_STATE)"
        )

    def handle(self, *args, **options) -> None:
        path = options["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file", returncode=2)
        try:
            frame, errors = read_populations(path)
        except FileError as exc:
            raise CommandError(str(exc), returncode=1) from None
        if errors:
            for error in errors:
                self.stderr.write(error.describe(path.name))
            raise CommandError(
                f"{path.name}: {len(errors)} invalid values; nothing was loaded", returncode=1
            )
        source = frame["source"] if "source" in frame else pd.Series("", index=frame.index)
        places = PlaceResolver(state=options["state"], file_name=path.name)
        names = frame["jurisdiction"].str.strip()
        try:
            with transaction.atomic():
                first = frame.assign(name=names).drop_duplicates("name")
                ids = places.jurisdiction_ids(first["name"].tolist(), first["line"].tolist())
                self._store(names.map(ids), frame, source)
        except PlaceError as exc:
            raise CommandError(str(exc), returncode=1) from None
        self.stdout.write(f"Loaded {len(frame):,} populations from {path.name}")

    def _store(self, ids, frame, source) -> None:
        for pk, year, people, src in zip(
            ids, frame["year"], frame["population"], source, strict=True
        ):
            Population.objects.update_or_create(
                jurisdiction_id=int(pk),
                year=int(year),
                defaults={"population": int(people), "source": src.strip()},
            )
