"""Write the rows an import rejected, as they were in the file, with a ``reason`` column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gvrs.data.csvsafe import write_frame
from gvrs.data.readers import open_table


def write_rejects(source: Path, encoding: str | None, reasons: dict[int, str], out: Path) -> int:
    """Copy the rejected lines of ``source`` to ``out`` (a second streaming pass).

    ``reasons`` maps a file line to why it was rejected; several errors on one line are
    joined with "; ". Cells a spreadsheet would run as a formula get a leading apostrophe
    (``gvrs.data.csvsafe``). Returns the number of rows written.
    """
    table = open_table(source, encoding=encoding)
    written = 0
    header = True
    with open(out, "w", encoding="utf-8", newline="") as fh:
        for chunk in table.chunks():
            keep = pd.Series(chunk.lines).isin(reasons.keys()).to_numpy()
            if not keep.any() and not header:
                continue
            rows = chunk.frame[keep].copy()
            rows["line"] = chunk.lines[keep]
            rows["reason"] = [reasons[int(line)] for line in chunk.lines[keep]]
            write_frame(rows, fh, header=header)
            header = False
            written += len(rows)
        if header:
            write_frame(pd.DataFrame(columns=[*table.columns, "line", "reason"]), fh)
    return written
