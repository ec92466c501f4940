"""``gvrs mapping check FILE.toml [DATA]``: validate a mapping, and show the first rows of a
file as they would be imported. Nothing is written.

Exit codes: 0 the mapping is valid (and the rows shown are), 1 the file does not fit the
mapping or a row shown is invalid, 2 the mapping itself is invalid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.cliutil import write_frame
from gvrs.data.errors import FileError
from gvrs.data.mapping import Mapping, MappingError, load_mapping
from gvrs.data.readers import open_table
from gvrs.data.validate import validate_rows
from gvrs.incidents.importing.places import PlaceResolver
from gvrs.incidents.importing.published import _validate
from gvrs.incidents.importing.run import _unpivot

SHOWN_COLUMNS = (
    "line",
    "source_id",
    "kind",
    "occurred_at",
    "state",
    "jurisdiction",
    "area",
    "weapon",
    "killed",
    "injured",
    "group_involvement",
    "circumstance",
)


class Command(BaseCommand):
    help = "Check a mapping (TOML) and show a file's first rows as they would be imported."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["check"])
        parser.add_argument("mapping", type=Path)
        parser.add_argument("data", type=Path, nargs="?")
        parser.add_argument("--rows", type=int, default=10, help="rows to show (default 10)")
        parser.add_argument("--state", help="state of places the file names without one")

    def handle(self, *args, **options) -> None:
        try:
            mapping = load_mapping(options["mapping"])
        except MappingError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"{options['mapping']}: a valid {mapping.target} mapping")
        self._describe(mapping)
        data: Path | None = options["data"]
        if data is None:
            return
        if not data.exists():
            raise CommandError(f"{data}: no such file", returncode=2)
        try:
            table = open_table(data)
            mapping.check_columns(table.columns, table.name, jurisdiction_given=False)
            chunk = next(iter(table.chunks(max(options["rows"] * 20, 1000))), None)
        except FileError as exc:
            raise CommandError(str(exc), returncode=1) from None
        if chunk is None:
            raise CommandError(f"{table.name}: the file has a header but no rows", returncode=1)
        keep = mapping.keep(chunk.frame)
        chunk = replace(chunk, frame=chunk.frame[keep], lines=chunk.lines[keep])
        if not keep.all():
            self.stdout.write(f"The filter leaves out {(~keep).sum():,} of the first rows read.")
        chunk = replace(chunk, frame=chunk.frame.head(options["rows"]))
        chunk = replace(chunk, lines=chunk.lines[: len(chunk.frame)])
        if mapping.target == "published_counts":
            errors = self._published(mapping, chunk, table.name)
        else:
            errors = self._incidents(mapping, chunk, options["state"], table.name)
        if errors:
            raise CommandError(
                f"{table.name}: {errors} invalid values in the rows shown", returncode=1
            )

    def _describe(self, mapping: Mapping) -> None:
        lines = [f"  format {mapping.name!r}, source {mapping.source!r}"]
        if mapping.state or mapping.time_zone:
            lines.append(
                f"  places in {mapping.state or '(the path, --state or GVRS_DEFAULT_STATE)'}"
                + (f", zone {mapping.time_zone}" if mapping.time_zone else "")
            )
        for name, rule in mapping.rules.items():
            if rule.optional:
                continue
            if rule.constant is not None:
                source = f"always {rule.constant!r}"
            elif rule.path:
                source = "path " + " > ".join(rule.path)
            else:
                source = " + ".join(rule.columns)
            lines.append(f"  {name} <- {source}")
        if mapping.derive_kind:
            lines.append("  kind <- outcome (homicide if anyone died, else by who was hurt)")
        for rule in mapping.derive_rules:
            test = f"contains {list(rule.contains)}" if rule.contains else f"regex {rule.regex!r}"
            lines.append(f"  {rule.field} = {rule.value!r} where {rule.column} {test}")
        for row_filter in mapping.filters:
            test = f"regex {row_filter.regex!r}" if row_filter.regex else list(row_filter.values)
            negation = "not " * row_filter.negate
            lines.append(f"  keep rows where {row_filter.column} {negation}{test}")
        if mapping.unpivot:
            lines.append(f"  a row per column of {', '.join(mapping.unpivot.columns)}")
        for series in mapping.series:
            lines.append(f"  {series.metric} <- {series.column or 'the unpivoted values'}")
        self.stdout.write("\n".join(lines))

    def _incidents(self, mapping: Mapping, chunk, state: str | None, name: str) -> int:
        canonical = mapping.apply(chunk.frame)
        checked = validate_rows(
            canonical,
            chunk.lines,
            today=dt.date.today() + dt.timedelta(days=1),
            datetime_formats=mapping.datetime_formats,
            kind_derived=mapping.kind_derived,
            kind_rules=mapping.kind_rules,
        )
        resolver = PlaceResolver(state=state or mapping.state)
        # The typed values import would store (rows with an error are listed below instead).
        shown = checked.rows.copy()
        shown["occurred_at"] = (
            shown["occurred_on"].astype(str) + " " + shown["occurred_time"].fillna("").astype(str)
        ).str.strip()
        shown["state"] = [resolver.split(p)[0] or "(none)" for p in shown["jurisdiction"]]
        if mapping.kind_derived:
            shown["kind"] = shown["kind"].where(shown["kind"].notna(), "(from outcome)")
        columns = [c for c in SHOWN_COLUMNS if c in shown]
        write_frame(shown[columns], "table", self.stdout, title=f"{name}, as imported")
        for error in checked.errors:
            self.stderr.write(error.describe(name))
        return len(checked.errors)

    def _published(self, mapping: Mapping, chunk, name: str) -> int:
        if mapping.unpivot is not None:
            frame, lines = _unpivot(chunk.frame, chunk.lines, mapping.unpivot)
            chunk = replace(chunk, frame=frame, lines=lines)
        rows, errors, skipped = _validate(chunk, mapping, dt.date.today().year)
        year = rows["year"].astype(int)
        rows = rows.assign(
            period_start=[f"{y}-01-01" for y in year],
            period_end=[f"{y}-{e}" for y, e in zip(year, rows["end"], strict=True)],
        )
        shown = rows[["line", "path", "metric", "period_start", "period_end", "count"]]
        write_frame(
            pd.DataFrame(shown).sort_values(["line", "metric", "period_start"]),
            "table",
            self.stdout,
            title=f"{name}, as published counts",
        )
        for error in errors + skipped:
            self.stderr.write(error.describe(name))
        return len(errors)
