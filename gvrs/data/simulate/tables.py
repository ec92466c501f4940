"""A simulated county as the count tables evaluations take: people shot (or killed) per
month and town, and residents per month and town."""

from __future__ import annotations

import pandas as pd

from gvrs.data.simulate import SimulatedCity


def counts_by_town(city: SimulatedCity, *, killed_only: bool = False) -> pd.DataFrame:
    """People shot (or, with ``killed_only``, killed) per month (rows: month starts, every
    whole month simulated) and town (columns)."""
    rows = city.incident_rows
    people = rows["killed"] if killed_only else rows["killed"] + rows["injured"]
    town = rows["jurisdiction"].str.split(" > ").str[-1]
    month = pd.to_datetime(rows["occurred_at"].str[:7] + "-01")
    table = people.groupby([month, town]).sum().unstack(fill_value=0)
    months = pd.date_range(city.start, city.end, freq="MS")
    if city.end < (months[-1] + pd.offsets.MonthEnd(0)).date():
        months = months[:-1]
    towns = [t.name for t in city.scenario.towns]
    return table.reindex(index=months, columns=towns, fill_value=0).astype("int64")


def populations_by_town(city: SimulatedCity, months: pd.DatetimeIndex) -> pd.DataFrame:
    """Residents of each town in each month's year, same layout as ``counts_by_town``."""
    frame = city.populations[city.populations["jurisdiction"].str.contains(" > ")]
    wide = frame.assign(town=frame["jurisdiction"].str.split(" > ").str[-1]).pivot(
        index="year", columns="town", values="population"
    )
    towns = [t.name for t in city.scenario.towns]
    out = wide.loc[months.year, towns]
    out.index = months
    return out
