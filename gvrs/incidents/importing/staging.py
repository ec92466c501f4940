"""A temporary staging table per import, loaded in bulk, on SQLite or PostgreSQL.

Validated rows are staged first and merged into the registry with set-based SQL afterwards:
rows of one incident may be far apart in a file, and only the database sees them all without
holding the file in memory. PostgreSQL is loaded with COPY, SQLite with multi-row INSERTs.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connection

STAGE = "gvrs_stage"
STAGE_INCIDENT = "gvrs_stage_incident"

# (column, SQLite type, PostgreSQL type)
STAGE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("line", "INTEGER", "bigint"),
    ("source_id", "TEXT", "text"),
    ("kind", "TEXT", "text"),
    ("occurred_on", "TEXT", "date"),
    ("occurred_time", "TEXT", "time"),
    ("reported_at", "TEXT", "timestamptz"),
    ("jurisdiction_id", "INTEGER", "bigint"),
    ("area_id", "INTEGER", "bigint"),
    ("latitude", "REAL", "double precision"),
    ("longitude", "REAL", "double precision"),
    ("block_address", "TEXT", "text"),
    ("weapon", "TEXT", "text"),
    ("group_involvement", "TEXT", "text"),
    ("circumstance", "TEXT", "text"),
    ("case_status", "TEXT", "text"),
    ("location_type", "TEXT", "text"),
    ("offenders", "INTEGER", "integer"),
    ("killed", "INTEGER", "integer"),
    ("injured", "INTEGER", "integer"),
    ("victim_age", "INTEGER", "integer"),
    ("victim_age_group", "TEXT", "text"),
    ("victim_sex", "TEXT", "text"),
    ("victim_race", "TEXT", "text"),
    ("victim_ethnicity", "TEXT", "text"),
    ("victim_extra", "TEXT", "text"),
    ("has_victim", "INTEGER", "smallint"),
    ("incident_hash", "INTEGER", "bigint"),
    ("row_hash", "INTEGER", "bigint"),
)
COLUMN_NAMES = [name for name, _, _ in STAGE_COLUMNS]


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def drop_stage(cursor) -> None:
    for table in (STAGE, STAGE_INCIDENT):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def create_stage(cursor) -> None:
    drop_stage(cursor)
    pg = is_postgresql()
    columns = ", ".join(f"{name} {pgt if pg else lite}" for name, lite, pgt in STAGE_COLUMNS)
    if not pg:
        # The file line is the row's key: SQLite then finds an incident's first row by rowid.
        columns = columns.replace("line INTEGER", "line INTEGER PRIMARY KEY", 1)
    cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} ({columns})")


def load_stage(cursor, rows: pd.DataFrame) -> None:
    """Append typed rows (the columns of ``COLUMN_NAMES``) to the staging table."""
    if not rows.empty:
        write_rows(cursor, STAGE, rows[COLUMN_NAMES])


def write_rows(
    cursor, table: str, frame: pd.DataFrame, constants: dict[str, object] | None = None
) -> None:
    """Append ``frame`` to ``table`` (its columns by name), in bulk: COPY on PostgreSQL,
    multi-row INSERTs on SQLite. Missing values (None, NaN, NA) are written as NULL.

    ``constants`` are columns with one value for every row: SQLite takes them as literals in
    the statement (each value bound from Python costs more than its column), PostgreSQL as
    columns of the COPY.

    On SQLite each statement inserts as many rows as its limit of 999 parameters allows,
    and goes to the driver itself with its own "?" marks: one row per statement (an
    executemany) cost a fifth more of the whole first load, and Django's wrapper would
    rewrite every "%s" of each long statement first.
    """
    if frame.empty:
        return
    constants = constants or {}
    if is_postgresql():
        frame = frame.assign(**{name: _constant(value, frame) for name, value in constants.items()})
        copy_csv(cursor.cursor.connection, table, list(frame.columns), csv_bytes(frame))
        return
    columns = []
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "iub" and not column.hasnans:
            columns.append(column.to_numpy().tolist())
        else:
            values = column.to_numpy(dtype=object)
            missing = pd.isna(values)
            if missing.any():
                values = np.where(missing, None, values)
            columns.append(values.tolist())
    marks = [None] * len(frame.columns) + [_literal(value) for value in constants.values()]
    insert_rows(table, [*frame.columns, *constants], marks, columns, len(frame))


def insert_rows(table: str, names: list[str], marks: list[str | None], columns, n: int) -> None:
    """INSERT ``n`` rows into ``table`` in multi-row statements, as many rows each as the
    database's limit of parameters allows (at most 1,000).

    ``names`` are the (quoted) columns; ``marks[i]`` is None for a value bound from
    ``columns`` (one sequence per bound column, in order) or an SQL literal written into the
    statement (a default or a constant, bound once instead of on every row). On SQLite the
    statements go to the driver itself, with its own "?" marks: Django's wrapper would
    rewrite every "%s" of each long statement first (a fifth of the insert), and one row
    per statement (an executemany) cost a third more. Errors still reach callers as
    Django's (a locked database is an OperationalError)."""
    sqlite = connection.vendor == "sqlite"
    mark = "?" if sqlite else "%s"
    row = (
        "("
        + ", ".join(mark if m is None else m if sqlite else m.replace("%", "%%") for m in marks)
        + ")"
    )
    head = f"INSERT INTO {table} ({', '.join(names)}) VALUES "
    per_row = max(1, len(columns))
    batch = min(1000, (connection.features.max_query_params or 65535) // per_row)
    full = head + ", ".join([row] * batch)
    # One flat list of the values, row after row, zipped in C from one list per column.
    flat = list(itertools.chain.from_iterable(zip(*columns, strict=True)))
    with connection.cursor() as cursor, connection.wrap_database_errors:
        execute = connection.connection.execute if sqlite else cursor.execute
        for start in range(0, n, batch):
            rows = min(batch, n - start)
            sql = full if rows == batch else head + ", ".join([row] * rows)
            execute(sql, flat[start * per_row : (start + rows) * per_row] if columns else [])


def _constant(value: object, frame: pd.DataFrame) -> pd.Series:
    return pd.Series(value, index=frame.index, dtype="str" if isinstance(value, str) else None)


def _literal(value: object) -> str:
    """An SQL literal for an int or a string (quotes doubled)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"no literal for {value!r}")
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def csv_bytes(frame: pd.DataFrame) -> memoryview:
    """``frame`` as headerless CSV for COPY. pyarrow writes it in C (pandas' to_csv is several
    times slower); a null is an unquoted empty field, which COPY reads as NULL, and an empty
    string is "", which it reads as an empty string."""
    buffer = io.BytesIO()
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    pa_csv.write_csv(arrow, buffer, pa_csv.WriteOptions(include_header=False))
    return buffer.getbuffer()


def copy_csv(connection, table: str, columns: list[str], data: memoryview) -> None:
    """COPY ``data`` into ``table`` on a psycopg connection. Safe to call from a thread other
    than the connection's own: psycopg holds the connection's lock for the whole COPY, so any
    other statement waits for it to end."""
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy,
    ):
        copy.write(data)


def analyze_stage(cursor) -> None:
    """Give PostgreSQL's planner the staged row count, so the merge joins by hashing."""
    if is_postgresql():
        cursor.execute(f"ANALYZE {STAGE}")
