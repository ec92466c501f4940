"""Import published annual counts (a wide table: one row per place and year, a column per
offense) as ``PublishedCount`` rows, each with its source and definition."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pandas as pd
from django.db import connection

from gvrs.data.errors import RowError
from gvrs.data.mapping import Mapping
from gvrs.data.readers import Chunk
from gvrs.incidents.importing.merge import MergeCounts
from gvrs.incidents.importing.places import find_or_create_jurisdiction
from gvrs.incidents.models import ImportRun, PublishedCount


def _validate(
    chunk: Chunk, mapping: Mapping, this_year: int
) -> tuple[pd.DataFrame, list[RowError], list[RowError]]:
    """Long rows (line, place, parent, year, metric, count), errors, and skipped figures."""
    frame, lines = chunk.frame, chunk.lines
    errors: list[RowError] = []
    skipped: list[RowError] = []
    year_text = frame[mapping.year_column].str.strip()
    year = pd.to_numeric(year_text, errors="coerce")
    bad_year = (year.isna() | (year % 1 != 0) | (year < 1900)).to_numpy()
    future = (year > this_year).fillna(False).to_numpy()
    place = frame[mapping.place_column].str.strip()
    no_place = (place == "").to_numpy()
    for mask, column, values, reason in (
        (bad_year, mapping.year_column, year_text, "not a year"),
        (future, mapping.year_column, year_text, f"year is in the future (this is {this_year})"),
        (no_place, mapping.place_column, place, "required value is missing"),
    ):
        errors += [
            RowError(int(n), column, str(v), reason)
            for n, v in zip(lines[mask], values[mask], strict=True)
        ]
    bad = bad_year | future | no_place
    parent = (
        frame[mapping.parent_column].str.strip()
        if mapping.parent_column
        else pd.Series("", index=frame.index)
    )
    long = []
    for series in mapping.series:
        text = frame[series.column].str.strip()
        value = pd.to_numeric(text, errors="coerce")
        # An empty cell is "not reported", never zero: no figure is stored for it.
        present = (text != "").to_numpy()
        negative = present & (value < 0).fillna(False).to_numpy()
        if mapping.negative_counts == "skip":
            skipped += [
                RowError(int(n), series.column, str(v), "negative figure skipped")
                for n, v in zip(lines[negative], text[negative], strict=True)
            ]
            present = present & ~negative
        invalid = present & (value.isna() | (value < 0) | (value % 1 != 0)).to_numpy()
        errors += [
            RowError(int(n), series.column, str(v), "count must be a whole number, 0 or more")
            for n, v in zip(lines[invalid], text[invalid], strict=True)
        ]
        bad |= invalid
        keep = present & ~invalid
        long.append(
            pd.DataFrame(
                {
                    "line": lines[keep],
                    "place": place[keep].to_numpy(),
                    "parent": parent[keep].to_numpy(),
                    "year": year[keep].to_numpy(),
                    "metric": series.metric,
                    "count": value[keep].to_numpy(),
                }
            )
        )
    rows = pd.concat(long, ignore_index=True)
    bad_lines = set(lines[bad].tolist())
    return rows[~rows["line"].isin(bad_lines)], errors, skipped


def import_published_counts(
    chunks: Iterable[Chunk],
    mapping: Mapping,
    run: ImportRun,
    *,
    on_chunk: Callable[[int], None] | None = None,
) -> tuple[MergeCounts, list[RowError], list[RowError], list[str]]:
    """Upsert every figure; returns counts (rows = figures), errors, skipped figures and the
    places created.

    A wide file is small (a state's agencies over decades is ~30,000 rows), so the existing
    figures of this source are read once into a dict and compared in memory.
    """
    this_year = dt.date.today().year
    frames, errors, skipped = [], [], []
    for chunk in chunks:
        rows, chunk_errors, chunk_skipped = _validate(chunk, mapping, this_year)
        frames.append(rows)
        errors += chunk_errors
        skipped += chunk_skipped
        if on_chunk:
            on_chunk(len(chunk.frame))
    if errors:
        return MergeCounts(), errors, skipped, []
    figures = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    created: list[str] = []
    place_ids: dict[tuple[str, str], int] = {}
    for place, parent in figures[["place", "parent"]].drop_duplicates().itertuples(index=False):
        county = f"{parent}{mapping.parent_suffix}" if parent else ""
        path = f"{county} > {place}" if county else place
        jurisdiction, was_created = find_or_create_jurisdiction(path, level=mapping.place_kind)
        place_ids[(place, parent)] = jurisdiction.pk
        if was_created:
            created.append(path)
    figures["jurisdiction_id"] = [
        place_ids[key] for key in zip(figures["place"], figures["parent"], strict=True)
    ]
    definitions = {s.metric: s.definition for s in mapping.series}
    existing = pd.DataFrame(
        list(
            PublishedCount.objects.filter(source=mapping.source).values_list(
                "pk", "jurisdiction_id", "metric", "period_start", "count"
            )
        ),
        columns=["pk", "jurisdiction_id", "metric", "period_start", "stored"],
    )
    existing["year"] = pd.to_datetime(existing["period_start"]).dt.year
    figures["year"] = figures["year"].astype(int)
    figures["count"] = figures["count"].astype(int)
    merged = figures.merge(
        existing[["pk", "jurisdiction_id", "metric", "year", "stored"]],
        on=["jurisdiction_id", "metric", "year"],
        how="left",
    )
    is_new = merged["pk"].isna()
    is_changed = ~is_new & (merged["stored"] != merged["count"])
    new = merged.loc[is_new, ["jurisdiction_id", "metric", "year", "count"]]
    changed = [
        PublishedCount(pk=int(pk), count=int(count), import_run=run)
        for pk, count in merged.loc[is_changed, ["pk", "count"]].itertuples(index=False)
    ]
    counts = MergeCounts(rows_unchanged=int((~is_new & ~is_changed).sum()))
    _insert(new, mapping, definitions, run)
    PublishedCount.objects.bulk_update(changed, ["count", "import_run"], batch_size=5000)
    counts.rows_inserted, counts.rows_updated = len(new), len(changed)
    return counts, errors, skipped, created


def _insert(new: pd.DataFrame, mapping: Mapping, definitions: dict[str, str], run) -> None:
    """Insert new figures with one executemany (building ORM objects costs more than the
    database does for a state's 170,000 figures)."""
    years = new["year"].astype(int)
    rows = zip(
        new["jurisdiction_id"].astype(int).tolist(),
        new["metric"].tolist(),
        [dt.date(y, 1, 1) for y in years],
        [dt.date(y, 12, 31) for y in years],
        new["count"].astype(int).tolist(),
        [mapping.source] * len(new),
        new["metric"].map(definitions).tolist(),
        [run.pk] * len(new),
        strict=True,
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO incidents_publishedcount (jurisdiction_id, metric, period_start, "
            "period_end, count, source, definition, import_run_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            list(rows),
        )
