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
from gvrs.incidents.importing.places import PlaceResolver
from gvrs.incidents.models import ImportRun, PublishedCount

# The columns an [unpivot] table's rows carry their year and value in (``run._unpivot``).
UNPIVOT_YEAR, UNPIVOT_VALUE = "__year__", "__value__"


def _validate(
    chunk: Chunk, mapping: Mapping, this_year: int
) -> tuple[pd.DataFrame, list[RowError], list[RowError]]:
    """Long rows (line, place, parent, year, metric, count), errors, and skipped figures."""
    frame, lines = chunk.frame, chunk.lines
    errors: list[RowError] = []
    skipped: list[RowError] = []
    year_column = mapping.year_column or mapping.year_date_column or UNPIVOT_YEAR
    year_text = frame[year_column].str.strip()
    if mapping.year_date_column and not mapping.year_column:
        # The year of a date ("2018-12-31", "12/31/2018"): a date that does not parse keeps
        # its text, and is refused as not a year.
        parsed = pd.to_datetime(
            year_text, format=mapping.year_date_format or "mixed", errors="coerce"
        )
        year_text = parsed.dt.strftime("%Y").fillna(year_text)
    year = pd.to_numeric(year_text, errors="coerce")
    bad_year = (year.isna() | (year % 1 != 0) | (year < 1900)).to_numpy()
    future = (year > this_year).fillna(False).to_numpy()
    place = mapping.place_paths(frame)
    no_place = (place == "").to_numpy()
    place_label = mapping.place_column or "+".join(mapping.place_path)
    end, end_errors = _window_ends(frame, lines, mapping, year)
    errors += end_errors
    for mask, column, values, reason in (
        (bad_year, year_column, year_text, "not a year"),
        (future, year_column, year_text, f"year is in the future (this is {this_year})"),
        (no_place, place_label, place, "required value is missing"),
    ):
        errors += [
            RowError(int(n), column, str(v), reason)
            for n, v in zip(lines[mask], values[mask], strict=True)
        ]
    bad = bad_year | future | no_place | end.isna().to_numpy()
    codes = mapping.place_codes(frame)
    long = []
    for series in mapping.series:
        column = series.column or UNPIVOT_VALUE
        label = series.column or mapping.unpivot.label
        text = frame[column].str.strip()
        value = pd.to_numeric(text, errors="coerce")
        # An empty cell is "not reported", never zero: no figure is stored for it.
        present = (text != "").to_numpy()
        negative = present & (value < 0).fillna(False).to_numpy()
        if mapping.negative_counts == "skip":
            skipped += [
                RowError(int(n), label, str(v), "negative figure skipped")
                for n, v in zip(lines[negative], text[negative], strict=True)
            ]
            present = present & ~negative
        invalid = present & (value.isna() | (value < 0) | (value % 1 != 0)).to_numpy()
        errors += [
            RowError(int(n), label, str(v), "count must be a whole number, 0 or more")
            for n, v in zip(lines[invalid], text[invalid], strict=True)
        ]
        bad |= invalid
        keep = present & ~invalid
        long.append(
            pd.DataFrame(
                {
                    "line": lines[keep],
                    "path": place[keep].to_numpy(),
                    "year": year[keep].to_numpy(),
                    "end": end[keep].to_numpy(),
                    **(
                        {}
                        if codes is None
                        else {c: codes[c][keep].to_numpy() for c in ("ori", "geoid")}
                    ),
                    "metric": series.metric,
                    "count": value[keep].to_numpy(),
                }
            )
        )
    rows = pd.concat(long, ignore_index=True)
    bad_lines = set(lines[bad].tolist())
    return rows[~rows["line"].isin(bad_lines)], errors, skipped


def _window_ends(frame, lines, mapping: Mapping, year: pd.Series):
    """Each row's period end: 31 December, or (a part-of-year count) the month and day of
    the row's ``[period] end`` column in the figure's own year, so that a year-to-date count
    and the same source's count for the year before cover the same window."""
    if not mapping.end_column:
        return pd.Series("12-31", index=frame.index), []
    text = frame[mapping.end_column].str.strip()
    fmt = mapping.end_format
    parsed = pd.to_datetime(text, format=fmt or "mixed", errors="coerce")
    month_day = parsed.dt.strftime("%m-%d")
    # 29 February compares with 28 February in a year that has none.
    leap_day = month_day == "02-29"
    not_leap = ~((year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0)))
    month_day = month_day.where(~(leap_day & not_leap), "02-28")
    bad = parsed.isna().to_numpy()
    expected = fmt or "a date"
    errors = [
        RowError(int(n), mapping.end_column, str(v), f"unparseable date; expected {expected}")
        for n, v in zip(lines[bad], text[bad], strict=True)
    ]
    return month_day, errors


def import_published_counts(
    chunks: Iterable[Chunk],
    mapping: Mapping,
    run: ImportRun,
    *,
    places: PlaceResolver,
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
    if figures.empty:
        return MergeCounts(), errors, skipped, []
    first = figures.drop_duplicates("path")
    codes = None
    if "ori" in first:
        codes = dict(
            zip(first["path"], zip(first["ori"], first["geoid"], strict=True), strict=True)
        )
    ids = places.jurisdiction_ids(first["path"].tolist(), first["line"].tolist(), codes)
    figures["jurisdiction_id"] = figures["path"].map(ids)
    figures["period_end"] = [
        dt.date(int(y), int(e[:2]), int(e[3:]))
        for y, e in zip(figures["year"], figures["end"], strict=True)
    ]
    definitions = {s.metric: s.definition for s in mapping.series}
    existing = pd.DataFrame(
        list(
            PublishedCount.objects.filter(source=mapping.source).values_list(
                "pk", "jurisdiction_id", "metric", "period_start", "period_end", "count"
            )
        ),
        columns=["pk", "jurisdiction_id", "metric", "period_start", "period_end", "stored"],
    )
    existing["year"] = pd.to_datetime(existing["period_start"]).dt.year
    figures["year"] = figures["year"].astype(int)
    figures["count"] = figures["count"].astype(int)
    merged = figures.merge(
        existing[["pk", "jurisdiction_id", "metric", "year", "period_end", "stored"]],
        on=["jurisdiction_id", "metric", "year", "period_end"],
        how="left",
    )
    is_new = merged["pk"].isna()
    is_changed = ~is_new & (merged["stored"] != merged["count"])
    new = merged.loc[is_new, ["jurisdiction_id", "metric", "year", "period_end", "count"]]
    changed = [
        PublishedCount(pk=int(pk), count=int(count), import_run=run)
        for pk, count in merged.loc[is_changed, ["pk", "count"]].itertuples(index=False)
    ]
    counts = MergeCounts(rows_unchanged=int((~is_new & ~is_changed).sum()))
    _insert(new, mapping, definitions, run)
    PublishedCount.objects.bulk_update(changed, ["count", "import_run"], batch_size=5000)
    counts.rows_inserted, counts.rows_updated = len(new), len(changed)
    return counts, errors, skipped, places.created


def _insert(new: pd.DataFrame, mapping: Mapping, definitions: dict[str, str], run) -> None:
    """Insert new figures with one executemany (building ORM objects costs more than the
    database does for a state's 170,000 figures)."""
    years = new["year"].astype(int)
    rows = zip(
        new["jurisdiction_id"].astype(int).tolist(),
        new["metric"].tolist(),
        [dt.date(y, 1, 1) for y in years],
        new["period_end"].tolist(),
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
