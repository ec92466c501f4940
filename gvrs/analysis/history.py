"""Where a figure stands in its history: "the lowest since 2014", "a record", "the highest in
25 years" -- claimed only as far back as the data go."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

_WORDS = {
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
}


_ORDINAL_WORDS = {
    2: "second",
    3: "third",
    4: "fourth",
    5: "fifth",
    6: "sixth",
    7: "seventh",
    8: "eighth",
    9: "ninth",
    10: "tenth",
}


def _ordinal(n: int) -> str:
    """ "second" .. "tenth" in words, then "11th", "22nd": as a report would write them."""
    if n in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[n]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _years(n: int) -> str:
    return f"{_WORDS.get(n, str(n))} years"


@dataclass(frozen=True)
class HistoryRank:
    """``year``'s count against every earlier year of the series.

    ``highest_since``/``lowest_since`` name the latest earlier year whose count was at least
    as high/low; ``None`` with ``is_record_*`` true means no earlier year matched it.
    """

    year: int
    count: int
    first_year: int
    n_years: int  # years compared, ``year`` included
    rank_high: int  # 1 = highest of those years (ties share the better rank)
    rank_low: int
    is_record_high: bool
    is_record_low: bool
    highest_since: int | None
    lowest_since: int | None
    phrase: str


def rank_in_history(annual: pd.Series, year: int, *, whole_series: bool = False) -> HistoryRank:
    """Rank ``annual[year]`` among the years up to it (later years are not history yet), or
    among every year of the series with ``whole_series`` ("the record of 1985-2022").

    Parameters
    ----------
    annual : pandas.Series
        Counts indexed by year. Years missing from the index are unknown, never zero.
    year : int
        The year to place.

    Returns
    -------
    HistoryRank
        With a phrase such as "the lowest since 2014 (lowest in 9 years)" or "the highest in
        the 38 years of data (1985-2022)".

    Examples
    --------
    >>> import pandas as pd
    >>> rank_in_history(pd.Series({2019: 5, 2020: 9, 2021: 7, 2022: 4}), 2022).phrase
    'the lowest in the 4 years of data (2019–2022)'
    """
    if year not in annual.index:
        raise KeyError(f"no figure for {year}")
    history = annual if whole_series else annual.loc[annual.index <= year]
    history = history.astype(int)
    count = int(history.loc[year])
    earlier = history.loc[history.index != year]
    first, last = int(history.index.min()), int(history.index.max())
    n = len(history)
    rank_high = int((earlier > count).sum()) + 1
    rank_low = int((earlier < count).sum()) + 1
    before = earlier.loc[earlier.index < year]
    at_least = before[before >= count]
    at_most = before[before <= count]
    highest_since = int(at_least.index.max()) if len(at_least) else None
    lowest_since = int(at_most.index.max()) if len(at_most) else None
    record_high = len(earlier) > 0 and not (earlier >= count).any()
    record_low = len(earlier) > 0 and not (earlier <= count).any()
    span = f"the {n} years of data ({first}–{last})"
    if n == 1:
        phrase = f"the only year of data ({year})"
    elif record_high and record_low:
        phrase = f"unchanged across {span}"
    elif record_high:
        phrase = f"the highest in {span}"
    elif record_low:
        phrase = f"the lowest in {span}"
    elif lowest_since is not None and lowest_since <= year - 3:
        phrase = f"the lowest since {lowest_since} (lowest in {_years(year - lowest_since)})"
    elif highest_since is not None and highest_since <= year - 3:
        phrase = f"the highest since {highest_since} (highest in {_years(year - highest_since)})"
    elif rank_high == 1:  # level with an earlier year at the top
        phrase = f"tied for the highest of {span}"
    elif rank_low == 1:
        phrase = f"tied for the lowest of {span}"
    elif rank_high <= rank_low:
        phrase = f"the {_ordinal(rank_high)} highest of {span}"
    else:
        phrase = f"the {_ordinal(rank_low)} lowest of {span}"
    return HistoryRank(
        year=year,
        count=count,
        first_year=first,
        n_years=n,
        rank_high=rank_high,
        rank_low=rank_low,
        is_record_high=record_high,
        is_record_low=record_low,
        highest_since=highest_since,
        lowest_since=lowest_since,
        phrase=phrase,
    )
