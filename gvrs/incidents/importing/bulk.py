"""Bulk loads: rebuild the incident tables' upkeep once instead of row by row.

An import that adds more incidents than the registry already holds (the first load of a city's
history, a state archive) writes faster if the tables' indexes are dropped and rebuilt
afterwards by a sort (a million source ids arrive in no useful order), and, on PostgreSQL, if
their foreign keys are dropped and added back: PostgreSQL checks a foreign key row by row with
a trigger at commit (about 13 s for a million victims and their incidents), but validates a re-
added one with a single join (about 1 s). This is what the PostgreSQL manual advises for
populating a database ("Remove Indexes", "Remove Foreign Key Constraints"). Everything happens
inside the import's transaction, so a failed import rolls the indexes and constraints back with
the rows, and the re-added constraints are checked against every row, old and new: integrity is
not traded for speed.

The price: while a bulk load runs, PostgreSQL holds the incident tables exclusively, so
readers wait for it to commit (seconds per million rows). Smaller imports, such as a weekly
export, keep every index and constraint in place and never block readers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from psycopg import sql

from gvrs.incidents.importing.staging import is_postgresql

TABLES = ("incidents_incident", "incidents_personinvolved")
# Below this many new incidents, per-row upkeep costs less than the locks are worth.
BULK_MIN_INCIDENTS = 50_000


@dataclass
class SetAside:
    """What a bulk load dropped, as the statements that make it again."""

    indexes: list[str] = field(default_factory=list)  # CREATE INDEX statements
    constraints: list[str] = field(default_factory=list)  # ALTER TABLE ... ADD CONSTRAINT


# Set by ``never()``: a preview (a dry run) never takes the exclusive locks of a bulk load.
_NEVER: ContextVar[bool] = ContextVar("gvrs_bulk_never", default=False)


@contextmanager
def never() -> Iterator[None]:
    """Inside this block no import is a bulk load (a dry run keeps every index in place, so
    it never holds the incident tables exclusively while other users read them)."""
    token = _NEVER.set(True)
    try:
        yield
    finally:
        _NEVER.reset(token)


def is_bulk(cursor, new_incidents: int) -> bool:
    """Whether ``new_incidents`` is a bulk load: at least ``BULK_MIN_INCIDENTS`` and at least
    as many as the registry already holds (so rebuilding costs at most twice the load)."""
    if _NEVER.get() or new_incidents < BULK_MIN_INCIDENTS:
        return False
    # Counting stops at new_incidents rows, so a large registry costs no full count.
    cursor.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM incidents_incident LIMIT %s) existing",
        [new_incidents],
    )
    return int(cursor.fetchone()[0]) < new_incidents


def _indexes(cursor) -> list[tuple[str, str]]:
    """(name, CREATE statement) of each index but the primary key's and constraints' own."""
    if is_postgresql():
        cursor.execute(
            """
            SELECT c.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
            WHERE x.indrelid IN (%s::regclass, %s::regclass) AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
            ORDER BY c.relname
            """,
            list(TABLES),
        )
        return [(name, statement) for name, statement in cursor.fetchall()]
    # SQLite keeps no statement for the indexes of inline constraints: those stay.
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN (%s, %s) "
        "AND sql IS NOT NULL ORDER BY name",
        list(TABLES),
    )
    return [(name, statement) for name, statement in cursor.fetchall()]


def _constraints(cursor) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the unique and foreign-key constraints of the incident
    tables (PostgreSQL), foreign keys first: the order they are dropped in."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype IN ('f', 'u') AND conrelid IN (%s::regclass, %s::regclass)
        ORDER BY contype, conrelid, conname
        """,
        list(TABLES),
    )
    return [(table, name, definition) for table, name, definition in cursor.fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def set_aside(cursor) -> SetAside:
    """Drop every index of the incident tables but their primary keys, and on PostgreSQL
    their unique and foreign-key constraints."""
    saved = SetAside()
    if is_postgresql():
        # Checks still pending (places created by this import) must run before ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, definition in _constraints(cursor):
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
            saved.constraints.insert(
                0, f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}"
            )
    for name, statement in _indexes(cursor):
        cursor.execute(f"DROP INDEX {_quote(name)}")
        saved.indexes.append(statement)
    return saved


def restore(cursor, saved: SetAside) -> None:
    """Rebuild what ``set_aside`` dropped. Each rebuilt constraint checks every row, old and
    new: a duplicate or a dangling reference fails the import here."""
    for statement in saved.indexes:
        cursor.execute(statement)
    for statement in saved.constraints:
        cursor.execute(statement)
    if is_postgresql():
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def set_defaults(cursor, constants: dict[str, dict[str, object]]) -> None:
    """Give columns a default for the rest of the load (PostgreSQL; DDL takes no bound
    parameters, so values are quoted by psycopg)."""
    _alter_defaults(cursor, constants, drop=False)


def drop_defaults(cursor, constants: dict[str, dict[str, object]]) -> None:
    _alter_defaults(cursor, constants, drop=True)


def _alter_defaults(cursor, constants: dict[str, dict[str, object]], *, drop: bool) -> None:
    for table, values in constants.items():
        for column, value in values.items():
            action = (
                sql.SQL("DROP DEFAULT")
                if drop
                else sql.SQL("SET DEFAULT {}").format(sql.Literal(value))
            )
            cursor.cursor.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} {}").format(
                    sql.Identifier(table), sql.Identifier(column), action
                )
            )


@contextmanager
def upkeep_deferred(cursor, bulk: bool) -> Iterator[SetAside | None]:
    """Inside, the incident tables' upkeep is set aside when ``bulk``; rebuilt on leaving.

    On an exception nothing is rebuilt here: the transaction's rollback restores it.
    """
    if not bulk:
        yield None
        return
    saved = set_aside(cursor)
    yield saved
    restore(cursor, saved)
