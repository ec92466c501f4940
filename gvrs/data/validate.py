"""Check canonical rows and turn them into typed values, collecting every error.

Validation is vectorised over a chunk: each rule computes a mask of bad cells, and only the bad
cells become ``RowError`` objects. Rows with any error are left out of the typed result; the
caller decides whether one bad row sinks the file (the default) or is set aside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from gvrs.data.errors import RowError
from gvrs.data.schema import FIELDS, INCIDENT_FIELDS

MAX_AGE = 120
FIREARM_KINDS = ("nonfatal_shooting", "shots_fired", "officer_involved_shooting")
# Row fingerprints are summed per incident in SQL; 47 bits leave room for a million rows per
# incident inside a signed 64-bit integer.
_HASH_SHIFT = 17
_CLOCK = np.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)])


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
    # Formatting through numpy, not strftime (a Python call per row): the date by casting to
    # days, the time by indexing a table of the 86,400 "HH:MM:SS" strings.
    stamps = parsed.to_numpy(dtype="datetime64[s]")
    days = stamps.astype("datetime64[D]")
    missing = np.isnat(stamps)
    day = pd.Series(np.where(missing, None, days.astype(str)), index=text.index, dtype="str")
    seconds = np.where(missing, 0, (stamps - days).astype(np.int64))
    keep = has_time.to_numpy() & ~missing
    clock = pd.Series(np.where(keep, _CLOCK[seconds], None), index=text.index, dtype="str")
    return day, clock, bad


def validate_rows(
    canonical: pd.DataFrame,
    lines: np.ndarray,
    *,
    today: date,
    datetime_formats: dict[str, str] | None = None,
    kind_derived: bool = False,
) -> Validated:
    """Validate a chunk of canonical string rows (``Mapping.apply`` output).

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
        if name == "kind" and kind_derived:
            out["kind"] = None
            continue
        text = canonical[name].astype(str).str.strip()
        empty = (text == "").to_numpy()
        if spec.required:
            flag(empty, name, "required value is missing")
        if spec.type == "text":
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
            number = pd.to_numeric(text.where(~empty, None), errors="coerce")
            not_number = number.isna().to_numpy() & ~empty
            values = number.to_numpy(dtype=float, na_value=np.nan)
            if spec.type == "float":
                flag(not_number, name, "not a number")
                limit = 90.0 if name == "latitude" else 180.0
                out_of_range = np.abs(np.nan_to_num(values)) > limit
                flag(out_of_range, name, f"out of range (-{limit:g} to {limit:g} degrees)")
                out[name] = values
            else:
                fractional = ~np.isnan(values) & (values % 1 != 0)
                negative = ~np.isnan(values) & (values < 0)
                what = "count" if spec.type == "count" else "age"
                flag(not_number | fractional, name, f"{what} must be a whole number")
                flag(negative, name, f"{what} cannot be negative")
                if spec.type == "age":
                    flag(values > MAX_AGE, name, f"age over {MAX_AGE}")
                    out[name] = pd.array(np.where(np.isnan(values), np.nan, values), dtype="Int64")
                else:
                    out[name] = np.nan_to_num(values).astype(np.int64)

    lat, lon = canonical["latitude"].str.strip() != "", canonical["longitude"].str.strip() != ""
    flag(
        (lat != lon).to_numpy(),
        "latitude" if not lat.all() else "longitude",
        "latitude and longitude must both be given or both be empty",
    )

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
    ).astype(np.int8)
    bad_ids = set(canonical["source_id"][bad].str.strip()) - {""}
    rows = rows[~bad]
    incident_columns = [
        c
        for c in ("source_id", "kind", "occurred_on", "occurred_time", *INCIDENT_FIELDS[3:])
        if c in rows and not (c == "kind" and kind_derived)
    ]
    row_columns = [c for c in rows.columns if c not in ("line", "has_victim")]
    rows["incident_hash"] = _fingerprint(rows, incident_columns)
    rows["row_hash"] = _fingerprint(rows, row_columns)
    return Validated(rows=rows, errors=errors, bad_source_ids=bad_ids)


def _fingerprint(rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A stable 47-bit hash of each row's values.

    Each column is cast to one fixed dtype first, so the same values hash the same whatever
    else a chunk holds (an all-empty text column would otherwise arrive as floats).
    """
    if rows.empty:
        return np.zeros(0, dtype=np.int64)
    fixed = {}
    for name in columns:
        column = rows[name]
        if name in ("latitude", "longitude"):
            fixed[name] = column.astype("float64")
        elif name in ("killed", "injured"):
            fixed[name] = column.astype("int64")
        elif name == "victim_age":
            fixed[name] = column.astype("Int64")
        else:
            fixed[name] = column.astype("str")
    hashed = pd.util.hash_pandas_object(pd.DataFrame(fixed), index=False).to_numpy()
    return (hashed >> np.uint64(_HASH_SHIFT)).astype(np.int64)
