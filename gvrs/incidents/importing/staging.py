"""A temporary staging table per import, loaded in bulk, on SQLite or PostgreSQL.

Validated rows are staged first and merged into the registry with set-based SQL afterwards:
rows of one incident may be far apart in a file, and only the database sees them all without
holding the file in memory. PostgreSQL is loaded with COPY, SQLite with ``executemany``.
"""

from __future__ import annotations

import io

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
    ("killed", "INTEGER", "integer"),
    ("injured", "INTEGER", "integer"),
    ("victim_age", "INTEGER", "integer"),
    ("victim_age_group", "TEXT", "text"),
    ("victim_sex", "TEXT", "text"),
    ("victim_race", "TEXT", "text"),
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
    if rows.empty:
        return
    frame = rows[COLUMN_NAMES]
    if is_postgresql():
        # pyarrow writes CSV in C (pandas' to_csv is several times slower); a null is an
        # unquoted empty field, which COPY reads as NULL.
        buffer = io.BytesIO()
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False))
        with cursor.cursor.copy(
            f"COPY {STAGE} ({', '.join(COLUMN_NAMES)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            copy.write(buffer.getbuffer())
        return
    columns = []
    for name in COLUMN_NAMES:
        column = frame[name]
        if column.dtype.kind in "iub":
            columns.append(column.to_numpy().tolist())
        else:
            values = column.to_numpy(dtype=object)
            missing = pd.isna(values)
            if missing.any():
                values = np.where(missing, None, values)
            columns.append(values.tolist())
    placeholders = ", ".join(["%s"] * len(COLUMN_NAMES))
    cursor.executemany(
        f"INSERT INTO {STAGE} ({', '.join(COLUMN_NAMES)}) VALUES ({placeholders})",
        zip(*columns, strict=True),
    )


def analyze_stage(cursor) -> None:
    """Give PostgreSQL's planner the staged row count, so the merge joins by hashing."""
    if is_postgresql():
        cursor.execute(f"ANALYZE {STAGE}")
