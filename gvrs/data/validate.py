"""Check canonical rows and turn them into typed values, collecting every error.

Validation is vectorised over a chunk: each rule computes a mask of bad cells, and only the bad
cells become ``RowError`` objects. Rows with any error are left out of the typed result; the
caller decides whether one bad row sinks the file (the default) or is set aside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gvrs.data.errors import RowError
from gvrs.data.schema import (
    FIELDS,
    INCIDENT_FIELDS,
    VICTIM_FIELD_MAX_LENGTH,
    VICTIM_FIELD_PREFIX,
)
from gvrs.data.text import text_column

MAX_COUNT = 1_000  # people one row describes: 1 or 0 in an export, never thousands
MAX_AGE = 120
FIREARM_KINDS = (
    "nonfatal_shooting",
    "shots_fired",
    "officer_involved_shooting",
    "firearm_assault",
)
# Row fingerprints are summed per incident in SQL; 47 bits leave room for a million rows per
# incident inside a signed 64-bit integer.
_HASH_SHIFT = 17


@dataclass
class Validated:
    rows: pd.DataFrame  # typed rows that passed, with line, incident_hash and row_hash
    errors: list[RowError]
    bad_source_ids: set[str]  # incidents with at least one bad row


def _normalise_choice(series: pd.Series) -> pd.Series:
    """'Nonfatal Shooting' -> 'nonfatal_shooting'; done once per distinct value (few)."""
    codes, uniques = pd.factorize(series)
    folded = pd.Index(uniques).str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    return pd.Series(np.asarray(folded, dtype=object)[codes], index=series.index)


def _longest(text: pd.Series, paths: bool) -> np.ndarray:
    """Each value's length; for a place path ("Kern County > Arvin") its longest name's,
    as each name is stored on its own."""
    if not paths:
        return text.str.len().to_numpy()
    codes, uniques = pd.factorize(text)
    if not len(uniques):
        return np.zeros(len(text), dtype=np.int64)
    # The names of each distinct path side by side (a column per level, NaN past its end).
    names = pd.Series(uniques, dtype="str").str.split(">", expand=True)
    longest = np.zeros(len(uniques), dtype=np.int64)
    for level in names.columns:
        length = names[level].str.strip().str.len().fillna(0).to_numpy(dtype=np.int64)
        np.maximum(longest, length, out=longest)
    return np.where(codes >= 0, longest[codes], 0)  # a missing value (code -1) is empty


def _to_float(text: pd.Series) -> np.ndarray:
    """Numbers from text, NaN where missing or not a number.

    pyarrow's cast parses a column about ten times faster than ``pd.to_numeric``, but
    refuses the whole column (ArrowInvalid) for one value that is not a number; then pandas
    finds which values those are.
    """
    try:
        parsed = pc.cast(pa.array(text), pa.float64())
    except pa.ArrowInvalid:
        number = pd.to_numeric(text, errors="coerce")
        return number.to_numpy(dtype=float, na_value=np.nan)
    return parsed.to_numpy(zero_copy_only=False)


def _errors(
    mask: np.ndarray, lines: np.ndarray, column: str, values: pd.Series, reason
) -> list[RowError]:
    """RowErrors for the masked rows; ``reason`` is a string or a function of the value."""
    if not mask.any():
        return []
    picked = values[mask].astype(str)
    return [
        RowError(int(line), column, value, reason(value) if callable(reason) else reason)
        for line, value in zip(lines[mask], picked, strict=True)
    ]


def _parse_datetime(text: pd.Series, fmt: str | None) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Dates, times ("HH:MM:SS" or None) and a mask of unparseable non-empty cells."""
    present = (text != "").to_numpy()
    if fmt:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        has_time = pd.Series(any(d in fmt for d in ("%H", "%I")), index=text.index)
    else:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        has_time = text.str.len() > 10
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    bad = present & parsed.isna().to_numpy()
    # Formatted by pyarrow's casts, not strftime (a Python call per row).
    stamps = parsed.to_numpy(dtype="datetime64[s]")
    days = stamps.astype("datetime64[D]")
    missing = np.isnat(stamps)
    day = text_column(pa.array(days).cast(pa.string()), text.index)
    seconds = np.where(missing, 0, (stamps - days).astype(np.int64)).astype(np.int32)
    keep = has_time.to_numpy() & ~missing
    clock = text_column(pa.array(seconds, pa.time32("s"), mask=~keep).cast(pa.string()), text.index)
    return day, clock, bad


def validate_rows(
    canonical: pd.DataFrame,
    lines: np.ndarray,
    *,
    today: date,
    datetime_formats: dict[str, str] | None = None,
    kind_derived: bool = False,
    kind_rules: bool = False,
    victim_fields: tuple[str, ...] = (),
) -> Validated:
    """Validate a chunk of canonical string rows (``Mapping.apply`` output).

    ``victim_fields`` are the person fields a mapping adds (``[victim_fields]``): each is a
    text column ``victim_<key>`` and is passed on as one JSON object per row,
    ``victim_extra`` (None when the row has none of them).

    With ``kind_derived`` the kind is decided later from the incident's outcome, except on
    rows where a mapping's rule set it (``kind_rules``): those keep their (checked) kind.

    ``today`` is the jurisdiction's current date: an incident dated after it is an error, so a
    typo in a year is caught rather than counted in a future year.
    """
    formats = datetime_formats or {}
    errors: list[RowError] = []
    bad = np.zeros(len(canonical), dtype=bool)
    out: dict[str, object] = {"line": lines}
    today_text = today.isoformat()

    def flag(mask: np.ndarray, column: str, reason) -> None:
        nonlocal bad
        errors.extend(_errors(mask, lines, column, canonical[column], reason))
        bad |= mask

    for spec in FIELDS:
        name = spec.name
        if name == "kind" and kind_derived and not kind_rules:
            out["kind"] = None
            continue
        text = canonical[name].astype(str).str.strip()
        empty = (text == "").to_numpy()
        if spec.required and not (name == "kind" and kind_derived):
            flag(empty, name, "required value is missing")
        if spec.max_length is not None:
            flag(
                _longest(text, paths=name == "jurisdiction") > spec.max_length,
                name,
                f"longer than {spec.max_length} characters",
            )
        if spec.type == "text":
            # PostgreSQL text cannot hold NUL; a cell with one is an error, never a crash.
            flag(
                text.str.contains("\x00", regex=False).to_numpy(dtype=bool),
                name,
                "contains a NUL character (\\x00), which cannot be stored",
            )
            out[name] = text.where(~empty, None)
        elif spec.type == "choice":
            value = _normalise_choice(text)
            if spec.default is not None:
                value = value.where(~empty, spec.default)
            unknown = ~value.isin(spec.choices).to_numpy() & ~empty
            flag(
                unknown,
                name,
                lambda v, s=spec: f"unknown {s.name} {v.strip()!r}; valid: {', '.join(s.choices)}",
            )
            out[name] = value.where(~empty | (spec.default is not None), None)
        elif spec.type == "datetime":
            day, clock, unparseable = _parse_datetime(text, formats.get(name))
            expected = formats.get(name) or "ISO 8601 (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
            flag(unparseable, name, f"unparseable date; expected {expected}")
            future = (day > today_text).fillna(False).to_numpy() & ~unparseable
            flag(future, name, f"date is in the future (today is {today_text})")
            if name == "occurred_at":
                out["occurred_on"] = day
                out["occurred_time"] = clock
            else:
                out[name] = (day + "T" + clock.fillna("00:00:00")).where(day.notna(), None)
        else:
            values = _to_float(text.where(~empty, None))
            not_number = np.isnan(values) & ~empty
            if spec.type == "float":
                flag(not_number, name, "not a number")
                limit = 90.0 if name == "latitude" else 180.0
                out_of_range = np.abs(np.nan_to_num(values)) > limit
                flag(out_of_range, name, f"out of range (-{limit:g} to {limit:g} degrees)")
                out[name] = values
            else:
                fractional = ~np.isnan(values) & (values % 1 != 0)
                negative = ~np.isnan(values) & (values < 0)
                what = {"count": "count", "age": "age"}.get(spec.type, "number")
                flag(not_number | fractional, name, f"{what} must be a whole number")
                flag(negative, name, f"{what} cannot be negative")
                if spec.type == "count":
                    flag(
                        ~np.isnan(values) & (values > MAX_COUNT),
                        name,
                        f"count over {MAX_COUNT:,} people in one row",
                    )
                if spec.type == "number":
                    flag(values > MAX_COUNT, name, f"over {MAX_COUNT:,}")
                if spec.type == "age":
                    flag(values > MAX_AGE, name, f"age over {MAX_AGE}")
                if spec.type in ("age", "number"):
                    out[name] = pd.array(np.where(np.isnan(values), np.nan, values), dtype="Int64")
                else:
                    # Rows over MAX_COUNT are flagged above; keep the cast in range.
                    in_range = np.where(np.abs(values) <= MAX_COUNT, values, 0)
                    out[name] = np.nan_to_num(in_range).astype(np.int64)

    lat, lon = canonical["latitude"].str.strip() != "", canonical["longitude"].str.strip() != ""
    flag(
        (lat != lon).to_numpy(),
        "latitude" if not lat.all() else "longitude",
        "latitude and longitude must both be given or both be empty",
    )

    extras = {}
    for key in victim_fields:
        name = VICTIM_FIELD_PREFIX + key
        text = canonical[name].astype(str).str.strip()
        flag(
            (text.str.len() > VICTIM_FIELD_MAX_LENGTH).to_numpy(),
            name,
            f"longer than {VICTIM_FIELD_MAX_LENGTH} characters",
        )
        flag(
            text.str.contains("\x00", regex=False).to_numpy(dtype=bool),
            name,
            "contains a NUL character (\\x00), which cannot be stored",
        )
        extras[key] = text
    out["victim_extra"] = _extra_json(extras, canonical.index)

    rows = pd.DataFrame(out, index=canonical.index)
    if not kind_derived:
        # A shooting is by definition with a firearm: an empty weapon says nothing else.
        unstated = (canonical["weapon"].str.strip() == "") & rows["kind"].isin(FIREARM_KINDS)
        rows["weapon"] = rows["weapon"].where(~unstated, "firearm")
    rows["has_victim"] = (
        (rows["killed"] + rows["injured"] > 0)
        | rows["victim_age"].notna().to_numpy()
        | rows["victim_sex"].notna()
        | rows["victim_race"].notna()
        | rows["victim_age_group"].notna()
        | rows["victim_ethnicity"].notna()
        | rows["victim_extra"].notna()
    ).astype(np.int8)
    bad_ids = set(canonical["source_id"][bad].str.strip()) - {""}
    rows = rows[~bad]
    incident_columns = [
        c
        for c in ("source_id", "kind", "occurred_on", "occurred_time", *INCIDENT_FIELDS[3:])
        if c in rows and not (c == "kind" and kind_derived and not kind_rules)
    ]
    row_columns = [c for c in rows.columns if c not in ("line", "has_victim")]
    rows["incident_hash"], rows["row_hash"] = _fingerprints_kept(
        rows, incident_columns, row_columns
    )
    return Validated(rows=rows, errors=errors, bad_source_ids=bad_ids)


# Fields added after rows were first fingerprinted: a row that leaves them all empty keeps the
# fingerprint it had before they existed, so re-importing an earlier file still changes
# nothing.
LATER_FIELDS = ("location_type", "offenders", "victim_ethnicity", "victim_extra")


def _fingerprints_kept(
    rows: pd.DataFrame, incident_columns: list[str], row_columns: list[str]
) -> list[np.ndarray]:
    """The fingerprints of ``_fingerprints``, each over the older columns alone on rows
    whose later fields among its columns are all empty (an incident's rows must agree on
    its hash, so a victim's ethnicity never changes the incident's)."""
    out = []
    for columns in (incident_columns, row_columns):
        older = [c for c in columns if c not in LATER_FIELDS]
        (hashes,) = _fingerprints(rows, older)
        later = [c for c in columns if c in LATER_FIELDS]
        set_later = rows[later].notna().any(axis=1).to_numpy() if later else None
        if set_later is not None and set_later.any():
            (full,) = _fingerprints(rows[set_later], columns)
            hashes[set_later] = full
        out.append(hashes)
    return out


def _extra_json(extras: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """One JSON object per row of the non-empty person fields a mapping adds, keys sorted
    (the same values always give the same text, so a re-import hashes the same); None
    where a row has none."""
    if not extras:
        return pd.Series(None, index=index, dtype=object)
    keys = sorted(extras)
    columns = [extras[k].to_numpy(dtype=object) for k in keys]
    texts = []
    for values in zip(*columns, strict=True):
        found = {k: v for k, v in zip(keys, values, strict=True) if v}
        texts.append(
            json.dumps(found, ensure_ascii=False, separators=(",", ":")) if found else None
        )
    return pd.Series(texts, index=index, dtype=object)


def _fixed(rows: pd.DataFrame, name: str):
    """A column cast to one fixed dtype, so the same values hash the same whatever else a
    chunk holds (an all-empty text column would otherwise arrive as floats)."""
    column = rows[name]
    if name in ("latitude", "longitude"):
        return column.astype("float64")
    if name in ("killed", "injured"):
        return column.astype("int64")
    if name in ("victim_age", "offenders"):
        return column.astype("Int64")
    return column.astype("str")


def _fingerprints(rows: pd.DataFrame, *column_lists: list[str]) -> list[np.ndarray]:
    """A stable 47-bit hash of each row's values over each list of columns.

    Equal to ``pd.util.hash_pandas_object`` of the frame of those columns, with each column
    hashed once however many lists name it.
    """
    if rows.empty:
        return [np.zeros(0, dtype=np.int64) for _ in column_lists]
    names = {name for columns in column_lists for name in columns}
    hashed = {
        name: pd.util.hash_pandas_object(_fixed(rows, name), index=False).to_numpy()
        for name in names
    }
    return [
        (_combine([hashed[name] for name in columns]) >> np.uint64(_HASH_SHIFT)).astype(np.int64)
        for columns in column_lists
    ]


def _combine(arrays: list[np.ndarray]) -> np.ndarray:
    """Row hashes from column hashes as pandas combines them (CPython's tuple hash), so a
    fingerprint never changes with how it is computed."""
    mult = np.uint64(1000003)
    out = np.zeros_like(arrays[0]) + np.uint64(0x345678)
    for i, array in enumerate(arrays):
        inverse_i = len(arrays) - i
        out ^= array
        out *= mult
        mult += np.uint64(82520 + inverse_i + inverse_i)
    return out + np.uint64(97531)
