"""Files an evaluation reads besides the registry: an outcome panel (a figure per place and
period that is not a count of incidents, such as cigarette packs sold per person or
homicides per 100,000), the predictors of a synthetic control, and the dates strategies
began (adoptions).

Every file is read as text by ``gvrs.data.readers`` (CSV, gzip, XLSX, Parquet; delimiter
detected), and every bad cell is reported with its file, line, column and reason, all of
them at once. A panel is read either as it is (columns ``place, period, value`` or ``place,
period, count``, optionally ``population``) or through a small TOML panel mapping that names
the columns of a wide file and the predictors' averaging windows::

    [panel]
    name = "prop99"
    place = "state"          # the column naming each row's place
    period = "year"          # integer years, YYYY-MM or YYYY-MM-DD (first of the month)
    outcome = "cigsale"      # the figure evaluated
    values = "levels"        # "counts" (events: modelled with their populations) or
                             # "levels" (already per person, compared as they are)
    population = "popwt"     # optional: residents (an offset for counts, a weight for levels)
    treated = "post"         # optional: a place's start is its first period with post > 0
    label = "cigarette packs sold per person"

    [[predictors]]
    name = "log income per person, 1980-88"
    column = "lnincome"
    from = 1980              # the mean over these periods, inclusive
    to = 1988
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gvrs.data.errors import FileError
from gvrs.data.readers import open_table
from gvrs.data.tomlfiles import read_toml

MAX_SHOWN = 20
_YEAR = re.compile(r"^\d{4}(\.0+)?$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


class PanelError(ValueError):
    """A panel, predictors or adoptions file (or panel mapping) that cannot be used; the
    message names the file and, for a bad cell, every line, column and reason."""


@dataclass(frozen=True)
class PredictorSpec:
    """One predictor of a panel mapping: the mean of ``column`` over periods first..last."""

    name: str
    column: str
    first: int | dt.date
    last: int | dt.date


@dataclass(frozen=True)
class PanelMapping:
    name: str
    place: str
    period: str
    outcome: str
    values: str = "levels"
    population: str = ""
    treated: str = ""
    label: str = ""
    predictors: tuple[PredictorSpec, ...] = ()


@dataclass(frozen=True)
class Panel:
    """A panel read from a file: ``values`` (periods x places; integer years or month
    starts), ``populations`` of the same shape or None, ``kind`` ("counts" or "levels"),
    the ``predictors`` the mapping asks for (a row per predictor, a column per place) and
    the ``adoptions`` its treated column gives (place -> first period treated)."""

    source: str
    label: str
    kind: str
    values: pd.DataFrame
    populations: pd.DataFrame | None
    predictors: pd.DataFrame | None
    adoptions: dict[str, dt.date]


def load_panel_mapping(path: str | Path) -> PanelMapping:
    """The [panel] table and [[predictors]] of a panel mapping, every key checked."""
    where = str(path)
    document = read_toml(path, PanelError, "panel mapping")
    table = document.get("panel")
    if not isinstance(table, dict):
        raise PanelError(f"{where}: needs a [panel] table naming place, period and outcome")
    known = {"name", "place", "period", "outcome", "values", "population", "treated", "label"}
    unknown = set(table) - known
    if unknown:
        raise PanelError(
            f"{where}: panel has unknown keys {sorted(unknown)} (valid: {', '.join(sorted(known))})"
        )
    for key in ("place", "period", "outcome"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise PanelError(f"{where}: panel.{key} must name a column")
    values = table.get("values", "levels")
    if values not in ("counts", "levels"):
        raise PanelError(f"{where}: panel.values must be 'counts' or 'levels'")
    specs = []
    for number, item in enumerate(document.get("predictors", []), start=1):
        if not isinstance(item, dict) or set(item) - {"name", "column", "from", "to"}:
            raise PanelError(
                f"{where}: predictors #{number} takes name, column, from and to "
                '(e.g. name = "beer, 1984-88", column = "beer", from = 1984, to = 1988)'
            )
        if not isinstance(item.get("column"), str) or "from" not in item or "to" not in item:
            raise PanelError(f"{where}: predictors #{number} needs column, from and to")
        first = _period_key(item["from"], f"{where}: predictors #{number}.from")
        last = _period_key(item["to"], f"{where}: predictors #{number}.to")
        if type(first) is not type(last) or last < first:
            raise PanelError(f"{where}: predictors #{number}: to comes before from")
        specs.append(
            PredictorSpec(str(item.get("name", item["column"])), item["column"], first, last)
        )
    names = [s.name for s in specs]
    if len(set(names)) < len(names):
        raise PanelError(f"{where}: two predictors share a name; give each its own name")
    return PanelMapping(
        name=str(table.get("name", Path(path).stem)),
        place=table["place"],
        period=table["period"],
        outcome=table["outcome"],
        values=values,
        population=str(table.get("population", "")),
        treated=str(table.get("treated", "")),
        label=str(table.get("label", table["outcome"])),
        predictors=tuple(specs),
    )


def _period_key(value: Any, where: str) -> int | dt.date:
    if isinstance(value, int) and 1000 <= value <= 9999:
        return value
    if isinstance(value, dt.date):
        return value.replace(day=1)
    parsed = _period(str(value))
    if parsed is None:
        raise PanelError(f"{where} must be a year (1980) or a month (1980-01)")
    return parsed


def _period(text: str) -> int | dt.date | None:
    """2019 (or 2019.0) -> 2019; 2019-05 or 2019-05-01 -> date(2019, 5, 1); else None."""
    text = text.strip()
    if _YEAR.match(text):
        return int(text[:4])
    found = _MONTH.match(text)
    if found:
        year, month, day = int(found[1]), int(found[2]), int(found[3] or 1)
        if 1 <= month <= 12 and day == 1:
            return dt.date(year, month, 1)
    return None


def _read_all(path: Path) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Every row of a (small) table as text, with its file line numbers."""
    try:
        table = open_table(path)
        chunks = list(table.chunks())
    except FileError as exc:
        raise PanelError(str(exc)) from None
    if not chunks:
        raise PanelError(f"{path.name}: the file has a header but no rows")
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    lines = np.concatenate([c.lines for c in chunks])
    return frame, lines, path.name


def _require(frame: pd.DataFrame, columns: list[str], name: str, what: str) -> None:
    missing = [c for c in columns if c and c not in frame.columns]
    if missing:
        raise PanelError(
            f"{name}: line 1: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} for {what} (the file has: {', '.join(frame.columns)})"
        )


def _raise(problems: list[str], name: str) -> None:
    if problems:
        shown = problems[:MAX_SHOWN]
        more = len(problems) - len(shown)
        raise PanelError(
            f"{name}: {len(problems)} invalid value{'s' if len(problems) > 1 else ''}; "
            "nothing was read:\n" + "\n".join(shown) + (f"\n... and {more} more" if more else "")
        )


def _numbers(
    frame, lines, column, name, problems, *, whole=False, positive=False, blank_ok=True
) -> np.ndarray:
    """The column as floats (NaN where empty and allowed), each bad cell a problem."""
    text = frame[column].astype(str).str.strip()
    values = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero((text != "").to_numpy() & ~np.isfinite(values)):
        problems.append(f"{name}: line {lines[i]}: {column}={text.iat[i]!r}: not a number")
    if not blank_ok:
        for i in np.flatnonzero((text == "").to_numpy()):
            problems.append(f"{name}: line {lines[i]}: {column}='': empty")
    finite = np.isfinite(values)
    if whole:
        bad = finite & ((values < 0) | (values != np.round(values)))
        for i in np.flatnonzero(bad):
            problems.append(
                f"{name}: line {lines[i]}: {column}={text.iat[i]!r}: a count must be a whole "
                "number, 0 or more"
            )
    if positive:
        for i in np.flatnonzero(finite & (values <= 0)):
            problems.append(f"{name}: line {lines[i]}: {column}={text.iat[i]!r}: must be above 0")
    return values


def _periods(frame, lines, column, name, problems) -> list:
    out = []
    kinds = set()
    for i, text in enumerate(frame[column].astype(str)):
        parsed = _period(text)
        if parsed is None:
            problems.append(
                f"{name}: line {lines[i]}: {column}={text.strip()!r}: not a year (2019) or the "
                "first day of a month (2019-05 or 2019-05-01)"
            )
        else:
            kinds.add(type(parsed))
        out.append(parsed)
    if len(kinds) > 1:
        problems.append(f"{name}: {column} mixes years and months; use one or the other")
    return out


def read_panel(path: str | Path, mapping: PanelMapping | None = None) -> Panel:
    """A panel file: ``place, period, value`` (levels) or ``place, period, count`` (counts),
    optionally ``population``; or any table through a panel mapping.

    Each (place, period) appears once; an empty figure is a gap (unknown, not 0)."""
    path = Path(path)
    frame, lines, name = _read_all(path)
    if mapping is None:
        value = "count" if "count" in frame.columns else "value"
        mapping = PanelMapping(
            name=path.name,
            place="place",
            period="period",
            outcome=value,
            values="counts" if value == "count" else "levels",
            population="population" if "population" in frame.columns else "",
        )
        _require(frame, ["place", "period"], name, "a panel (place, period, value or count)")
        if value not in frame.columns:
            raise PanelError(
                f"{name}: line 1: a panel needs a value column (levels, such as a rate) or a "
                f"count column (events) (the file has: {', '.join(frame.columns)})"
            )
    columns = [mapping.place, mapping.period, mapping.outcome, mapping.population, mapping.treated]
    _require(frame, columns + [s.column for s in mapping.predictors], name, "its panel mapping")
    problems: list[str] = []
    places = frame[mapping.place].astype(str).str.strip()
    for i in np.flatnonzero((places == "").to_numpy()):
        problems.append(f"{name}: line {lines[i]}: {mapping.place}='': names no place")
    periods = _periods(frame, lines, mapping.period, name, problems)
    counts = mapping.values == "counts"
    outcome = _numbers(frame, lines, mapping.outcome, name, problems, whole=counts)
    population = (
        _numbers(frame, lines, mapping.population, name, problems, positive=True)
        if mapping.population
        else None
    )
    treated = _numbers(frame, lines, mapping.treated, name, problems) if mapping.treated else None
    key = pd.Series(list(zip(places, periods, strict=True)))
    for i in np.flatnonzero(key.duplicated().to_numpy()):
        first = lines[int(np.flatnonzero((key == key.iat[i]).to_numpy())[0])]
        problems.append(
            f"{name}: line {lines[i]}: {mapping.place}={places.iat[i]!r}, "
            f"{mapping.period}={frame[mapping.period].iat[i].strip()!r}: a second row for this "
            f"place and period (the first is line {first})"
        )
    _raise(problems, name)
    index = pd.Index(periods)
    long = pd.DataFrame({"place": places.to_numpy(), "period": periods, "value": outcome})
    values = _wide(long, "value")
    populations = None
    if population is not None:
        long["population"] = population
        populations = _wide(long, "population")
        if populations.isna().any().any():
            populations = None
    adoptions: dict[str, dt.date] = {}
    if treated is not None:
        long["treated"] = treated
        for place, rows in long[long["treated"] > 0].groupby("place"):
            adoptions[str(place)] = _start(min(rows["period"]))
    predictors = None
    if mapping.predictors:
        rows = {}
        for spec in mapping.predictors:
            column = _numbers(frame, lines, spec.column, name, problems)
            inside = np.array([_within(p, spec.first, spec.last) for p in index], dtype=bool)
            part = pd.DataFrame({"place": places.to_numpy(), "v": column})[inside]
            rows[spec.name] = part.groupby("place")["v"].mean()
        _raise(problems, name)
        predictors = pd.DataFrame(rows).T.reindex(columns=values.columns)
    return Panel(
        source=mapping.name,
        label=mapping.label or mapping.outcome,
        kind=mapping.values,
        values=values,
        populations=populations,
        predictors=predictors,
        adoptions=adoptions,
    )


def _within(period, first, last) -> bool:
    if type(period) is not type(first):
        return False
    return first <= period <= last


def _start(period) -> dt.date:
    return dt.date(period, 1, 1) if isinstance(period, int) else period


def _wide(long: pd.DataFrame, column: str) -> pd.DataFrame:
    table = long.pivot(index="period", columns="place", values=column).sort_index()
    if table.index.map(type).isin([int]).all():
        table.index = table.index.astype("int64")
        full = pd.RangeIndex(int(table.index.min()), int(table.index.max()) + 1)
        table = table.reindex(full)
    else:
        table.index = pd.DatetimeIndex(table.index)
        table = table.reindex(pd.date_range(table.index.min(), table.index.max(), freq="MS"))
    table.columns = [str(c) for c in table.columns]
    return table.astype(float)


def read_predictors(path: str | Path, before: dt.date | None = None) -> pd.DataFrame:
    """A predictors file: ``place, name, value``, optionally ``period``. Each predictor is
    the mean of its rows for a place (give one row for a fixed value, or the rows of the
    window to average: the paper's mean income over 1980-88 is nine rows). Rows dated on or
    after ``before`` are refused: a predictor measured after the start would carry the
    effect into the match. Returns a row per predictor name, a column per place."""
    path = Path(path)
    frame, lines, name = _read_all(path)
    _require(frame, ["place", "name", "value"], name, "predictors (place, name, value)")
    problems: list[str] = []
    places = frame["place"].astype(str).str.strip()
    names = frame["name"].astype(str).str.strip()
    for column, text in (("place", places), ("name", names)):
        for i in np.flatnonzero((text == "").to_numpy()):
            problems.append(f"{name}: line {lines[i]}: {column}='': empty")
    values = _numbers(frame, lines, "value", name, problems, blank_ok=False)
    if "period" in frame.columns and before is not None:
        periods = _periods(frame, lines, "period", name, problems)
        for i, period in enumerate(periods):
            if period is not None and _start(period) >= before:
                problems.append(
                    f"{name}: line {lines[i]}: period={frame['period'].iat[i].strip()!r}: "
                    f"after the start ({before}); predictors are measured before it"
                )
    _raise(problems, name)
    long = pd.DataFrame({"place": places, "name": names, "value": values})
    table = long.groupby(["name", "place"], sort=False)["value"].mean().unstack("place")
    table.columns = [str(c) for c in table.columns]
    return table


def read_adoptions(path: str | Path) -> dict[str, dt.date]:
    """An adoptions file: ``place, start`` (YYYY-MM-DD, or a year for 1 January), one row
    per place whose strategy (or law) began; places not listed never adopted."""
    path = Path(path)
    frame, lines, name = _read_all(path)
    _require(frame, ["place", "start"], name, "adoptions (place, start)")
    problems: list[str] = []
    out: dict[str, dt.date] = {}
    seen: dict[str, int] = {}
    for i in range(len(frame)):
        place = str(frame["place"].iat[i]).strip()
        text = str(frame["start"].iat[i]).strip()
        if not place:
            problems.append(f"{name}: line {lines[i]}: place='': empty")
            continue
        start = _date(text)
        if start is None:
            problems.append(
                f"{name}: line {lines[i]}: start={text!r}: not a date (YYYY-MM-DD) or a year"
            )
            continue
        if place in seen:
            problems.append(
                f"{name}: line {lines[i]}: place={place!r}: listed twice (first on line "
                f"{seen[place]}); give each place its first start"
            )
            continue
        seen[place] = int(lines[i])
        out[place] = start
    _raise(problems, name)
    if not out:
        raise PanelError(f"{name}: names no place")
    return out


def _date(text: str) -> dt.date | None:
    if _YEAR.match(text):
        return dt.date(int(text[:4]), 1, 1)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


__all__ = [
    "Panel",
    "PanelError",
    "PanelMapping",
    "PredictorSpec",
    "load_panel_mapping",
    "read_adoptions",
    "read_panel",
    "read_predictors",
]
