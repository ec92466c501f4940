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
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from gvrs.data.errors import FileError
from gvrs.data.schema import CANONICAL_COLUMNS, FIELDS_BY_NAME, SOURCE_MAX_LENGTH
from gvrs.data.tomlfiles import read_toml

CONFLICT_POLICIES = ("error", "earliest")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ColumnRule:
    """How one canonical field is filled from the source columns."""

    columns: tuple[str, ...] = ()
    constant: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    other: str | None = None
    default: str | None = None
    format: str | None = None

    def apply(self, frame: pd.DataFrame) -> pd.Series:
        if self.constant is not None:
            return pd.Series(self.constant, index=frame.index, dtype="str")
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
    # [coverage] from/through: the period the source's files cover, when the source says so
    # (otherwise each import proposes the file's own dates, strays left out).
    covers_from: dt.date | None = None
    covers_through: dt.date | None = None

    @property
    def datetime_formats(self) -> dict[str, str]:
        return {name: rule.format for name, rule in self.rules.items() if rule.format}

    def source_columns_needed(self, jurisdiction_given: bool) -> list[str]:
        """Source columns without which no row could be valid."""
        if self.target == "published_counts":
            needed = [self.year_column, self.place_column]
            needed += [self.parent_column] if self.parent_column else []
            return needed + [s.column for s in self.series]
        needed: list[str] = []
        for name in CANONICAL_COLUMNS:
            spec = FIELDS_BY_NAME[name]
            rule = self.rules.get(name)
            if not spec.required or rule is None or rule.constant is not None:
                continue
            if rule.default is not None or (name == "jurisdiction" and jurisdiction_given):
                continue
            needed.extend(rule.columns)
        return needed

    def check_columns(self, columns: list[str], file_name: str, jurisdiction_given: bool) -> None:
        present = set(columns)
        missing = [c for c in self.source_columns_needed(jurisdiction_given) if c not in present]
        if missing:
            raise FileError(
                file_name,
                f"missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} for format {self.name!r} "
                f"(the file has: {', '.join(columns) or 'no columns'})",
                line=1,
            )

    def apply(self, frame: pd.DataFrame, jurisdiction: str | None = None) -> pd.DataFrame:
        """Canonical string columns for every row of ``frame`` (absent fields are "")."""
        out = {}
        for name in CANONICAL_COLUMNS:
            rule = self.rules.get(name)
            if rule is not None and (rule.constant is not None or rule.columns[0] in frame):
                out[name] = rule.apply(frame)
            else:
                default = rule.default if rule is not None else None
                out[name] = pd.Series(default or "", index=frame.index, dtype="str")
        result = pd.DataFrame(out, index=frame.index)
        if jurisdiction:
            result["jurisdiction"] = result["jurisdiction"].where(
                result["jurisdiction"] != "", jurisdiction
            )
        return result


def _rule(name: str, spec: Any, defaults: dict[str, str], where: str) -> ColumnRule:
    default = defaults.get(name)  # schema defaults are applied by validation
    if isinstance(spec, str):
        return ColumnRule(columns=(spec,), default=default)
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: columns.{name} must be a column name or a table")
    unknown = set(spec) - {"column", "columns", "value", "values", "other", "default", "format"}
    if unknown:
        raise MappingError(f"{where}: columns.{name} has unknown keys {sorted(unknown)}")
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
    )


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


def parse_mapping(document: dict[str, Any], where: str) -> Mapping:
    """Build a Mapping from a parsed TOML document, checking every key."""
    meta = document.get("format")
    if not isinstance(meta, dict) or "name" not in meta:
        raise MappingError(f"{where}: needs a [format] table with a name")
    target = meta.get("target", "incidents")
    if len(str(meta.get("source", meta["name"]))) > SOURCE_MAX_LENGTH:
        raise MappingError(
            f"{where}: the source name is longer than {SOURCE_MAX_LENGTH} characters"
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
    }
    if target == "published_counts":
        place = document.get("place", {})
        series = tuple(
            Series(metric=s["metric"], column=s["column"], definition=s.get("definition", ""))
            for s in document.get("series", [])
        )
        if not series or "year" not in document.get("period", {}) or "name" not in place:
            raise MappingError(
                f"{where}: published counts need [period] year, [place] name "
                "and at least one [[series]]"
            )
        negative = meta.get("negative_counts", "error")
        if negative not in ("error", "skip"):
            raise MappingError(f"{where}: negative_counts must be 'error' or 'skip'")
        return Mapping(
            target=target,
            year_column=document["period"]["year"],
            place_column=place["name"],
            negative_counts=negative,
            parent_column=place.get("parent", ""),
            parent_suffix=place.get("parent_suffix", ""),
            place_kind=place.get("kind", "agency"),
            series=series,
            **common,
        )
    if target != "incidents":
        raise MappingError(f"{where}: target must be 'incidents' or 'published_counts'")
    conflicts = meta.get("conflicts", "error")
    if conflicts not in CONFLICT_POLICIES:
        raise MappingError(f"{where}: conflicts must be one of {', '.join(CONFLICT_POLICIES)}")
    defaults = {str(k): str(v) for k, v in document.get("defaults", {}).items()}
    columns = dict(document.get("columns", {}))
    if meta.get("identity"):
        for name in CANONICAL_COLUMNS:
            columns.setdefault(name, name)
    unknown = (set(columns) | set(defaults)) - set(CANONICAL_COLUMNS)
    if unknown:
        raise MappingError(
            f"{where}: {', '.join(sorted(unknown))} not canonical fields "
            f"(valid: {', '.join(CANONICAL_COLUMNS)})"
        )
    rules = {name: _rule(name, spec, defaults, where) for name, spec in columns.items()}
    for name, value in defaults.items():
        rules.setdefault(name, ColumnRule(constant=value))
    derive_kind = document.get("derive", {}).get("kind")
    if derive_kind not in (None, "outcome"):
        raise MappingError(f"{where}: derive.kind can only be 'outcome'")
    if derive_kind is None and "kind" not in rules:
        raise MappingError(f"{where}: map a column to kind, or set derive.kind = 'outcome'")
    if "source_id" not in rules or "occurred_at" not in rules:
        raise MappingError(f"{where}: source_id and occurred_at must be mapped")
    return Mapping(
        target=target, conflicts=conflicts, derive_kind=derive_kind, rules=rules, **common
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
        needed = set(mapping.source_columns_needed(jurisdiction_given=name != "gvrs"))
        if needed <= present:
            fits.append((len(needed), name, mapping))
    if not fits:
        raise MappingError(
            "no shipped format fits these columns; choose one of "
            f"{', '.join(available_formats())} or give your own mapping"
        )
    return max(fits, key=lambda fit: (fit[0], fit[1]))[2]
