"""Periods a strategy is reported by: years, quarters, months, ISO weeks, year-to-date
windows, rolling twelve months, custom ranges and baselines.

A ``Period`` is a closed date range with a label. Period strings, as the CLI takes them::

    2022            the calendar year
    2022-Q3         a quarter
    2022-07         a month
    2022-W05        an ISO week (Monday to Sunday)
    2024-YTD        1 January to the as-of date's month and day, in 2024
    R12             the twelve months ending on the as-of date
    2021..2023      whole years 2021 to 2023
    2022-01-01..2022-06-30   any range of days
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

FREQUENCIES = ("year", "quarter", "month", "week")


def day_month(day: dt.date) -> str:
    """ "6 Dec": the house style's day and month (no leading zero, on every platform)."""
    return f"{day.day} {day:%b}"


def day_month_year(day: dt.date) -> str:
    """ "6 Dec 2026": how a page writes a date (docs/architecture.md, house style)."""
    return f"{day.day} {day:%b %Y}"


class PeriodError(ValueError):
    """A period string that cannot be read; the message lists the accepted forms."""


PERIOD_FORMS = "2022, 2022-Q3, 2022-07, 2022-W05, 2024-YTD, R12, 2021..2023, 2022-01-01..2022-06-30"


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def words(self) -> str:
        """The period as a page says it: "1 Jan–6 Dec 2025" for a year to date (whose label,
        "2025-YTD", is what a command line and a JSON key say), the label otherwise."""
        if re.fullmatch(r"\d{4}-YTD", self.label):
            return f"{day_month(self.start)}–{day_month(self.end)} {self.end.year}"
        return self.label

    @property
    def is_whole_years(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31)


def year(y: int) -> Period:
    return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), str(y))


def years(first: int, last: int) -> Period:
    if last < first:
        raise PeriodError(f"{first}..{last} ends before it starts")
    return Period(dt.date(first, 1, 1), dt.date(last, 12, 31), f"{first}..{last}")


def quarter(y: int, q: int) -> Period:
    if not 1 <= q <= 4:
        raise PeriodError(f"quarter {q} does not exist (1 to 4)")
    start = dt.date(y, 3 * q - 2, 1)
    end = dt.date(y + 1, 1, 1) if q == 4 else dt.date(y, 3 * q + 1, 1)
    return Period(start, end - dt.timedelta(days=1), f"{y}-Q{q}")


def month(y: int, m: int) -> Period:
    if not 1 <= m <= 12:
        raise PeriodError(f"month {m} does not exist (1 to 12)")
    end = dt.date(y + 1, 1, 1) if m == 12 else dt.date(y, m + 1, 1)
    return Period(dt.date(y, m, 1), end - dt.timedelta(days=1), f"{y}-{m:02d}")


def iso_week(y: int, w: int) -> Period:
    try:
        start = dt.date.fromisocalendar(y, w, 1)
    except ValueError:
        raise PeriodError(f"{y} has no ISO week {w}") from None
    return Period(start, start + dt.timedelta(days=6), f"{y}-W{w:02d}")


def same_day_in(y: int, day: dt.date) -> dt.date:
    """``day``'s month and day in year ``y``; 29 February becomes 28 February."""
    if (day.month, day.day) == (2, 29):
        try:
            return dt.date(y, 2, 29)
        except ValueError:
            return dt.date(y, 2, 28)
    return day.replace(year=y)


def year_to_date(as_of: dt.date, y: int | None = None) -> Period:
    """1 January to the as-of month and day, in ``y`` (default: the as-of year).

    The same window last year ends on the same month and day, so the two windows have the
    same length except across 29 February.
    """
    y = as_of.year if y is None else y
    return Period(dt.date(y, 1, 1), same_day_in(y, as_of), f"{y}-YTD")


def rolling_12_months(as_of: dt.date) -> Period:
    start = same_day_in(as_of.year - 1, as_of) + dt.timedelta(days=1)
    return Period(start, as_of, f"12 months to {as_of.isoformat()}")


def same_window_last_year(period: Period) -> Period:
    """The window a year earlier, labelled like the original (2024-YTD -> 2023-YTD)."""
    start = same_day_in(period.start.year - 1, period.start)
    end = same_day_in(period.end.year - 1, period.end)
    label = re.sub(r"\d{4}", lambda m: str(int(m.group()) - 1), period.label, count=2)
    return Period(start, end, label)


def previous(period: Period) -> Period:
    """The period of the same kind just before: 2022 -> 2021, 2022-Q1 -> 2021-Q4, a range of
    N days -> the N days before it."""
    label = period.label
    if m := re.fullmatch(r"(\d{4})", label):
        return year(int(m[1]) - 1)
    if m := re.fullmatch(r"(\d{4})-Q(\d)", label):
        y, q = int(m[1]), int(m[2])
        return quarter(y - 1, 4) if q == 1 else quarter(y, q - 1)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        y, mo = int(m[1]), int(m[2])
        return month(y - 1, 12) if mo == 1 else month(y, mo - 1)
    if re.fullmatch(r"\d{4}-W\d{2}", label):
        start = period.start - dt.timedelta(days=7)
        iso = start.isocalendar()
        return iso_week(iso.year, iso.week)
    if period.label.endswith("-YTD"):
        return same_window_last_year(period)
    end = period.start - dt.timedelta(days=1)
    start = end - dt.timedelta(days=period.days - 1)
    return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")


def parse_period(text: str, as_of: dt.date | None = None) -> Period:
    """Read a period string (see the module docstring); ``as_of`` anchors YTD and R12."""
    text = text.strip()
    as_of = as_of or dt.date.today()
    try:
        if m := re.fullmatch(r"(\d{4})", text):
            return year(int(m[1]))
        if m := re.fullmatch(r"(\d{4})-[Qq](\d)", text):
            return quarter(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            return month(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-[Ww](\d{1,2})", text):
            return iso_week(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-YTD", text, flags=re.IGNORECASE):
            return year_to_date(as_of, int(m[1]))
        if text.upper() in ("R12", "ROLLING-12"):
            return rolling_12_months(as_of)
        if m := re.fullmatch(r"(\d{4})\.\.(\d{4})", text):
            return years(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
            start, end = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
            if end < start:
                raise PeriodError(f"{text} ends before it starts")
            return Period(start, end, text)
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"{text!r} is not a valid period ({exc})") from None
    raise PeriodError(f"{text!r} is not a period; use one of: {PERIOD_FORMS}")


def periods_between(start: dt.date, end: dt.date, freq: str) -> list[Period]:
    """Every period of ``freq`` overlapping [start, end], in order (none missing)."""
    if freq not in FREQUENCIES:
        raise PeriodError(f"unknown frequency {freq!r}; valid: {', '.join(FREQUENCIES)}")
    out: list[Period] = []
    if freq == "year":
        return [year(y) for y in range(start.year, end.year + 1)]
    if freq == "quarter":
        y, q = start.year, (start.month - 1) // 3 + 1
        while (p := quarter(y, q)).start <= end:
            out.append(p)
            y, q = (y + 1, 1) if q == 4 else (y, q + 1)
        return out
    if freq == "month":
        y, mo = start.year, start.month
        while (p := month(y, mo)).start <= end:
            out.append(p)
            y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
        return out
    iso = start.isocalendar()
    p = iso_week(iso.year, iso.week)
    while p.start <= end:
        out.append(p)
        nxt = (p.start + dt.timedelta(days=7)).isocalendar()
        p = iso_week(nxt.year, nxt.week)
    return out
