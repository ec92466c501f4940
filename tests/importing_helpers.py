"""Small hand-written builders for import tests."""

from __future__ import annotations

import csv
from pathlib import Path

from gvrs.data.schema import CSV_COLUMNS

HEADER = list(CSV_COLUMNS)


def row(source_id: str = "A-1", /, **overrides: str) -> dict[str, str]:
    """A valid one-victim homicide row; keyword arguments replace fields."""
    base = {
        "source_id": source_id,
        "kind": "homicide",
        "occurred_at": "2022-03-04T21:15",
        "jurisdiction": "Bakersfield",
        "area": "East Bakersfield",
        "latitude": "35.37",
        "longitude": "-119.01",
        "weapon": "firearm",
        "killed": "1",
        "injured": "0",
        "group_involvement": "yes",
        "circumstance": "group_conflict",
        "victim_age": "19",
        "victim_sex": "male",
        "victim_race": "Hispanic",
    }
    base.update(overrides)
    return base


def write_csv(
    path: Path, rows: list[dict[str, str]], header: list[str] | None = None, encoding: str = "utf-8"
) -> Path:
    header = header or HEADER
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
