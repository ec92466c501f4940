"""One import, end to end: read, map, validate, write (directly or staged), record.

Two ways to write, with the same result: the first import of a source whose incidents' rows
lie together is folded in memory and written straight to the registry (``direct``); any other
import, or a first import whose rows turn out to be scattered, is staged in a temporary table
and merged with set-based SQL (``staging``, ``merge``). Either may run as a bulk load
(``bulk``).

The registry changes in one transaction: with any invalid row and no ``accept_valid``, nothing
is written and the run is recorded as failed with every error listed. With ``accept_valid``,
an incident with any bad row is set aside whole (a half-imported incident would undercount its
victims) and its rows go to the rejects file with the reason.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from gvrs.analysis.coverage import FileCoverage, file_coverage
from gvrs.data.errors import FileError, RowError
from gvrs.data.mapping import Mapping
from gvrs.data.nibrs import KINDS as NIBRS_KINDS
from gvrs.data.nibrs import NibrsTable
from gvrs.data.readers import CHUNK_ROWS, open_table
from gvrs.data.validate import validate_rows
from gvrs.incidents.importing import bulk, direct, merge, nibrs, staging
from gvrs.incidents.importing.places import PlaceResolver
from gvrs.incidents.importing.published import (
    UNPIVOT_VALUE,
    UNPIVOT_YEAR,
    import_published_counts,
)
from gvrs.incidents.importing.rejects import write_rejects
from gvrs.incidents.models import ImportRun, PublishedCount

# The first place on Earth to reach a date is at UTC+14: an incident is "in the future" only
# when it is after today everywhere, so no jurisdiction's late-evening incident is refused.
_EARLIEST_ZONE = dt.timezone(dt.timedelta(hours=14))

Progress = Callable[[int, int, int], None]  # (bytes read, total bytes, rows read)
UNFINISHED = (
    "not finished: running, or stopped before it ended (then nothing was stored: an import "
    "writes everything or nothing)"
)


@dataclass
class ImportReport:
    run: ImportRun
    errors: list[RowError] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)  # line -> reason
    warnings: list[RowError] = field(default_factory=list)  # values skipped, not errors
    created_jurisdictions: list[str] = field(default_factory=list)  # full paths
    rows_filtered: int = 0  # left out by the mapping's [filter]
    conflicts_resolved: int = 0
    rejects_written: int | None = None
    # How the rows reached the registry: "direct" (folded in memory) or "staged"; and whether
    # as a bulk load (indexes and constraints rebuilt once at the end).
    written: str = ""
    bulk_load: bool = False
    # The period the file covers and what its dates showed (strays, probable gaps), for the
    # preview and the run summary; also recorded on the run.
    coverage: FileCoverage | None = None
    coverage_days: dict[str, int] = field(default_factory=dict)  # "YYYY-MM-DD" -> valid rows
    # A NIBRS import: incidents removed, and each agency's coverage gaps and late starts.
    nibrs: nibrs.NibrsOutcome | None = None

    @property
    def ok(self) -> bool:
        return self.run.status != ImportRun.Status.FAILED


class _RollbackError(Exception):
    """Raised inside the transaction to undo an import that found invalid rows."""


class _Reading:
    """The file being read, how many rows so far, and the progress bar's callback."""

    def __init__(
        self,
        path: Path,
        encoding: str | None,
        progress: Progress | None,
        chunk_rows: int,
        reader: str = "table",
    ) -> None:
        self.path, self.encoding, self.progress = path, encoding, progress
        self.chunk_rows = chunk_rows
        self.reader = reader
        self.table = self._open()
        self.rows_read = 0

    def _open(self):
        if self.reader == "table":
            return open_table(self.path, encoding=self.encoding)
        # A NIBRS file is read whole (its kept rows are few) and held: reading it again
        # gives the same rows.
        if getattr(self, "table", None) is not None:
            return self.table
        return NibrsTable(self.path, self.reader)

    def chunks(self):
        return self.table.chunks(self.chunk_rows)

    def advance(self, n: int) -> None:
        self.rows_read += n
        if self.progress:
            self.progress(self.table.bytes_read, self.table.size_bytes, self.rows_read)

    def restart(self) -> None:
        """Read the file again from its first row."""
        self.table = self._open()
        self.rows_read = 0


def busy_message(file_name: str) -> str:
    """Why an import could not start on SQLite: another import held the registry longer than
    the busy timeout."""
    from django.conf import settings

    waited = settings.DATABASES["default"].get("OPTIONS", {}).get("timeout", 5)
    return (
        f"{file_name}: the registry is busy: another import is writing it, and it did not "
        f"finish within {waited} s (GVRS_SQLITE_BUSY_TIMEOUT); nothing was imported. Run this "
        "import again when the other one ends (web imports queue and wait on their own)."
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _label_for(mapping: Mapping) -> Callable[[str], str]:
    """The file's column name for a canonical or staged field, for error messages."""

    def label(name: str) -> str:
        name = {
            "occurred_on": "occurred_at",
            "occurred_time": "occurred_at",
            "jurisdiction_id": "jurisdiction",
            "area_id": "area",
        }.get(name, name)
        rule = mapping.rules.get(name)
        if rule is None or not rule.columns or rule.columns == (name,):
            return name
        return "+".join(rule.columns)

    return label


def import_file(
    path: str | Path,
    mapping: Mapping,
    *,
    jurisdiction: str | None = None,
    accept_valid: bool = False,
    rejects_path: str | Path | None = None,
    encoding: str | None = None,
    source: str | None = None,
    initiated_by: str | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    state: str | None = None,
    new_places: bool = False,
    covers_from: dt.date | None = None,
    covers_through: dt.date | None = None,
) -> ImportReport:
    """Import ``path`` with ``mapping`` and return what happened.

    ``chunk_rows`` rows are read and checked at a time: memory grows with it, not with the
    file. Places are matched by their path inside their state: the one the path names, else
    ``state``, the mapping's, or ``GVRS_DEFAULT_STATE``. A place that would be moved, or a
    second place of a name the state already has, stops the import unless ``new_places``.

    ``covers_from``/``covers_through`` record the period the file covers (default: the
    mapping's ``[coverage]``, else the file's own first and latest dates with strays left
    out); outside it every figure is "no data".

    Raises ``FileError`` (after recording a failed run) when the file cannot be read as a
    table at all; row-level problems come back in the report instead.
    """
    path = Path(path)
    started = time.perf_counter()
    run = ImportRun.objects.create(
        started_at=timezone.now(),
        initiated_by=initiated_by or getpass.getuser(),
        file_name=path.name,
        file_sha256=file_sha256(path) if path.is_file() else "",
        file_bytes=path.stat().st_size if path.is_file() else 0,
        format=mapping.name,
        target=mapping.target,
        # Until the import ends: a process killed mid-import leaves this, never a bare
        # "failed" (its transaction rolled back, so nothing was stored).
        status=ImportRun.Status.FAILED,
        message=UNFINISHED,
        source=(source or mapping.source) if mapping.target == "incidents" else mapping.source,
    )
    report = ImportReport(run=run)
    try:
        reading = _Reading(path, encoding, progress, chunk_rows, mapping.reader)
        table = reading.table
        if mapping.reader == "table":
            mapping.check_columns(table.columns, table.name, jurisdiction_given=bool(jurisdiction))
        label = _label_for(mapping)
        places = PlaceResolver(
            state=state or mapping.state,
            time_zone=mapping.time_zone,
            level=mapping.level,
            new_places=new_places,
            file_name=table.name,
            run_id=run.pk,
        )
        try:
            with transaction.atomic():
                if mapping.target == "published_counts":
                    counts, errors, skipped, created = import_published_counts(
                        _published_chunks(reading, mapping, report),
                        mapping,
                        run,
                        places=places,
                    )
                    report.errors = errors
                    report.warnings = skipped
                    report.created_jurisdictions = created
                    if errors:
                        raise _RollbackError
                    report.coverage = _published_coverage(run, mapping)
                elif isinstance(table, NibrsTable):
                    counts = _import_nibrs(
                        reading,
                        mapping,
                        run,
                        report,
                        label,
                        accept_valid=accept_valid,
                        source=source or mapping.source,
                        places=places,
                        covers_from=covers_from,
                        covers_through=covers_through,
                    )
                else:
                    counts = _import_incidents(
                        reading,
                        mapping,
                        run,
                        report,
                        label,
                        jurisdiction=jurisdiction,
                        accept_valid=accept_valid,
                        source=source or mapping.source,
                        places=places,
                    )
                    report.coverage = _record_coverage(
                        report.coverage_days,
                        run,
                        covers_from or mapping.covers_from,
                        covers_through or mapping.covers_through,
                        "given" if (covers_from or covers_through) else "mapping",
                        month_only=_month_only(mapping.datetime_formats.get("occurred_at")),
                    )
        except _RollbackError:
            counts = merge.MergeCounts()
            report.created_jurisdictions = []
        rows_read = reading.rows_read
        if isinstance(table, NibrsTable):
            rows_read = table.rows_read  # segments or table rows, not the rows kept
        if rows_read == 0 and not report.errors:
            raise FileError(table.name, "the file has a header but no rows")
    except FileError as exc:
        run.message = str(exc)
        run.duration_s = time.perf_counter() - started
        run.finished_at = timezone.now()
        run.save()
        raise
    except Exception as exc:
        # Unexpected: the run still says what happened; the caller reports or logs it.
        run.message = f"failed unexpectedly ({exc.__class__.__name__}: {exc})"[:5000]
        run.duration_s = time.perf_counter() - started
        run.finished_at = timezone.now()
        run.save()
        raise

    report.errors.sort(key=lambda e: e.line)
    if report.errors and not report.rejected:
        report.rejected = _reasons(report.errors)
    if rejects_path is not None and report.rejected and not isinstance(table, NibrsTable):
        report.rejects_written = write_rejects(
            path, table.encoding, report.rejected, Path(rejects_path)
        )
    failed = bool(report.errors) and not accept_valid
    run.status = (
        ImportRun.Status.FAILED
        if failed
        else ImportRun.Status.PARTIAL
        if report.rejected
        else ImportRun.Status.SUCCEEDED
    )
    run.rows_read = rows_read
    run.rows_rejected = len(report.rejected)
    for name in (
        "rows_inserted",
        "rows_updated",
        "rows_unchanged",
        "incidents_inserted",
        "incidents_updated",
        "incidents_unchanged",
    ):
        setattr(run, name, getattr(counts, name))
    if failed:
        run.covers_from = run.covers_through = None
        run.covers_kinds, run.coverage_warnings, run.thin_years = [], [], []
    run.message = _summary(report, failed)
    run.duration_s = time.perf_counter() - started
    run.finished_at = timezone.now()
    run.save()
    return report


def _month_only(fmt: str | None) -> bool:
    """Whether a date format gives months, not days ("%B %Y": "December 2018")."""
    if not fmt:
        return False
    return not any(d in fmt for d in ("%d", "%j", "%-d", "%e")) and any(
        m in fmt for m in ("%m", "%B", "%b", "%-m")
    )


def _record_coverage(
    days: dict[str, int],
    run: ImportRun,
    covers_from,
    covers_through,
    basis: str,
    *,
    month_only: bool = False,
) -> FileCoverage:
    """The file's coverage from the dates of its valid rows, recorded on the run. A file
    whose dates are months ("December 2018") covers the whole of its last month."""
    day_counts = pd.Series(days, dtype="int64")
    coverage = file_coverage(
        day_counts,
        covers_from=covers_from,
        covers_through=covers_through,
        basis=basis,
        today=dt.datetime.now(_EARLIEST_ZONE).date(),
    )
    if month_only and covers_through is None and coverage.last is not None:
        last = coverage.last
        month_end = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        coverage = replace(coverage, last=month_end - dt.timedelta(days=1))
    run.covers_from, run.covers_through = coverage.first, coverage.last
    run.coverage_basis = coverage.basis
    run.coverage_warnings = coverage.warnings()
    run.thin_years = [t.year for t in coverage.thin_years]
    return coverage


def _published_coverage(run: ImportRun, mapping: Mapping) -> FileCoverage:
    """Published annual counts cover the whole years they give; a year a place does not
    publish stays missing (no data) in its series."""
    span = PublishedCount.objects.filter(source=mapping.source).aggregate(
        first=Min("period_start"), last=Max("period_end")
    )
    run.covers_from, run.covers_through = span["first"], span["last"]
    run.coverage_basis = "published years"
    run.covers_kinds = [s.metric for s in mapping.series]
    return FileCoverage(span["first"], span["last"], None, None, 0, "published years")


def _reasons(errors: list[RowError]) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for error in errors:
        text = f"{error.column}: {error.reason}"
        reasons[error.line] = f"{reasons[error.line]}; {text}" if error.line in reasons else text
    return reasons


def _summary(report: ImportReport, failed: bool) -> str:
    if failed:
        return (
            f"{len(report.errors)} invalid values in {len(report.rejected)} rows; nothing imported"
        )
    lines, parts = [], []
    if report.coverage is not None and report.coverage.first is not None:
        lines.append(f"The file {report.coverage.describe()}.")
        lines += [f"warning: {w}" for w in report.coverage.warnings()]
    # Values skipped first, on a line of their own: what the reader must look at.
    if report.warnings:
        parts.append(
            f"{len(report.warnings):,} value{'s' if len(report.warnings) != 1 else ''} skipped"
            " (the rows were kept without them): "
            + "; ".join(f"line {w.line} {w.column}={w.value!r}" for w in report.warnings[:10])
            + ("; …" if len(report.warnings) > 10 else "")
        )
    if report.rows_filtered:
        parts.append(f"{report.rows_filtered:,} rows left out by the mapping's filter")
    if report.conflicts_resolved:
        parts.append(
            f"{report.conflicts_resolved} incidents had victim rows disagreeing on incident "
            "fields; the earliest row's values were kept"
        )
    if report.nibrs is not None:
        parts += _nibrs_summary(report)
    if report.created_jurisdictions:
        created = report.created_jurisdictions
        shown = created[:SUMMARY_PLACES]
        more = (
            f"; and {len(created) - len(shown):,} more (every one: gvrs jurisdictions "
            f"--import-run {report.run.pk})"
            if len(created) > len(shown)
            else ""
        )
        parts.append(f"{len(created):,} new places: " + "; ".join(shown) + more)
    return "\n".join(lines + parts)


def _nibrs_summary(report: ImportReport) -> list[str]:
    outcome, parts = report.nibrs, []
    if outcome.deleted:
        parts.append(
            f"{outcome.deleted:,} incidents removed (deleted by the file, or no longer in it)"
        )
    if outcome.gaps:
        shown = [f"{ori}: {', '.join(months)}" for ori, months in list(outcome.gaps.items())[:20]]
        parts.append(
            f"months not reported (no data, never 0) by {len(outcome.gaps)} agencies: "
            + "; ".join(shown)
        )
    if outcome.partial:
        parts.append("agencies reporting part of the year: " + "; ".join(outcome.partial[:20]))
    return parts


# The run's summary names the first places an import created, up to this many, and counts
# the rest (all of them are linked to the run: ``gvrs jurisdictions --import-run N``).
SUMMARY_PLACES = 10


def _published_chunks(reading: _Reading, mapping: Mapping, report: ImportReport):
    """Published counts' chunks, filtered, and unpivoted when the table is wide in years."""
    for chunk in reading.chunks():
        reading.advance(len(chunk.frame))
        keep = mapping.keep(chunk.frame)
        report.rows_filtered += int((~keep).sum())
        frame, lines = chunk.frame[keep], chunk.lines[keep]
        if mapping.unpivot is not None:
            frame, lines = _unpivot(frame, lines, mapping.unpivot)
        yield replace(chunk, frame=frame, lines=lines)


def _unpivot(frame, lines, unpivot):
    """One row per (row, listed column): the year from the column's name, its value."""
    parts = []
    for column, year in unpivot.years().items():
        part = frame.copy()
        part[UNPIVOT_YEAR] = str(year)
        part[UNPIVOT_VALUE] = frame[column]
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    return long, np.tile(lines, len(parts))


def _import_incidents(
    reading: _Reading,
    mapping: Mapping,
    run: ImportRun,
    report: ImportReport,
    label,
    *,
    jurisdiction: str | None,
    accept_valid: bool,
    source: str,
    places: PlaceResolver,
) -> merge.MergeCounts:
    """The first import of a source goes straight to the registry when its incidents' rows
    lie together; any other import (or a file whose rows are scattered) is staged."""
    options = {"accept_valid": accept_valid, "source": source}
    with connection.cursor() as cursor:
        merge.lock_registry(cursor)
        checking = _Checking(reading, mapping, report, label, jurisdiction, places)
        counts = None
        if direct.source_is_new(cursor, source):
            savepoint = transaction.savepoint()
            try:
                counts = _import_direct(cursor, checking, run, **options)
            except direct.ScatteredRowsError:
                transaction.savepoint_rollback(savepoint)
                reading.restart()
                report.errors, report.rejected, report.conflicts_resolved = [], {}, 0
                report.rows_filtered = 0
                places = places.fresh()
                checking = _Checking(reading, mapping, report, label, jurisdiction, places)
        if counts is None:
            counts = _import_staged(cursor, checking, run, **options)
    report.created_jurisdictions = checking.places.created
    run.covers_kinds = sorted(checking.kinds)
    return counts


class _Checking:
    """One pass over the file: each chunk mapped, validated (errors into the report) and
    given place ids, with the places created and the incidents found invalid so far."""

    def __init__(self, reading: _Reading, mapping: Mapping, report, label, jurisdiction, places):
        self.reading, self.mapping, self.report, self.label = reading, mapping, report, label
        self.jurisdiction = jurisdiction
        self.places = places
        self.bad_ids: set[str] = set()
        self.kinds: set[str] = set()  # the incident kinds the file holds: what it covers
        report.coverage_days = {}

    def chunks(self):
        """(canonical rows as text, valid typed rows) for each chunk."""
        today = dt.datetime.now(_EARLIEST_ZONE).date()
        mapping = self.mapping
        for chunk in self.reading.chunks():
            keep = mapping.keep(chunk.frame)
            frame, lines = chunk.frame, chunk.lines
            if not keep.all():
                self.report.rows_filtered += int((~keep).sum())
                frame, lines = frame[keep], lines[keep]
            canonical = mapping.apply(frame, self.jurisdiction)

            def check(rows, lines=lines):
                return validate_rows(
                    rows,
                    lines,
                    today=today,
                    datetime_formats=mapping.datetime_formats,
                    kind_derived=mapping.kind_derived,
                    kind_rules=mapping.kind_rules,
                    victim_fields=tuple(mapping.victim_fields),
                )

            checked = check(canonical)
            blanked = [e for e in checked.errors if e.column in mapping.blank_invalid]
            if blanked:
                # The mapping empties these fields' invalid cells (invalid = "blank"): the
                # rows are checked again without them, and the summary lists each one.
                canonical = canonical.copy()
                position = {int(n): k for k, n in enumerate(lines)}
                for e in blanked:
                    canonical.iloc[position[e.line], canonical.columns.get_loc(e.column)] = ""
                checked = check(canonical)
                self.report.warnings += [
                    RowError(e.line, self.label(e.column), e.value, f"blanked: {e.reason}")
                    for e in blanked
                ]
            self.report.errors += [
                RowError(e.line, self.label(e.column), e.value, e.reason) for e in checked.errors
            ]
            self.bad_ids |= checked.bad_source_ids
            rows = checked.rows
            if not rows.empty:
                codes = mapping.place_codes(frame)
                rows["jurisdiction_id"], rows["area_id"] = self.places.resolve(
                    rows["jurisdiction"],
                    rows["area"],
                    rows["line"].to_numpy(),
                    None if codes is None else codes.loc[rows.index],
                )
                days = self.report.coverage_days
                for day, n in rows["occurred_on"].value_counts().items():
                    days[day] = days.get(day, 0) + int(n)
                self.kinds.update(rows["kind"].dropna().unique().tolist())
                if mapping.derive_kind is not None:
                    # Kinds decided by outcome: the source records each outcome there is.
                    self.kinds.update(("homicide", "nonfatal_shooting", "shots_fired"))
            yield canonical, rows
            self.reading.advance(len(chunk.frame))


def _import_nibrs(
    reading: _Reading,
    mapping: Mapping,
    run: ImportRun,
    report: ImportReport,
    label,
    *,
    accept_valid: bool,
    source: str,
    places: PlaceResolver,
    covers_from: dt.date | None,
    covers_through: dt.date | None,
) -> merge.MergeCounts:
    """A NIBRS file: its errors (table, line, field, reason) first, then its agencies as
    places, its rows like any file's, its deletions and each agency's months."""
    table: NibrsTable = reading.table
    found = sorted(table.reading.errors, key=lambda e: (e.table, e.line))
    if found and not accept_valid:
        report.errors = found
        raise _RollbackError
    agencies = nibrs.agency_places(table, places)
    counts = _import_incidents(
        reading,
        mapping,
        run,
        report,
        label,
        jurisdiction=None,
        accept_valid=accept_valid,
        source=source,
        places=places,
    )
    checked = nibrs.translate_errors(table, report.errors)
    report.errors = found + checked
    if checked and not accept_valid:
        raise _RollbackError
    report.rejected = {
        i: f"{e.table + ': ' if e.table else ''}line {e.line}: {e.column}: {e.reason}"
        for i, e in enumerate(report.errors, start=1)
    }
    outcome = nibrs.NibrsOutcome(agencies=agencies)
    outcome.deleted = nibrs.apply_deletions(table, source)
    months, through = nibrs.agency_months(table, covers_from, covers_through)
    nibrs.record_months(table, source, run.pk, agencies, months)
    outcome.gaps, outcome.partial = nibrs.describe_gaps(
        months, late_starts=table.form == "nibrs-cde"
    )
    covered = months[months["status"] != "not_reported"]
    first = dt.date.fromisoformat(covered["month"].min()) if len(covered) else None
    last = max(through.values()) if through else None
    run.covers_from, run.covers_through = first, last
    run.coverage_basis = (
        "given" if (covers_from or covers_through) else "months each agency reported"
    )
    run.covers_kinds = list(NIBRS_KINDS)
    run.incidents_deleted = outcome.deleted
    run.coverage_warnings = [
        f"{ori} did not report {', '.join(m)}" for ori, m in outcome.gaps.items()
    ][:200]
    report.nibrs = outcome
    report.coverage = FileCoverage(
        first, last, first, last, len(table.canonical.rows), run.coverage_basis
    )
    return counts


def _set_aside_reason(source_id: str) -> str:
    return f"incident {source_id} has an invalid row; the whole incident was set aside"


def _import_direct(
    cursor, checking: _Checking, run: ImportRun, *, accept_valid: bool, source: str
) -> merge.MergeCounts:
    report, mapping = checking.report, checking.mapping
    report.written = "direct"
    writer = direct.DirectWriter(
        cursor,
        source=source,
        run_id=run.pk,
        conflicts=mapping.conflicts,
        kind_derived=mapping.derive_kind is not None,
        accept_valid=accept_valid,
        label=checking.label,
        errors=report.errors,
        bad_ids=checking.bad_ids,
        file_name=checking.reading.table.name,
        incident_rows=checking.reading.table.limits.incident_rows,
    )
    table = checking.reading.table
    try:
        for canonical, rows in checking.chunks():
            source_ids = canonical["source_id"].astype(str).str.strip()
            if not writer.started:
                # From the first chunk: how many incidents the whole file holds, roughly.
                scale = table.size_bytes / table.bytes_read if table.bytes_read else 1.0
                distinct = source_ids.nunique() / max(len(source_ids), 1)
                writer.start(int(len(source_ids) * scale * distinct))
            writer.add(source_ids, rows)
        counts = writer.finish()
    finally:
        writer.close()
    report.bulk_load = writer.bulk_load
    report.conflicts_resolved = writer.conflicts_resolved
    if report.errors and not accept_valid:
        raise _RollbackError
    report.rejected = _reasons(report.errors)
    for line, source_id in writer.set_aside:
        report.rejected.setdefault(line, _set_aside_reason(source_id))
    return counts


def _import_staged(
    cursor, checking: _Checking, run: ImportRun, *, accept_valid: bool, source: str
) -> merge.MergeCounts:
    report, mapping, bad_ids = checking.report, checking.mapping, checking.bad_ids
    report.written = "staged"
    staging.create_stage(cursor)
    # On a database error the transaction's rollback removes the staging table too.
    for _canonical, rows in checking.chunks():
        staging.load_stage(cursor, rows)
    staging.analyze_stage(cursor)
    merge.fold_incidents(cursor, source)
    table = checking.reading.table
    merge.check_incident_rows(cursor, table.name, table.limits.incident_rows)
    conflicts, conflict_ids = merge.conflicting_rows(cursor, checking.label)
    if mapping.conflicts == "error":
        report.errors += conflicts
        bad_ids |= conflict_ids
    else:
        report.conflicts_resolved = len(conflict_ids - bad_ids)
    if report.errors and not accept_valid:
        staging.drop_stage(cursor)
        raise _RollbackError
    report.rejected = _reasons(report.errors)
    if bad_ids:
        for line, source_id in merge.reject_incidents(cursor, bad_ids):
            report.rejected.setdefault(line, _set_aside_reason(source_id))
    if report.conflicts_resolved:
        merge.use_earliest_rows(cursor)
    counts = merge.count_changes(cursor)
    id_base = merge.allocate_ids(cursor)
    report.bulk_load = bulk.is_bulk(cursor, counts.incidents_inserted)
    with bulk.upkeep_deferred(cursor, report.bulk_load):
        merge.write_incidents(cursor, source, run.pk, id_base, counts)
        merge.replace_people(cursor, id_base, counts)
    staging.drop_stage(cursor)
    return counts
