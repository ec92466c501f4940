"""What shootings cost the police in time: officer-hours as a range from stated assumptions.

Fresno's police chief: "one shooting can tie up five to 12 officers for one to three hours …
imagine what 732 shootings will do to you in a year". Nobody measures those hours, so they are
never a single number here: the officers per shooting and the hours each are ranges the user
states (with where they come from), and the result is the range they imply, low end times low
end to high end times high end. Hours "freed" by a fall in shootings are the same arithmetic
on the difference: what the assumptions imply, not a saving anyone measured. An optional cost
per shooting comes from a table the user fills in and cites; gvrs ships no cost figures.

Pure functions: counts and assumptions in, frozen dataclasses out. Sentences for these results
are in ``gvrs.analysis.narrative``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class WorkloadError(ValueError):
    """Assumptions that cannot be used (a range that ends before it starts, a cost with no
    source); the message names the field."""


@dataclass(frozen=True)
class Range:
    """A closed range of a quantity nobody measured, e.g. 5 to 12 officers."""

    low: float
    high: float

    def __post_init__(self) -> None:
        # Stored as floats whatever was given (5 officers, 1.5 hours): one type to print.
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))
        if not (self.low >= 0 and self.high >= self.low):
            raise WorkloadError(f"a range needs 0 <= low <= high, got {self.low}..{self.high}")

    def times(self, other: Range | float) -> Range:
        """Both ends multiplied: the product of two non-negative ranges is their ends'
        products (the lowest with the lowest, the highest with the highest)."""
        if isinstance(other, Range):
            return Range(self.low * other.low, self.high * other.high)
        if other < 0:
            raise WorkloadError(f"cannot scale a range by a negative number ({other})")
        return Range(self.low * other, self.high * other)


# Fresno's police chief on Fresno's shootings, as quoted in local news (issue 15's seed).
FRESNO_CHIEF = (
    "Fresno's police chief: one shooting can tie up five to 12 officers for one to three hours"
)


@dataclass(frozen=True)
class WorkloadAssumptions:
    """Officers sent to one shooting and the hours each spends on it, and who said so."""

    officers: Range = Range(5, 12)
    hours: Range = Range(1, 3)
    source: str = FRESNO_CHIEF

    @classmethod
    def from_mapping(cls, table: Mapping) -> WorkloadAssumptions:
        """From a parsed TOML ``[workload]`` table: ``officers = [5, 12]``, ``hours = [1, 3]``,
        ``source = "..."``; a key left out keeps its default (Fresno's chief)."""
        unknown = set(table) - {"officers", "hours", "source"}
        if unknown:
            raise WorkloadError(
                f"[workload]: unknown keys {sorted(unknown)}; valid: officers, hours, source"
            )
        values = {}
        for key in ("officers", "hours"):
            if key in table:
                values[key] = _range(table[key], f"[workload] {key}")
        if "source" in table:
            source = str(table["source"]).strip()
            if not source:
                raise WorkloadError("[workload] source: say where the figures come from")
            values["source"] = source
        elif values:
            raise WorkloadError("[workload] source: give the source of your own officers and hours")
        return cls(**values)


def _range(value, where: str) -> Range:
    """``[low, high]`` or a single number (low = high)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = [value, value]
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise WorkloadError(f"{where}: give [low, high] as two numbers, got {value!r}")
    try:
        return Range(float(value[0]), float(value[1]))
    except WorkloadError as exc:
        raise WorkloadError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class OfficerHours:
    """Officer-hours tied up by ``shootings`` shootings in ``period``: a range."""

    period: str
    shootings: int
    assumptions: WorkloadAssumptions
    hours: Range  # officer-hours, low to high


def officer_hours(
    shootings: int, period: str, assumptions: WorkloadAssumptions | None = None
) -> OfficerHours:
    """Officer-hours tied up by ``shootings``: shootings x officers x hours, each end.

    Parameters
    ----------
    shootings : int
        Shootings counted in ``period`` (0 or more).
    period : str
        Its label, e.g. "2020".
    assumptions : WorkloadAssumptions
        Officers per shooting and hours each, as ranges; default Fresno's chief (5-12
        officers, 1-3 hours).

    Returns
    -------
    OfficerHours
        ``hours.low`` = shootings x fewest officers x shortest time; ``hours.high`` the
        other end.

    Notes
    -----
    Interval arithmetic on non-negative ranges (Moore 1966): the product's ends are the
    ends' products. The two ranges are not independent guesses averaged away: every value
    in the result is one a reader who accepts the assumptions must accept.

    Examples
    --------
    >>> h = officer_hours(732, "2020")
    >>> h.hours.low, h.hours.high
    (3660.0, 26352.0)
    """
    if shootings < 0:
        raise WorkloadError(f"shootings must be 0 or more, got {shootings}")
    assumptions = assumptions or WorkloadAssumptions()
    per_shooting = assumptions.officers.times(assumptions.hours)
    return OfficerHours(period, int(shootings), assumptions, per_shooting.times(shootings))


@dataclass(frozen=True)
class HoursFreed:
    """The officer-hours the assumptions imply a change in shootings freed (``fewer`` > 0)
    or added (``fewer`` < 0): arithmetic on assumptions, never a measured saving."""

    before: OfficerHours
    after: OfficerHours
    fewer: int  # shootings in ``before`` minus those in ``after``
    hours: Range  # officer-hours, for abs(fewer) shootings


def hours_freed(before: OfficerHours, after: OfficerHours) -> HoursFreed:
    """Officer-hours freed between two periods by the fall in shootings.

    Examples
    --------
    >>> freed = hours_freed(officer_hours(732, "2020"), officer_hours(344, "2023"))
    >>> freed.fewer, freed.hours.low, freed.hours.high
    (388, 1940.0, 13968.0)
    """
    if before.assumptions != after.assumptions:
        raise WorkloadError("the two periods must be costed on the same assumptions")
    fewer = before.shootings - after.shootings
    per_shooting = before.assumptions.officers.times(before.assumptions.hours)
    return HoursFreed(before, after, fewer, per_shooting.times(abs(fewer)))


@dataclass(frozen=True)
class CostPerShooting:
    """One line of a user's cost table: what one shooting costs someone, and who says so."""

    label: str  # e.g. "police response", "hospital care"
    cost: Range  # per shooting, in ``currency`` of ``price_year``
    source: str
    currency: str = "USD"
    price_year: int | None = None


def cost_table_from_mapping(rows: list[Mapping]) -> tuple[CostPerShooting, ...]:
    """From parsed TOML ``[[cost]]`` tables: ``label``, ``per_shooting = [low, high]`` (or one
    number), ``source`` (required: gvrs ships no cost figure), optional ``currency`` and
    ``price_year``."""
    out = []
    for i, row in enumerate(rows, start=1):
        where = f"[[cost]] number {i}"
        unknown = set(row) - {"label", "per_shooting", "source", "currency", "price_year"}
        if unknown:
            raise WorkloadError(
                f"{where}: unknown keys {sorted(unknown)}; "
                "valid: label, per_shooting, source, currency, price_year"
            )
        for key in ("label", "per_shooting", "source"):
            if key not in row or (isinstance(row[key], str) and not row[key].strip()):
                raise WorkloadError(f"{where}: {key} is required")
        year = row.get("price_year")
        if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
            raise WorkloadError(f"{where}: price_year must be a year, got {year!r}")
        out.append(
            CostPerShooting(
                label=str(row["label"]).strip(),
                cost=_range(row["per_shooting"], f"{where} per_shooting"),
                source=str(row["source"]).strip(),
                currency=str(row.get("currency", "USD")).strip() or "USD",
                price_year=year,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class ShootingCost:
    """One cost line applied to a count of shootings (or to the fall between two periods)."""

    item: CostPerShooting
    shootings: int
    total: Range


def shooting_costs(shootings: int, table: tuple[CostPerShooting, ...]) -> list[ShootingCost]:
    """Each cost line times ``shootings`` (use the fall between two periods for a cost
    avoided; the sentence says which).

    Examples
    --------
    >>> line = CostPerShooting("police response", Range(1000, 2000), "city budget office")
    >>> [c.total.high for c in shooting_costs(344, (line,))]
    [688000.0]
    """
    if shootings < 0:
        raise WorkloadError(f"shootings must be 0 or more, got {shootings}")
    return [ShootingCost(item, shootings, item.cost.times(shootings)) for item in table]
