"""Query windows snapped to whole calendar months.

A reader who may choose any first and last day can ask for two windows one day apart and
subtract: the difference is one day's count, however each window is protected. Snapped to
whole months, every window a reader can ask for is a run of whole months, so the finest
difference is a month, and a month is itself a figure the policy protects.
"""

from __future__ import annotations

import calendar
import datetime as dt


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def whole_months(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date] | None:
    """The whole calendar months inside ``first``..``last``: the first day of the first whole
    month and the last day of the last; None when no month is whole.

    Examples
    --------
    >>> whole_months(dt.date(2025, 8, 4), dt.date(2025, 11, 5))
    (datetime.date(2025, 9, 1), datetime.date(2025, 10, 31))
    >>> whole_months(dt.date(2025, 8, 1), dt.date(2025, 8, 31))
    (datetime.date(2025, 8, 1), datetime.date(2025, 8, 31))
    >>> whole_months(dt.date(2025, 8, 4), dt.date(2025, 8, 5)) is None
    True
    """
    start = first if first.day == 1 else month_end(first) + dt.timedelta(days=1)
    end = last if last == month_end(last) else last.replace(day=1) - dt.timedelta(days=1)
    return (start, end) if start <= end else None


def month_index(days, first: dt.date):
    """Each day's month counted from ``first``'s month (0 for it); days as numpy datetime64
    or anything ``numpy.asarray`` reads as dates."""
    import numpy as np

    months = np.asarray(days, dtype="datetime64[M]").astype(np.int64)
    return months - np.datetime64(first, "M").astype(np.int64)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every month from ``start``'s to ``end``'s.

    Examples
    --------
    >>> [d.isoformat() for d in months_between(dt.date(2024, 11, 1), dt.date(2025, 2, 28))]
    ['2024-11-01', '2024-12-01', '2025-01-01', '2025-02-01']
    """
    out, day = [], start.replace(day=1)
    while day <= end:
        out.append(day)
        day = month_end(day) + dt.timedelta(days=1)
    return out
