"""Merge the staged rows into the registry with set-based SQL.

Steps, all inside the import's transaction:
1. find incidents whose rows disagree on incident-level fields (``incident_hash`` differs);
2. fold rows into one staged incident each: incident fields from the earliest row, victims
   summed, and ``content_hash`` = the sum of the row fingerprints (order-independent);
3. count new, changed and unchanged incidents against the registry;
4. upsert incidents (``ON CONFLICT ... DO UPDATE ... WHERE content_hash differs``), stamping
   the ones written with this import run;
5. replace the people involved of exactly those incidents.
The same SQL runs on SQLite (3.35+) and PostgreSQL; only casts differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from gvrs.data.errors import RowError
from gvrs.incidents.importing.staging import STAGE, STAGE_INCIDENT

# Incident-level staged columns compared when rows of one incident disagree.
CONFLICT_FIELDS = (
    "kind",
    "occurred_on",
    "occurred_time",
    "reported_at",
    "jurisdiction_id",
    "area_id",
    "latitude",
    "longitude",
    "block_address",
    "weapon",
    "group_involvement",
    "circumstance",
    "case_status",
)


@dataclass
class MergeCounts:
    incidents_inserted: int = 0
    incidents_updated: int = 0
    incidents_unchanged: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0


def conflicting_rows(cursor, field_label) -> tuple[list[RowError], set[str]]:
    """Rows whose incident-level fields differ from their incident's first row.

    ``field_label`` turns a staged column name into the file's column name for messages.
    """
    cursor.execute(
        f"SELECT source_id FROM {STAGE} GROUP BY source_id "
        "HAVING MIN(incident_hash) <> MAX(incident_hash)"
    )
    ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return [], set()
    errors: list[RowError] = []
    columns = ", ".join(("line", "source_id", *CONFLICT_FIELDS))
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        marks = ", ".join(["%s"] * len(batch))
        cursor.execute(
            f"SELECT {columns} FROM {STAGE} WHERE source_id IN ({marks}) ORDER BY source_id, line",
            batch,
        )
        first: dict[str, tuple] = {}
        for row in cursor.fetchall():
            line, source_id, values = row[0], row[1], row[2:]
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
    return errors, set(ids)


def reject_incidents(cursor, source_ids: set[str]) -> list[tuple[int, str]]:
    """Remove every staged row of these incidents; returns (line, source_id) of those rows."""
    removed: list[tuple[int, str]] = []
    ids = sorted(source_ids)
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        marks = ", ".join(["%s"] * len(batch))
        cursor.execute(f"SELECT line, source_id FROM {STAGE} WHERE source_id IN ({marks})", batch)
        removed.extend((int(line), sid) for line, sid in cursor.fetchall())
        cursor.execute(f"DELETE FROM {STAGE} WHERE source_id IN ({marks})", batch)
    return removed


def fold_incidents(cursor) -> None:
    """One staged incident per source_id: incident fields, victims summed, content hash.

    Rows of an incident that agree fold with a plain GROUP BY (MIN of equal values). Where
    they disagree (allowed by the "earliest" policy), the incident's fields are then taken
    from its earliest row, by date, time and line; there are few such incidents.
    """
    fields = [name for name in CONFLICT_FIELDS if name != "kind"]
    # Derived kinds come in as NULL and are decided by outcome.
    kind = (
        "COALESCE(MIN(kind), CASE WHEN SUM(killed) > 0 THEN 'homicide' "
        "WHEN SUM(injured) > 0 THEN 'nonfatal_shooting' ELSE 'shots_fired' END)"
    )
    cursor.execute(f"""
        CREATE TEMPORARY TABLE {STAGE_INCIDENT} AS
        SELECT source_id, {kind} AS kind, {", ".join(f"MIN({f}) AS {f}" for f in fields)},
               SUM(killed) AS killed, SUM(injured) AS injured,
               SUM(row_hash) AS content_hash, COUNT(*) AS n_rows
        FROM {STAGE} GROUP BY source_id
    """)
    cursor.execute(
        f"CREATE UNIQUE INDEX {STAGE_INCIDENT}_source_id ON {STAGE_INCIDENT} (source_id)"
    )
    cursor.execute(f"""
        UPDATE {STAGE_INCIDENT} SET ({", ".join(fields)}) = (
            SELECT {", ".join(fields)} FROM {STAGE} s
            WHERE s.source_id = {STAGE_INCIDENT}.source_id
            ORDER BY s.occurred_on, COALESCE(s.occurred_time, '00:00:00'), s.line LIMIT 1
        )
        WHERE source_id IN (
            SELECT source_id FROM {STAGE} GROUP BY source_id
            HAVING MIN(incident_hash) <> MAX(incident_hash)
        )
    """)


def count_changes(cursor, source: str) -> MergeCounts:
    cursor.execute(
        f"""
        SELECT
          COALESCE(SUM(CASE WHEN i.id IS NULL THEN 1 ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN i.id IS NOT NULL AND i.content_hash <> s.content_hash
                            THEN 1 ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN i.content_hash = s.content_hash THEN 1 ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN i.id IS NULL THEN s.n_rows ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN i.id IS NOT NULL AND i.content_hash <> s.content_hash
                            THEN s.n_rows ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN i.content_hash = s.content_hash THEN s.n_rows ELSE 0 END), 0)
        FROM {STAGE_INCIDENT} s
        LEFT JOIN incidents_incident i ON i.source = %s AND i.source_id = s.source_id
    """,
        [source],
    )
    return MergeCounts(*(int(v) for v in cursor.fetchone()))


_INCIDENT_COLUMNS = (
    "source_id",
    "kind",
    "occurred_on",
    "occurred_time",
    "reported_at",
    "jurisdiction_id",
    "area_id",
    "latitude",
    "longitude",
    "block_address",
    "weapon",
    "group_involvement",
    "circumstance",
    "case_status",
    "killed",
    "injured",
    "content_hash",
)
_NOT_NULL_TEXT = {"block_address", "case_status"}


def upsert_incidents(cursor, source: str, run_id: int) -> None:
    select = ", ".join(
        f"COALESCE({c}, '')" if c in _NOT_NULL_TEXT else c for c in _INCIDENT_COLUMNS
    )
    updates = ", ".join(
        f"{c} = excluded.{c}" for c in (*_INCIDENT_COLUMNS[1:], "import_run_id", "updated_at")
    )
    # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
    cursor.execute(
        f"""
        INSERT INTO incidents_incident
            (source, {", ".join(_INCIDENT_COLUMNS)}, import_run_id, updated_at)
        SELECT %s, {select}, %s, %s FROM {STAGE_INCIDENT} WHERE true
        ON CONFLICT (source, source_id) DO UPDATE SET {updates}
        WHERE incidents_incident.content_hash <> excluded.content_hash
    """,
        [source, run_id, timezone.now()],
    )


def replace_people(cursor, source: str, run_id: int) -> int:
    """Victims of the incidents this run wrote: delete the old, insert the staged."""
    cursor.execute(
        "DELETE FROM incidents_personinvolved WHERE incident_id IN "
        "(SELECT id FROM incidents_incident WHERE import_run_id = %s)",
        [run_id],
    )
    cursor.execute(
        f"""
        INSERT INTO incidents_personinvolved
            (incident_id, role, age, age_group, sex, race_ethnicity, killed, injured)
        SELECT i.id, 'victim', s.victim_age, COALESCE(s.victim_age_group, ''),
               COALESCE(s.victim_sex, ''), COALESCE(s.victim_race, ''),
               s.killed > 0, s.injured > 0
        FROM {STAGE} s
        JOIN incidents_incident i ON i.source = %s AND i.source_id = s.source_id
        WHERE i.import_run_id = %s AND s.has_victim = 1
    """,
        [source, run_id],
    )
    return cursor.rowcount
