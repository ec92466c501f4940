"""Merge the staged rows into the registry with set-based SQL.

Steps, all inside the import's transaction:
1. ``fold_incidents``: one staged incident per source_id, from one GROUP BY over integers
   only: the incident's first line, its victims summed, ``content_hash`` = the sum of the row
   fingerprints (order-independent) and whether its rows disagree (``incident_hash`` differs).
   The same statement matches the registry (the incident's id and stored hash) and numbers
   the new incidents, so victims are joined to their incidents' ids inside the staging tables;
2. ``conflicting_rows`` / ``reject_incidents``: the rows of disagreeing incidents become
   errors, or (with ``conflicts = "earliest"``) ``use_earliest_rows`` points the incident at
   its earliest row;
3. ``count_changes``: new, changed and unchanged incidents against the registry;
4. ``allocate_ids`` and ``write_incidents``: a plain INSERT of the new incidents and an
   UPDATE of the changed ones (incident fields are read from the row at ``first_line``),
   stamping them with this run;
5. ``replace_people``: the people involved of exactly the incidents written.
The same SQL runs on SQLite (3.35+) and PostgreSQL; only locking and id allocation differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from gvrs.data.errors import RowError
from gvrs.data.limits import LimitError
from gvrs.incidents.importing.staging import STAGE, STAGE_INCIDENT, is_postgresql

STAGE_REJECT = "gvrs_stage_reject"

# Incident fields read from the staged row at the incident's first line.
ROW_FIELDS = (
    "occurred_on",
    "occurred_time",
    "reported_at",
    "jurisdiction_id",
    "area_id",
    "latitude",
    "longitude",
    "weapon",
    "group_involvement",
    "circumstance",
    "offenders",
)
# Text columns stored NOT NULL ('' when absent).
TEXT_FIELDS = ("block_address", "case_status", "location_type")
# Incident-level staged columns compared when rows of one incident disagree.
CONFLICT_FIELDS = ("kind", *ROW_FIELDS, *TEXT_FIELDS)


@dataclass
class MergeCounts:
    incidents_inserted: int = 0
    incidents_updated: int = 0
    incidents_unchanged: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0


def lock_registry(cursor) -> None:
    """Take the registry's write lock for the rest of the import's transaction.

    Two imports must not both insert the same new incident, and the ids this import gives
    its new incidents must be its own. SQLite has one writer at a time (the connection
    begins its transactions IMMEDIATE); PostgreSQL is told to let readers in but no other
    writer of incidents until this import commits.
    """
    if is_postgresql():
        cursor.execute("LOCK TABLE incidents_incident IN SHARE ROW EXCLUSIVE MODE")


def fold_incidents(cursor, source: str) -> None:
    """One staged incident per source_id, matched with the registry, in file order.

    A new incident's id is a reserved base plus its first line (``allocate_ids``): unique,
    in file order, and with no id-sequence call per incident (about 3 s a million on
    PostgreSQL). Ids may skip numbers where a line holds a second victim; ids carry no
    meaning, and a sequence never promised to be gapless.
    """
    # SQLite then reads staged rows by line, and writes incidents by id, in key order: far
    # faster than at random (GROUP BY yields source_id order). PostgreSQL joins by hashing.
    in_file_order = "" if is_postgresql() else "ORDER BY g.first_line"
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {STAGE_INCIDENT} AS
        SELECT g.source_id, g.first_line, g.killed, g.injured, g.content_hash, g.n_rows,
               g.disagree, i.id AS existing_id, i.content_hash AS existing_hash
        FROM (
            SELECT source_id, MIN(line) AS first_line, SUM(killed) AS killed,
                   SUM(injured) AS injured, SUM(row_hash) AS content_hash,
                   COUNT(*) AS n_rows,
                   CASE WHEN MIN(incident_hash) <> MAX(incident_hash) THEN 1 ELSE 0 END
                       AS disagree
            FROM {STAGE} GROUP BY source_id
        ) g
        LEFT JOIN incidents_incident i ON i.source = %s AND i.source_id = g.source_id
        {in_file_order}
    """,
        [source],
    )
    if is_postgresql():
        # PostgreSQL joins the staged tables by hashing; an index on a million text keys
        # would cost seconds of collation-aware sorting for nothing.
        cursor.execute(f"ANALYZE {STAGE_INCIDENT}")
    else:
        # SQLite joins by index lookups: victims find their incident through this one.
        cursor.execute(
            f"CREATE UNIQUE INDEX {STAGE_INCIDENT}_source_id ON {STAGE_INCIDENT} (source_id)"
        )


def incident_rows_error(file_name: str, limit: int, past: list[tuple[str, int]]) -> LimitError:
    """The refusal of the incident that went over ``limit`` rows first in the file, at its
    first row past the limit; ``past`` holds (source_id, that line) of each incident over it.
    Both ways of writing name the same incident at the same line."""
    line, source_id = min((int(line), source_id) for source_id, line in past)
    return LimitError(file_name, "incident_rows", limit, found=f"incident {source_id!r}", line=line)


def check_incident_rows(cursor, file_name: str, limit: int) -> None:
    """Refuse a staged incident with more rows than ``limit`` (after ``fold_incidents``), as
    the direct writer does: the same incident, at the same line."""
    cursor.execute(f"SELECT 1 FROM {STAGE_INCIDENT} WHERE n_rows > %s LIMIT 1", [limit])
    if cursor.fetchone() is None:
        return
    # The line of each such incident's first row past the limit.
    cursor.execute(
        f"""
        SELECT source_id, line FROM (
            SELECT source_id, line,
                   ROW_NUMBER() OVER (PARTITION BY source_id ORDER BY line) AS k
            FROM {STAGE}
            WHERE source_id IN (SELECT source_id FROM {STAGE_INCIDENT} WHERE n_rows > %s)
        ) ranked
        WHERE k = %s
        """,
        [limit, limit + 1],
    )
    raise incident_rows_error(file_name, limit, cursor.fetchall())


def allocate_ids(cursor) -> int:
    """Reserve ids for the new incidents; returns the base (an id is base + first_line).

    Called under ``lock_registry``, so no other transaction takes ids meanwhile.
    """
    cursor.execute(
        f"SELECT MIN(first_line), MAX(first_line) FROM {STAGE_INCIDENT} WHERE existing_id IS NULL"
    )
    low, high = cursor.fetchone()
    if low is None:
        return 0
    # The incident at line ``low`` takes the first reserved id.
    return reserve_ids(cursor, int(high) - int(low) + 1) + 1 - int(low)


def reserve_ids(cursor, count: int) -> int:
    """Reserve ``count`` incident ids; returns the last id before them.

    Called under ``lock_registry``: no other transaction inserts incidents meanwhile, so
    successive reservations are contiguous.
    """
    if is_postgresql():
        cursor.execute("SELECT pg_get_serial_sequence('incidents_incident', 'id')")
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [sequence])
        first = int(cursor.fetchone()[0])
        if count > 1:
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
        return first - 1
    # SQLite's AUTOINCREMENT never reuses an id: start past both the sequence and the table.
    cursor.execute(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'incidents_incident'),"
        " 0), COALESCE((SELECT MAX(id) FROM incidents_incident), 0))"
    )
    return int(cursor.fetchone()[0])


def release_ids(cursor, last_used: int) -> None:
    """Hand back reserved ids after ``last_used`` (under ``lock_registry``, so nobody else
    took one). SQLite reserves nothing: its next id follows the table's largest."""
    if is_postgresql():
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('incidents_incident', 'id'), %s)", [last_used]
        )


def conflicting_rows(cursor, field_label) -> tuple[list[RowError], set[str]]:
    """Rows whose incident-level fields differ from their incident's first row.

    ``field_label`` turns a staged column name into the file's column name for messages.
    """
    cursor.execute(f"SELECT 1 FROM {STAGE_INCIDENT} WHERE disagree = 1 LIMIT 1")
    if cursor.fetchone() is None:
        return [], set()  # the usual case: no need to join every staged row
    columns = ", ".join(f"s.{c}" for c in ("line", "source_id", *CONFLICT_FIELDS))
    cursor.execute(f"""
        SELECT {columns} FROM {STAGE} s
        JOIN {STAGE_INCIDENT} si ON si.source_id = s.source_id
        WHERE si.disagree = 1
        ORDER BY s.source_id, s.line
    """)
    return conflict_errors(cursor.fetchall(), field_label)


def _plain(value):
    """A staged value as text-like Python, the same from either database or from pandas."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        value = value.replace(tzinfo=None)  # the session's zone is UTC, as staged
    return value.isoformat() if hasattr(value, "isoformat") else value


def conflict_errors(rows, field_label) -> tuple[list[RowError], set[str]]:
    """Errors for rows that differ from their incident's first row, and those incidents.

    ``rows`` are (line, source_id, *CONFLICT_FIELDS) tuples, grouped by incident with each
    incident's first row first.
    """
    errors: list[RowError] = []
    first: dict[str, tuple] = {}
    for row in rows:
        line, source_id, values = row[0], row[1], [_plain(v) for v in row[2:]]
        if source_id not in first:
            first[source_id] = (line, values)
            continue
        first_line, first_values = first[source_id]
        labels_seen: set[str] = set()
        for name, value, expected in zip(CONFLICT_FIELDS, values, first_values, strict=True):
            label = field_label(name)
            if value != expected and label not in labels_seen:
                labels_seen.add(label)
                errors.append(
                    RowError(
                        int(line),
                        label,
                        "" if value is None else str(value),
                        f"incident {source_id} is repeated with a different {label} "
                        f"(line {first_line} has {expected!r})",
                    )
                )
    return errors, set(first)


def reject_incidents(cursor, source_ids: set[str]) -> list[tuple[int, str]]:
    """Remove every staged row of these incidents; returns (line, source_id) of those rows."""
    cursor.execute(f"DROP TABLE IF EXISTS {STAGE_REJECT}")
    cursor.execute(f"CREATE TEMPORARY TABLE {STAGE_REJECT} (source_id TEXT PRIMARY KEY)")
    cursor.executemany(
        f"INSERT INTO {STAGE_REJECT} (source_id) VALUES (%s)", [(s,) for s in sorted(source_ids)]
    )
    rejected = f"source_id IN (SELECT source_id FROM {STAGE_REJECT})"
    cursor.execute(f"SELECT line, source_id FROM {STAGE} WHERE {rejected}")
    removed = [(int(line), sid) for line, sid in cursor.fetchall()]
    cursor.execute(f"DELETE FROM {STAGE} WHERE {rejected}")
    cursor.execute(f"DELETE FROM {STAGE_INCIDENT} WHERE {rejected}")
    cursor.execute(f"DROP TABLE {STAGE_REJECT}")
    return removed


def use_earliest_rows(cursor) -> None:
    """Point each incident whose rows disagree at its earliest row (by date, time, line).

    Rows that agree need no choice: any row holds the incident's fields, the first is taken.
    """
    cursor.execute(f"""
        UPDATE {STAGE_INCIDENT} SET first_line = e.line
        FROM (
            SELECT s.source_id, s.line, ROW_NUMBER() OVER (
                PARTITION BY s.source_id
                ORDER BY s.occurred_on, COALESCE(s.occurred_time, '00:00:00'), s.line
            ) AS row_order
            FROM {STAGE} s JOIN {STAGE_INCIDENT} d ON d.source_id = s.source_id
            WHERE d.disagree = 1
        ) e
        WHERE {STAGE_INCIDENT}.source_id = e.source_id AND e.row_order = 1
    """)


def count_changes(cursor) -> MergeCounts:
    cursor.execute(f"""
        SELECT
          COALESCE(SUM(CASE WHEN existing_id IS NULL THEN 1 ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN existing_hash <> content_hash THEN 1 ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN existing_hash = content_hash THEN 1 ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN existing_id IS NULL THEN n_rows ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN existing_hash <> content_hash THEN n_rows ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN existing_hash = content_hash THEN n_rows ELSE 0 END), 0)
        FROM {STAGE_INCIDENT}
    """)
    return MergeCounts(*(int(v) for v in cursor.fetchone()))


# Derived kinds come in as NULL and are decided by outcome.
_KIND = (
    "COALESCE(s.kind, CASE WHEN si.killed > 0 THEN 'homicide' "
    "WHEN si.injured > 0 THEN 'nonfatal_shooting' ELSE 'shots_fired' END)"
)
_WRITTEN = "(si.existing_id IS NULL OR si.existing_hash <> si.content_hash)"


def _incident_values() -> dict[str, str]:
    """Registry column -> SQL over the staged incident ``si`` and its row ``s``."""
    values = {"kind": _KIND}
    values |= {name: f"s.{name}" for name in ROW_FIELDS}
    values |= {name: f"COALESCE(s.{name}, '')" for name in TEXT_FIELDS}
    values |= {name: f"si.{name}" for name in ("killed", "injured", "content_hash")}
    return values


def write_incidents(cursor, source: str, run_id: int, id_base: int, counts: MergeCounts) -> None:
    """Insert the new incidents and update the changed ones, stamped with ``run_id``.

    A statement with nothing to do is not run: its join of the staged tables alone costs
    seconds for a million rows.
    """
    values = _incident_values()
    now = timezone.now()
    if counts.incidents_inserted:
        _insert_new(cursor, values, source, run_id, id_base, now)
    if counts.incidents_updated:
        _update_changed(cursor, values, run_id, now)


def _insert_new(cursor, values: dict[str, str], source: str, run_id: int, id_base: int, now):
    cursor.execute(
        f"""
        INSERT INTO incidents_incident
            (id, source, source_id, {", ".join(values)}, import_run_id, updated_at)
        SELECT %s + si.first_line, %s, si.source_id, {", ".join(values.values())}, %s, %s
        FROM {STAGE_INCIDENT} si JOIN {STAGE} s ON s.line = si.first_line
        WHERE si.existing_id IS NULL
    """,
        [id_base, source, run_id, now],
    )


def _update_changed(cursor, values: dict[str, str], run_id: int, now) -> None:
    assignments = ", ".join(f"{name} = {sql}" for name, sql in values.items())
    cursor.execute(
        f"""
        UPDATE incidents_incident SET {assignments}, import_run_id = %s, updated_at = %s
        FROM {STAGE_INCIDENT} si JOIN {STAGE} s ON s.line = si.first_line
        WHERE incidents_incident.id = si.existing_id AND si.existing_hash <> si.content_hash
    """,
        [run_id, now],
    )


def replace_people(cursor, id_base: int, counts: MergeCounts) -> int:
    """Victims of the incidents this run wrote: delete the old, insert the staged."""
    if counts.incidents_updated:
        cursor.execute(
            "DELETE FROM incidents_personinvolved WHERE incident_id IN "
            f"(SELECT existing_id FROM {STAGE_INCIDENT} si "
            "WHERE si.existing_hash <> si.content_hash)"
        )
    if not (counts.incidents_inserted or counts.incidents_updated):
        return 0
    # The person fields a mapping adds arrive as JSON text; PostgreSQL stores them as jsonb.
    extra = (
        "CAST(COALESCE(s.victim_extra, '{}') AS jsonb)"
        if is_postgresql()
        else ("COALESCE(s.victim_extra, '{}')")
    )
    cursor.execute(
        f"""
        INSERT INTO incidents_personinvolved
            (incident_id, role, age, age_group, sex, race_ethnicity, ethnicity, extra,
             killed, injured)
        SELECT COALESCE(si.existing_id, %s + si.first_line), 'victim', s.victim_age,
               COALESCE(s.victim_age_group, ''),
               COALESCE(s.victim_sex, ''), COALESCE(s.victim_race, ''),
               COALESCE(s.victim_ethnicity, ''), {extra},
               s.killed > 0, s.injured > 0
        FROM {STAGE} s JOIN {STAGE_INCIDENT} si ON si.source_id = s.source_id
        WHERE {_WRITTEN} AND s.has_victim = 1
    """,
        [id_base],
    )
    return cursor.rowcount
