"""CSV for spreadsheets and BI tools: one header row, one row per record, every text cell made
inert (``gvrs.data.csvsafe``), numbers as plain numbers and a missing value as an empty cell."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse

from gvrs.data.csvsafe import inert


def _cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    return inert(str(value))


def csv_response(rows: list[dict], columns: list[str], file_name: str) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{file_name}"'
    return response
