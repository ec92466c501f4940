"""How large a file, and the parts of it, gvrs will read: limits with safe defaults.

A police export is long (millions of rows) but never wide or deep: no records system writes a
thousand columns, a megabyte on one line, a 32,767-character cell (Excel's own cell limit) or
ten thousand rows for one incident.
Files beyond these are refused before they are read into memory, with a message naming the
limit and the environment variable that raises it, so a hostile or broken file costs a few
megabytes of memory and seconds of CPU, never the server.

Each limit is read from its environment variable when a file is opened (``Limits.from_env``),
so the command line, the web application and the background worker apply the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from gvrs.data.errors import FileError
from gvrs.env import env_int

# field -> (environment variable, default, what is counted, unit)
_SETTINGS = {
    "upload_bytes": ("GVRS_MAX_UPLOAD_BYTES", 512 * 2**20, "the file", "bytes"),
    "decompressed_bytes": (
        "GVRS_MAX_DECOMPRESSED_BYTES",
        4 * 2**30,
        "the file's decompressed content",
        "bytes",
    ),
    "line_bytes": ("GVRS_MAX_LINE_BYTES", 2**20, "a line (one row)", "bytes"),
    "cell_chars": ("GVRS_MAX_CELL_CHARS", 32_767, "a cell", "characters"),
    "columns": ("GVRS_MAX_COLUMNS", 1_000, "the header", "columns"),
    # The deadliest US mass shooting (Las Vegas, 2017) left about 500 people shot: a row per
    # person is a few hundred rows. An incident's rows are held in memory until it closes.
    "incident_rows": ("GVRS_MAX_INCIDENT_ROWS", 10_000, "one incident", "rows"),
    # What a reader must hold decoded in memory at once, whatever the file's size: an XLSX
    # workbook's shared strings (every cell's text, held for the whole read) or a Parquet
    # page (decompressed whole before its first value). A compressed file can be small and
    # unfold into gigabytes here; 256 MB keeps the peak of any file under 1 GB.
    "part_bytes": (
        "GVRS_MAX_PART_BYTES",
        256 * 2**20,
        "a part of the file decoded whole (an XLSX workbook's shared strings, a Parquet page)",
        "bytes",
    ),
}


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = _SETTINGS["upload_bytes"][1]
    decompressed_bytes: int = _SETTINGS["decompressed_bytes"][1]
    line_bytes: int = _SETTINGS["line_bytes"][1]
    cell_chars: int = _SETTINGS["cell_chars"][1]
    columns: int = _SETTINGS["columns"][1]
    incident_rows: int = _SETTINGS["incident_rows"][1]
    part_bytes: int = _SETTINGS["part_bytes"][1]

    @classmethod
    def from_env(cls) -> Limits:
        values = {f.name: env_int(*_SETTINGS[f.name][:2]) for f in fields(cls)}
        return cls(**values)


def setting_name(limit: str) -> str:
    """The environment variable that sets ``limit`` (a field of ``Limits``)."""
    return _SETTINGS[limit][0]


class LimitError(FileError):
    """A file, or a part of it, over one of the ``Limits``: the message names the limit, its
    value and the setting that changes it."""

    def __init__(
        self,
        file_name: str,
        limit: str,
        value: int,
        *,
        found: str = "",
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        variable, _, what, unit = _SETTINGS[limit]
        where = f"column {column!r}: " if column is not None else ""
        found = f" ({found})" if found else ""
        self.limit = limit
        self.setting = variable
        super().__init__(
            file_name,
            f"{where}{what} is over the limit of {value:,} {unit}{found}; "
            f"the limit is set by {variable}",
            line=line,
        )
