"""CSV for spreadsheets and BI tools, through the project's one CSV writer
(``gvrs.data.csvsafe``): one header row, one row per record, text cells inert, rows ending in
CRLF, numbers as plain numbers and a missing value as an empty cell."""

from __future__ import annotations

import io

from django.http import HttpResponse

from gvrs.data.csvsafe import writer


def _cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_text(rows: list[dict], columns: list[str]) -> bytes:
    out = io.StringIO(newline="")
    write = writer(out)
    write.writerow(columns)
    for row in rows:
        write.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue().encode()


def csv_response(body: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{file_name}"'
    return response
