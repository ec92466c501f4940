"""Declarative column mappings: how one source's export becomes canonical rows.

A format is a TOML file (those shipped live in ``gvrs/data/formats``; a user's own is passed
with ``--mapping``). It names the source columns for each canonical field, maps coded values
("M" -> "male"), gives the date format and the defaults for missing values, and says how
incident-level disagreements between an incident's rows are resolved. Applying a mapping is
vectorised string work on a chunk; types are checked afterwards by ``gvrs.data.validate``.

An incidents mapping::

    [format]
    name = "my-city"
    target = "incidents"          # or "published_counts"
    source = "my-city-rms"        # stored as each incident's source
    conflicts = "error"           # or "earliest": keep the earliest row's incident fields
    [defaults]
    jurisdiction = "Bakersfield"
    [columns]
    source_id = "CaseNumber"
    occurred_at = { columns = ["Date", "Time"], format = "%m/%d/%Y %H:%M" }
    victim_sex = { column = "Sex", values = { M = "male", F = "female" }, other = "unknown" }
    [derive]
    kind = "outcome"    # homicide if anyone died, else nonfatal_shooting, else shots_fired
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from gvrs.data.errors import FileError
from gvrs.data.schema import (
    CANONICAL_COLUMNS,
    FIELDS_BY_NAME,
    SOURCE_MAX_LENGTH,
    VICTIM_FIELD_PREFIX,
)
from gvrs.data.states import StateError, require_state
from gvrs.data.tomlfiles import read_toml

CONFLICT_POLICIES = ("error", "earliest")
# How a format's file is read: as a table (CSV, XLSX, Parquet), or by a NIBRS reader that
# turns the FBI's formats into canonical rows itself (``gvrs.data.nibrs``).
READERS = ("table", "nibrs-cde", "nibrs-flat", "nibrs-xml")
_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the key."""


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def template_columns(template: str) -> list[str]:
    """The columns a template names: "{County} County" -> ["County"]."""
    return _PLACEHOLDER.findall(template)


def fill_template(template: str, frame: pd.DataFrame) -> pd.Series:
    """The template filled in from each row; "" where any column it names is empty."""
    pieces = _PLACEHOLDER.split(template)  # literal, column, literal, column, ...
    out = pd.Series(pieces[0], index=frame.index, dtype="str")
    empty = pd.Series(False, index=frame.index)
    for i, piece in enumerate(pieces[1:], start=1):
        if i % 2:
            value = frame[piece].astype(str).str.strip()
            empty |= value == ""
            out = out + value
        elif piece:
            out = out + piece
    return out.str.strip().where(~empty, "")


def join_path(elements: list[pd.Series], index: pd.Index) -> pd.Series:
    """Path elements joined with " > ", empty elements left out."""
    out = pd.Series("", index=index, dtype="str")
    for element in elements:
        both = (out != "") & (element != "")
        out = (out + " > " + element).where(both, out.where(element == "", element))
    return out


@dataclass(frozen=True)
class RowFilter:
    """Keep rows whose ``column`` equals one of ``values`` (case-insensitive, trimmed) or
    matches ``regex``; ``negate`` keeps the others instead."""

    column: str
    values: tuple[str, ...] = ()
    regex: str | None = None
    negate: bool = False

    def keep(self, frame: pd.DataFrame) -> np.ndarray:
        text = frame[self.column].astype(str).str.strip()
        if self.regex is not None:
            hit = text.str.contains(self.regex, regex=True).to_numpy(dtype=bool)
        else:
            hit = text.str.casefold().isin([v.casefold() for v in self.values]).to_numpy()
        return ~hit if self.negate else hit


@dataclass(frozen=True)
class DeriveRule:
    """Set ``field`` to ``value`` on rows whose ``column`` contains a tag or matches a regex.

    ``contains`` matches case-insensitively anywhere in the cell, or, with ``separator``, one
    whole item of a list-valued cell ("Shot - Dead||Gang involvement" split on "||").
    """

    field: str
    column: str
    value: str
    contains: tuple[str, ...] = ()
    regex: str | None = None
    separator: str | None = None

    def matches(self, frame: pd.DataFrame) -> np.ndarray:
        text = frame[self.column].astype(str)
        if self.regex is not None:
            return text.str.contains(self.regex, regex=True).to_numpy(dtype=bool)
        if self.separator is None:
            folded = text.str.casefold()
            hit = np.zeros(len(text), dtype=bool)
            for tag in self.contains:
                hit |= folded.str.contains(tag.casefold(), regex=False).to_numpy(dtype=bool)
            return hit
        sep = re.escape(self.separator)
        tags = "|".join(re.escape(t.strip()) for t in self.contains)
        pattern = rf"(?i)(?:^|{sep})\s*(?:{tags})\s*(?:{sep}|$)"
        return text.str.contains(pattern, regex=True).to_numpy(dtype=bool)


@dataclass(frozen=True)
class Unpivot:
    """A wide table with a column per year: each listed column becomes a row of its own, the
    year read from the column's name by ``year`` (a regex whose first group is the year)."""

    columns: tuple[str, ...]
    year: str

    @property
    def label(self) -> str:
        return "/".join(self.columns)

    def years(self) -> dict[str, int]:
        return {c: int(re.search(self.year, c).group(1)) for c in self.columns}


@dataclass(frozen=True)
class ColumnRule:
    """How one canonical field is filled from the source columns."""

    columns: tuple[str, ...] = ()
    constant: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    other: str | None = None
    default: str | None = None
    format: str | None = None
    # A place path built from several columns: each element a template ("{County} County").
    path: tuple[str, ...] = ()
    # Implied by [format] identity (the canonical CSV): absent from a file, it is just empty.
    optional: bool = False
    # invalid = "blank": an invalid cell of this (optional) field is emptied, and the import
    # summary lists it, instead of refusing the row (a real death lost to an impossible age).
    blank_invalid: bool = False

    @property
    def source_columns(self) -> tuple[str, ...]:
        if self.path:
            return tuple(c for template in self.path for c in template_columns(template))
        return self.columns

    def apply(self, frame: pd.DataFrame) -> pd.Series:
        if self.constant is not None:
            return pd.Series(self.constant, index=frame.index, dtype="str")
        if self.path:
            out = join_path([fill_template(t, frame) for t in self.path], frame.index)
            if self.default is not None:
                out = out.where(out != "", self.default)
            return out
        # Cells arrive as strings from the readers; validation strips them once.
        out = frame[self.columns[0]]
        for extra in self.columns[1:]:
            out = (out.str.strip() + " " + frame[extra].str.strip()).str.strip()
        if self.values:
            folded = {str(k).strip().casefold(): str(v) for k, v in self.values.items()}
            out = out.str.strip()
            key = out.str.casefold()
            mapped = key.map(folded)
            if self.other is not None:
                out = mapped.where(mapped.notna() | (out == ""), self.other)
            out = mapped.where(mapped.notna(), out)
        if self.default is not None:
            out = out.where(out.str.strip() != "", self.default)
        return out


@dataclass(frozen=True)
class Series:
    """One published series in a wide table of annual counts (a column per offense)."""

    metric: str
    column: str
    definition: str


@dataclass(frozen=True)
class Mapping:
    name: str
    title: str
    target: str  # "incidents" | "published_counts"
    source: str
    path: str
    attribution: str = ""
    conflicts: str = "error"
    derive_kind: str | None = None
    rules: dict[str, ColumnRule] = field(default_factory=dict)
    # published_counts only
    year_column: str = ""
    place_column: str = ""
    parent_column: str = ""
    parent_suffix: str = ""
    place_kind: str = "agency"
    series: tuple[Series, ...] = ()
    negative_counts: str = "error"  # or "skip": a negative published figure is left out
    place_path: tuple[str, ...] = ()  # templates; instead of place_column/parent_column
    unpivot: Unpivot | None = None
    end_column: str = ""  # the last day of a part-of-year window, per row
    end_format: str | None = None
    # The figure's year taken from a date column ([period] year_from, year_format).
    year_date_column: str = ""
    year_date_format: str | None = None
    # both targets
    state: str | None = None  # USPS code of places whose path names no state
    time_zone: str | None = None  # IANA zone of the places this mapping creates
    level: str | None = None  # level of the places rows name (city, agency, county)
    filters: tuple[RowFilter, ...] = ()
    derive_rules: tuple[DeriveRule, ...] = ()
    ori_column: str = ""  # the FBI ORI (NCIC code) of each row's place
    geoid_column: str = ""  # the Census GEOID of each row's place
    # [coverage] from/through: the period the source's files cover, when the source says so
    # (otherwise each import proposes the file's own dates, strays left out).
    covers_from: dt.date | None = None
    covers_through: dt.date | None = None
    # [labels]: what a stored code means, for display ("B" -> "Black"); the registry keeps
    # the code as the source wrote it.
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # [victim_fields]: person fields this mapping adds, key -> how it is filled; stored with
    # each victim and offered by ``gvrs stats --by victim_<key>``.
    victim_fields: dict[str, ColumnRule] = field(default_factory=dict)
    reader: str = "table"

    @property
    def kind_derived(self) -> bool:
        return self.derive_kind is not None

    @property
    def kind_rules(self) -> bool:
        return any(rule.field == "kind" for rule in self.derive_rules)

    def columns_named(self, jurisdiction_given: bool = False) -> list[str]:
        """Every source column the mapping names: a file lacking any of them is refused,
        required or not (an optional field silently empty would count as zero)."""
        if self.target == "published_counts":
            named = [self.year_column] if self.year_column else []
            named += [self.year_date_column] if self.year_date_column else []
            if self.place_path:
                named += [c for t in self.place_path for c in template_columns(t)]
            else:
                named += [self.place_column] + ([self.parent_column] if self.parent_column else [])
            named += [s.column for s in self.series if s.column]
            named += list(self.unpivot.columns) if self.unpivot else []
            named += [self.end_column] if self.end_column else []
        else:
            named = []
            for name, rule in self.rules.items():
                if rule.optional or (
                    name == "jurisdiction" and jurisdiction_given and rule.optional
                ):
                    continue
                named += rule.source_columns
            for rule in self.victim_fields.values():
                named += rule.source_columns
            named += [rule.column for rule in self.derive_rules]
        named += [f.column for f in self.filters] + [self.ori_column, self.geoid_column]
        return list(dict.fromkeys(c for c in named if c))

    def place_codes(self, frame: pd.DataFrame) -> pd.DataFrame | None:
        """Each row's place's official codes (columns ori, geoid), or None without any."""
        if not (self.ori_column or self.geoid_column):
            return None
        blank = pd.Series("", index=frame.index, dtype="str")
        return pd.DataFrame(
            {
                "ori": frame[self.ori_column].str.strip() if self.ori_column else blank,
                "geoid": frame[self.geoid_column].str.strip() if self.geoid_column else blank,
            },
            index=frame.index,
        )

    def keep(self, frame: pd.DataFrame) -> np.ndarray:
        """The rows the mapping's [filter] keeps (every row when it has none)."""
        mask = np.ones(len(frame), dtype=bool)
        for row_filter in self.filters:
            mask &= row_filter.keep(frame)
        return mask

    @property
    def blank_invalid(self) -> frozenset[str]:
        """The fields whose invalid cells are emptied (and listed) instead of refused."""
        return frozenset(name for name, rule in self.rules.items() if rule.blank_invalid)

    @property
    def datetime_formats(self) -> dict[str, str]:
        return {name: rule.format for name, rule in self.rules.items() if rule.format}

    def source_columns_needed(self, jurisdiction_given: bool) -> list[str]:
        """Source columns without which no row could be valid (these tell formats apart)."""
        if self.target == "published_counts":
            return self.columns_named()
        needed: list[str] = []
        for name in CANONICAL_COLUMNS:
            spec = FIELDS_BY_NAME[name]
            rule = self.rules.get(name)
            if not spec.required or rule is None or rule.constant is not None:
                continue
            if rule.default is not None or (name == "jurisdiction" and jurisdiction_given):
                continue
            needed.extend(rule.source_columns)
        return needed

    def check_columns(self, columns: list[str], file_name: str, jurisdiction_given: bool) -> None:
        present = set(columns)
        required = list(dict.fromkeys(self.source_columns_needed(jurisdiction_given)))
        named = self.columns_named(jurisdiction_given)
        missing = [c for c in required if c not in present] + [
            c for c in named if c not in present and c not in required
        ]
        if missing:
            kind = "required column" if set(missing) <= set(required) else "column"
            raise FileError(
                file_name,
                f"missing {kind}{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} for format {self.name!r}, which maps "
                f"{'them' if len(missing) > 1 else 'it'} "
                f"(the file has: {', '.join(columns) or 'no columns'})",
                line=1,
            )

    def apply(self, frame: pd.DataFrame, jurisdiction: str | None = None) -> pd.DataFrame:
        """Canonical string columns for every row of ``frame`` (absent fields are "")."""
        out = {}
        for name in CANONICAL_COLUMNS:
            rule = self.rules.get(name)
            if rule is not None and (
                rule.constant is not None or rule.path or rule.columns[0] in frame
            ):
                out[name] = rule.apply(frame)
            else:
                default = rule.default if rule is not None else None
                out[name] = pd.Series(default or "", index=frame.index, dtype="str")
        for key, rule in self.victim_fields.items():
            if rule.constant is not None or rule.columns[0] in frame:
                out[VICTIM_FIELD_PREFIX + key] = rule.apply(frame)
            else:
                out[VICTIM_FIELD_PREFIX + key] = pd.Series("", index=frame.index, dtype="str")
        # Rules in file order: the first that matches a row sets the field.
        for rule in reversed(self.derive_rules):
            hit = rule.matches(frame)
            out[rule.field] = out[rule.field].where(~hit, rule.value)
        result = pd.DataFrame(out, index=frame.index)
        if jurisdiction:
            result["jurisdiction"] = result["jurisdiction"].where(
                result["jurisdiction"] != "", jurisdiction
            )
        return result

    def place_paths(self, frame: pd.DataFrame) -> pd.Series:
        """Published counts: each row's place path ("Kern County > Bakersfield")."""
        if self.place_path:
            return join_path([fill_template(t, frame) for t in self.place_path], frame.index)
        place = frame[self.place_column].astype(str).str.strip()
        if not self.parent_column:
            return place
        parent = frame[self.parent_column].astype(str).str.strip()
        county = (parent + self.parent_suffix).where(parent != "", "")
        return join_path([county, place], frame.index)


def _rule(name: str, spec: Any, defaults: dict[str, str], where: str) -> ColumnRule:
    default = defaults.get(name)  # schema defaults are applied by validation
    if isinstance(spec, str):
        return ColumnRule(columns=(spec,), default=default)
    if isinstance(spec, list):
        if name != "jurisdiction" or not spec or not all(isinstance(t, str) for t in spec):
            raise MappingError(
                f"{where}: columns.{name}: a list is a place path of templates, for "
                'jurisdiction only, e.g. jurisdiction = ["{state}", "{county} County", "{city}"]'
            )
        for template in spec:
            if not template_columns(template):
                raise MappingError(
                    f"{where}: columns.jurisdiction: {template!r} names no column; "
                    'write columns in braces, e.g. "{county} County"'
                )
        return ColumnRule(path=tuple(spec), default=default)
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: columns.{name} must be a column name, a list or a table")
    keys = {"column", "columns", "value", "values", "other", "default", "format", "invalid"}
    unknown = set(spec) - keys
    if unknown:
        raise MappingError(f"{where}: columns.{name} has unknown keys {sorted(unknown)}")
    invalid = spec.get("invalid", "refuse")
    if invalid not in ("refuse", "blank"):
        raise MappingError(f"{where}: columns.{name}.invalid must be 'refuse' or 'blank'")
    if (
        invalid == "blank"
        and FIELDS_BY_NAME.get(name) is not None
        and FIELDS_BY_NAME[name].required
    ):
        raise MappingError(
            f"{where}: columns.{name}.invalid = 'blank' is for optional fields; {name} is required"
        )
    if "value" in spec:
        return ColumnRule(constant=str(spec["value"]))
    columns = spec.get("columns") or ([spec["column"]] if "column" in spec else [])
    if not columns:
        raise MappingError(f"{where}: columns.{name} needs 'column', 'columns' or 'value'")
    return ColumnRule(
        columns=tuple(str(c) for c in columns),
        values={str(k): str(v) for k, v in spec.get("values", {}).items()},
        other=None if spec.get("other") is None else str(spec["other"]),
        default=str(spec["default"]) if "default" in spec else default,
        format=_checked_format(spec.get("format"), f"{where}: columns.{name}.format"),
        blank_invalid=invalid == "blank",
    )


def _regex(pattern: Any, where: str) -> str:
    try:
        re.compile(str(pattern))
    except re.error as exc:
        raise MappingError(f"{where}: {pattern!r} is not a regular expression ({exc})") from None
    return str(pattern)


def _filters(document: dict[str, Any], where: str) -> tuple[RowFilter, ...]:
    table = document.get("filter", {})
    if not isinstance(table, dict):
        raise MappingError(f"{where}: [filter] must be a table of column = condition")
    out = []
    for column, spec in table.items():
        at = f"{where}: filter.{column}"
        negate = False
        if isinstance(spec, dict):
            unknown = set(spec) - {"regex", "not"}
            if unknown or len(spec) != 1:
                raise MappingError(f"{at} takes one of regex or not, e.g. {{ regex = '^CA$' }}")
            if "regex" in spec:
                out.append(RowFilter(column=column, regex=_regex(spec["regex"], at)))
                continue
            spec, negate = spec["not"], True
        values = spec if isinstance(spec, list) else [spec]
        if not values or not all(isinstance(v, str | int) for v in values):
            raise MappingError(f"{at} must be a value, a list of values or a table")
        out.append(RowFilter(column=column, values=tuple(str(v) for v in values), negate=negate))
    return tuple(out)


# Fields a [[derive.rules]] entry may set, with the values each takes.
DERIVABLE = ("kind", "weapon", "group_involvement", "circumstance")


def _derive_rules(derive: dict[str, Any], where: str) -> tuple[DeriveRule, ...]:
    rules = derive.get("rules", [])
    if not isinstance(rules, list):
        raise MappingError(f"{where}: derive.rules must be an array of tables ([[derive.rules]])")
    out = []
    for number, rule in enumerate(rules, start=1):
        at = f"{where}: derive.rules #{number}"
        unknown = set(rule) - {"field", "column", "contains", "regex", "separator", "value"}
        if unknown:
            raise MappingError(f"{at} has unknown keys {sorted(unknown)}")
        missing = [k for k in ("field", "column", "value") if k not in rule]
        if missing:
            raise MappingError(f"{at} needs {', '.join(missing)}")
        if ("contains" in rule) == ("regex" in rule):
            raise MappingError(f"{at} needs exactly one of contains or regex")
        name = rule["field"]
        if name not in DERIVABLE:
            raise MappingError(f"{at}: field must be one of {', '.join(DERIVABLE)}")
        choices = FIELDS_BY_NAME[name].choices
        if rule["value"] not in choices:
            raise MappingError(f"{at}: value for {name} must be one of {', '.join(choices)}")
        contains = rule.get("contains", [])
        contains = [contains] if isinstance(contains, str) else contains
        out.append(
            DeriveRule(
                field=name,
                column=str(rule["column"]),
                value=str(rule["value"]),
                contains=tuple(str(c) for c in contains),
                regex=_regex(rule["regex"], at) if "regex" in rule else None,
                separator=str(rule["separator"]) if "separator" in rule else None,
            )
        )
    return tuple(out)


def _place_options(place: dict[str, Any], where: str) -> dict[str, Any]:
    """state, time_zone and level from a [place] table, checked."""
    out: dict[str, Any] = {}
    if "state" in place:
        try:
            out["state"] = require_state(str(place["state"]), f"{where}: place.state")
        except StateError as exc:
            raise MappingError(str(exc)) from None
    if "time_zone" in place:
        try:
            ZoneInfo(str(place["time_zone"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(
                f"{where}: place.time_zone {place['time_zone']!r} is not an IANA zone "
                "(e.g. America/New_York)"
            ) from None
        out["time_zone"] = str(place["time_zone"])
    if "level" in place:
        if place["level"] not in PLACE_LEVELS:
            raise MappingError(f"{where}: place.level must be one of {', '.join(PLACE_LEVELS)}")
        out["level"] = place["level"]
    for key in ("ori", "geoid"):
        if key in place:
            if not isinstance(place[key], str) or not place[key]:
                raise MappingError(f"{where}: place.{key} must name the column holding it")
            out[f"{key}_column"] = place[key]
    return out


PLACE_LEVELS = ("county", "city", "agency", "district")
_PLACE_KEYS = {
    "incidents": {"state", "time_zone", "level", "ori", "geoid"},
    "published_counts": {
        "state",
        "time_zone",
        "level",
        "ori",
        "geoid",
        "name",
        "parent",
        "parent_suffix",
        "kind",
        "path",
    },
}


def _checked_format(fmt: Any, where: str) -> str | None:
    """A strptime format, refused here when a directive is unknown rather than on every row."""
    if fmt is None:
        return None
    if not isinstance(fmt, str) or not fmt:
        raise MappingError(f"{where} must be a strptime format such as '%m/%d/%Y'")
    try:
        dt.datetime.strptime("\x00", fmt)
    except ValueError as exc:
        if "does not match format" not in str(exc):
            raise MappingError(f"{where}: {exc} (see Python's strptime directives)") from None
    return fmt


def _labels(document: dict[str, Any], where: str) -> dict[str, dict[str, str]]:
    """[labels] field = { CODE = "label", ... }: how codes stored as written read to people."""
    table = document.get("labels", {})
    if not isinstance(table, dict):
        raise MappingError(f'{where}: [labels] must be a table of field = {{ CODE = "label" }}')
    out = {}
    added = {VICTIM_FIELD_PREFIX + key for key in document.get("victim_fields", {})}
    for name, codes in table.items():
        if name not in CANONICAL_COLUMNS and name not in added:
            raise MappingError(f"{where}: labels.{name} is not a canonical field")
        if not isinstance(codes, dict) or not all(isinstance(v, str) for v in codes.values()):
            raise MappingError(f'{where}: labels.{name} must map codes to text, e.g. B = "Black"')
        out[name] = {str(code): label for code, label in codes.items()}
    return out


def _victim_fields(document: dict[str, Any], where: str) -> dict[str, ColumnRule]:
    """[victim_fields] key = "Column" (or a column rule): person fields the mapping adds."""
    table = document.get("victim_fields", {})
    if not isinstance(table, dict):
        raise MappingError(f'{where}: [victim_fields] must be a table of key = "Column"')
    out = {}
    for key, spec in table.items():
        if not _FIELD_KEY.fullmatch(key):
            raise MappingError(
                f"{where}: victim_fields.{key}: a key is lower-case letters, digits and _ "
                "(at most 40), starting with a letter, e.g. injury"
            )
        if VICTIM_FIELD_PREFIX + key in CANONICAL_COLUMNS:
            raise MappingError(
                f"{where}: victim_fields.{key} would be {VICTIM_FIELD_PREFIX}{key}, a canonical "
                "field: map it under [columns] instead"
            )
        if isinstance(spec, list):
            raise MappingError(f"{where}: victim_fields.{key}: give one column, not a list")
        out[key] = _rule(VICTIM_FIELD_PREFIX + key, spec, {}, f"{where}: victim_fields")
    return out


def parse_mapping(document: dict[str, Any], where: str) -> Mapping:
    """Build a Mapping from a parsed TOML document, checking every key."""
    meta = document.get("format")
    if not isinstance(meta, dict) or "name" not in meta:
        raise MappingError(f"{where}: needs a [format] table with a name")
    target = meta.get("target", "incidents")
    if target not in ("incidents", "published_counts"):
        raise MappingError(f"{where}: target must be 'incidents' or 'published_counts'")
    if len(str(meta.get("source", meta["name"]))) > SOURCE_MAX_LENGTH:
        raise MappingError(
            f"{where}: the source name is longer than {SOURCE_MAX_LENGTH} characters"
        )
    place = document.get("place", {})
    unknown = set(place) - _PLACE_KEYS[target]
    if unknown:
        raise MappingError(
            f"{where}: place has unknown keys {sorted(unknown)} "
            f"(valid: {', '.join(sorted(_PLACE_KEYS[target]))})"
        )
    coverage = document.get("coverage", {})
    unknown_coverage = set(coverage) - {"from", "through"}
    if unknown_coverage:
        raise MappingError(f"{where}: [coverage] has unknown keys {sorted(unknown_coverage)}")
    dates = {}
    for key in ("from", "through"):
        value = coverage.get(key)
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise MappingError(f"{where}: coverage.{key} must be a date, YYYY-MM-DD") from None
        if value is not None and not isinstance(value, dt.date):
            raise MappingError(f"{where}: coverage.{key} must be a date, YYYY-MM-DD")
        dates[key] = value
    common = {
        "covers_from": dates["from"],
        "covers_through": dates["through"],
        "name": str(meta["name"]),
        "title": str(meta.get("title", meta["name"])),
        "source": str(meta.get("source", meta["name"])),
        "attribution": str(meta.get("attribution", "")),
        "path": where,
        "filters": _filters(document, where),
        "labels": _labels(document, where),
        **_place_options(place, where),
    }
    if target == "published_counts":
        return _published(document, meta, place, common, where)
    conflicts = meta.get("conflicts", "error")
    if conflicts not in CONFLICT_POLICIES:
        raise MappingError(f"{where}: conflicts must be one of {', '.join(CONFLICT_POLICIES)}")
    defaults = {str(k): str(v) for k, v in document.get("defaults", {}).items()}
    columns = dict(document.get("columns", {}))
    implied = set()
    if meta.get("identity"):
        for name in CANONICAL_COLUMNS:
            if name not in columns:
                columns[name] = name
                implied.add(name)
    unknown = (set(columns) | set(defaults)) - set(CANONICAL_COLUMNS)
    if unknown:
        raise MappingError(
            f"{where}: {', '.join(sorted(unknown))} not canonical fields "
            f"(valid: {', '.join(CANONICAL_COLUMNS)})"
        )
    rules = {name: _rule(name, spec, defaults, where) for name, spec in columns.items()}
    for name in implied:
        rules[name] = replace(rules[name], optional=True)
    for name, value in defaults.items():
        rules.setdefault(name, ColumnRule(constant=value))
    derive = document.get("derive", {})
    derive_kind = derive.get("kind")
    if derive_kind not in (None, "outcome"):
        raise MappingError(f"{where}: derive.kind can only be 'outcome'")
    derive_rules = _derive_rules(derive, where)
    reader = str(meta.get("reader", "table"))
    if reader not in READERS:
        raise MappingError(f"{where}: reader must be one of {', '.join(READERS)}")
    if derive_kind is None and "kind" not in rules:
        raise MappingError(f"{where}: map a column to kind, or set derive.kind = 'outcome'")
    if derive_kind and "weapon" not in rules and all(r.field != "weapon" for r in derive_rules):
        raise MappingError(
            f"{where}: derive.kind = 'outcome' decides kind from who was killed or injured, "
            'so weapon must be mapped or defaulted too (e.g. [defaults] weapon = "firearm" '
            "for a file of shootings): otherwise every weapon is 'unknown' and shootings, "
            "shooting_incidents and firearm_homicides count 0"
        )
    if "source_id" not in rules or "occurred_at" not in rules:
        raise MappingError(f"{where}: source_id and occurred_at must be mapped")
    return Mapping(
        target=target,
        conflicts=conflicts,
        derive_kind=derive_kind,
        derive_rules=derive_rules,
        rules=rules,
        victim_fields=_victim_fields(document, where),
        reader=reader,
        **common,
    )


def _published(document, meta, place, common, where) -> Mapping:
    period = document.get("period", {})
    unpivot = None
    if "unpivot" in document:
        table = document["unpivot"]
        columns = table.get("columns")
        if not isinstance(columns, list) or not columns or "year" not in table:
            raise MappingError(
                f"{where}: unpivot needs columns (a list) and year (a regex whose first group "
                'is the year), e.g. columns = ["2015_murders", "2016_murders"], '
                'year = "^(\\d{4})"'
            )
        year = _regex(table["year"], f"{where}: unpivot.year")
        for column in columns:
            found = re.search(year, str(column))
            if not found or not found.groups() or not found.group(1).isdigit():
                raise MappingError(
                    f"{where}: unpivot.year {year!r} finds no year in column {column!r}"
                )
        unpivot = Unpivot(columns=tuple(str(c) for c in columns), year=year)
    series = []
    for number, item in enumerate(document.get("series", []), start=1):
        if "metric" not in item or ("column" not in item and unpivot is None):
            raise MappingError(
                f"{where}: series #{number} needs metric and column (or an [unpivot] table "
                "whose columns hold its values)"
            )
        series.append(
            Series(
                metric=item["metric"],
                column=item.get("column", ""),
                definition=item.get("definition", ""),
            )
        )
    has_place = "name" in place or "path" in place
    dated = "year" in period or "year_from" in period
    if not series or (not dated and unpivot is None) or not has_place:
        raise MappingError(
            f"{where}: published counts need [period] year (or [unpivot]), [place] name "
            "(or path) and at least one [[series]]"
        )
    path = place.get("path", [])
    if path and (not isinstance(path, list) or not all(template_columns(t) for t in path)):
        raise MappingError(
            f"{where}: place.path must be a list of templates naming columns, "
            'e.g. ["{state}", "{city}"]'
        )
    negative = meta.get("negative_counts", "error")
    if negative not in ("error", "skip"):
        raise MappingError(f"{where}: negative_counts must be 'error' or 'skip'")
    options = dict(common)
    options.setdefault("level", place.get("kind", "agency"))
    return Mapping(
        target="published_counts",
        year_column=period.get("year", ""),
        end_column=period.get("end", ""),
        end_format=period.get("end_format"),
        year_date_column=period.get("year_from", ""),
        year_date_format=_checked_format(period.get("year_format"), f"{where}: period.year_format"),
        place_column=place.get("name", ""),
        place_path=tuple(path),
        negative_counts=negative,
        parent_column=place.get("parent", ""),
        parent_suffix=place.get("parent_suffix", ""),
        place_kind=place.get("kind", "agency"),
        series=tuple(series),
        unpivot=unpivot,
        **options,
    )


def load_mapping(path: str | Path) -> Mapping:
    document = read_toml(path, MappingError, "mapping")
    return parse_mapping(document, str(path))


def available_formats() -> list[str]:
    folder = resources.files("gvrs.data") / "formats"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_format(name: str) -> Mapping:
    """The shipped format ``name``; an unknown name lists the valid ones."""
    if name not in available_formats():
        raise MappingError(
            f"unknown format {name!r}; valid formats: {', '.join(available_formats())} "
            "(or give your own with --mapping FILE.toml)"
        )
    resource = resources.files("gvrs.data") / "formats" / f"{name}.toml"
    return parse_mapping(tomllib.loads(resource.read_text(encoding="utf-8")), name)


def detect_format(columns: list[str]) -> Mapping:
    """The shipped format whose required columns the file has (the most specific one when
    several fit); a file no format fits raises MappingError naming the formats tried."""
    present = set(columns)
    fits = []
    for name in available_formats():
        mapping = load_format(name)
        if mapping.reader != "table":
            continue  # a NIBRS file is not a table of columns
        needed = set(mapping.source_columns_needed(jurisdiction_given=name != "gvrs"))
        if needed <= present:
            fits.append((len(needed), name, mapping))
    if not fits:
        raise MappingError(
            "no shipped format fits these columns; choose one of "
            f"{', '.join(available_formats())} or give your own mapping"
        )
    return max(fits, key=lambda fit: (fit[0], fit[1]))[2]
