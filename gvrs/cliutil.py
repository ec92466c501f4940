"""Small helpers shared by the management commands: output formats and argument types."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from typing import TextIO

import pandas as pd
from django.core.management.base import CommandError

OUTPUT_FORMATS = ("table", "csv", "json")


def parse_date(text: str) -> dt.date:
    """argparse type for YYYY-MM-DD; a bad date is a usage error (exit 2)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def find_jurisdiction(name: str):
    from gvrs.incidents.models import Jurisdiction

    try:
        return Jurisdiction.objects.named(name)
    except Jurisdiction.DoesNotExist:
        known = Jurisdiction.objects.filter(parent__isnull=True).values_list("name", flat=True)
        choices = ", ".join(list(known)[:30])
        raise CommandError(
            f"unknown jurisdiction {name!r}; top-level jurisdictions: {choices or 'none yet'}"
            " (`gvrs jurisdictions` lists all)",
            returncode=2,
        ) from None
    except Jurisdiction.MultipleObjectsReturned:
        candidates = "; ".join(
            f"{j.path} (slug {j.slug})" for j in Jurisdiction.objects.all_named(name)[:10]
        )
        raise CommandError(
            f"jurisdiction {name!r} is ambiguous: {candidates}; give its slug or its path "
            "with the state, e.g. 'CA > Fresno'",
            returncode=2,
        ) from None


def _jsonable(value):
    if isinstance(value, dt.date | dt.time | dt.datetime | pd.Timestamp):
        return value.isoformat()
    if pd.isna(value) if not isinstance(value, list | dict) else False:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def write_frame(frame: pd.DataFrame, fmt: str, out: TextIO, title: str | None = None) -> None:
    """Print a DataFrame as a rich table (people), CSV or JSON records (scripts)."""
    if fmt == "csv":
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        out.write(buffer.getvalue())
    elif fmt == "json":
        records = [
            {k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
        ]
        out.write(json.dumps(records, indent=2) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for column in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(frame[column])
            table.add_column(str(column), justify="right" if numeric else "left")
        for row in frame.itertuples(index=False):
            table.add_row(*("" if _jsonable(v) is None else str(v) for v in row))
        Console(file=out, width=160).print(table)
