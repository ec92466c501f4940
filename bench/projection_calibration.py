"""Back-test the year-end projection's 90% prediction interval on real files, the
overdispersed model against the earlier Poisson model in the same run.

    python bench/projection_calibration.py [--draws 10000]

For the Philadelphia shooting-victims file and the New York shooting-incidents file
(../shared/data), for people shot and homicides, at every month-end (31 January to
30 November) of every complete year with at least 3 complete years before it, the projection
from the counts to that date is checked against the year's actual total. Prints the
interval's coverage per month-end and overall (target: overall 85-95%, no month-end below
75%), and the Brier score of the "chance of a record" and "chance of the lowest in N years"
statements against what happened (lower is better; always saying 0 or 1 wrongly scores 1).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gvrs.analysis.projection import MODELS, project_year_end

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PHILLY = DATA / "philly-shooting-victims" / "philly_shooting_victims_2015_2025.csv.gz"
NYPD = DATA / "nypd-shooting-incidents" / "NYPD_Shooting_Incident_Data_Historic.csv.gz"
MIN_PRIOR_YEARS = 3


def _daily(days: pd.Series, last_year: int) -> pd.Series:
    """Counts per day, zero-filled, whole years up to ``last_year``."""
    counts = days.value_counts().sort_index()
    first = counts.index.min()
    index = pd.date_range(pd.Timestamp(first.year, 1, 1), pd.Timestamp(last_year, 12, 31))
    return counts.reindex(index, fill_value=0).astype("int64")


def series() -> dict[str, pd.Series]:
    """People shot and homicides, per day, from both files (one row per victim)."""
    philly = pd.read_csv(PHILLY, usecols=["date", "fatal"], dtype=str)
    day = pd.to_datetime(philly["date"].str[:10], format="%Y/%m/%d")
    fatal = philly["fatal"].str.strip().str.lower().isin(["true", "1", "1.0"])
    # The file's records end on 2025-01-26 (one stray in November): complete years to 2024.
    keep = day.dt.year <= 2024
    ny = pd.read_csv(
        NYPD, usecols=["OCCUR_DATE", "STATISTICAL_MURDER_FLAG"], dtype=str, encoding="utf-8-sig"
    )
    ny_day = pd.to_datetime(ny["OCCUR_DATE"], format="%m/%d/%y")
    murder = ny["STATISTICAL_MURDER_FLAG"].str.strip().str.upper() == "TRUE"
    return {
        "Philadelphia people shot": _daily(day[keep].dt.normalize(), 2024),
        "Philadelphia homicides": _daily(day[keep & fatal].dt.normalize(), 2024),
        "New York people shot": _daily(ny_day, 2020),
        "New York homicides": _daily(ny_day[murder], 2020),
    }


def back_test(daily: pd.Series, model: str, draws: int) -> list[dict]:
    out = []
    years = sorted(set(daily.index.year))
    annual = daily.groupby(daily.index.year).sum()
    for year in years[MIN_PRIOR_YEARS:]:
        actual = int(annual.loc[year])
        for month in range(1, 12):
            as_of = dt.date(year, month, calendar.monthrange(year, month)[1])
            seen = daily.loc[: pd.Timestamp(as_of)]
            p = project_year_end(seen, as_of, draws=draws, seed=year * 100 + month, model=model)
            statements = []
            if p.p_exceed_record is not None:
                statements.append((p.p_exceed_record, actual > p.record_high))
            for n, prob in p.p_lowest_in.items():
                window = annual.loc[year - n + 1 : year - 1]
                statements.append((prob, actual < int(window.min())))
            out.append(
                {
                    "year": year,
                    "month": month,
                    "held": p.low <= actual <= p.high,
                    "width": p.high - p.low,
                    "statements": statements,
                }
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    args = parser.parse_args()
    started = time.perf_counter()
    data = series()
    results: dict[str, list[dict]] = {m: [] for m in MODELS}
    for name, daily in data.items():
        years = sorted(set(daily.index.year))
        print(f"{name}: {years[0]}-{years[-1]}, tested {years[MIN_PRIOR_YEARS]}-{years[-1]}")
        for model in MODELS:
            rows = back_test(daily, model, args.draws)
            for r in rows:
                r["series"] = name
            results[model] += rows
    print()
    print("90% prediction interval: share of year-end totals inside it, by month-end")
    header = f"{'month-end':<10}" + "".join(f"{m:>16}" for m in MODELS)
    print(header)
    frames = {m: pd.DataFrame(rows) for m, rows in results.items()}
    for month in range(1, 12):
        cells = []
        for m in MODELS:
            f = frames[m]
            held = f.loc[f["month"] == month, "held"]
            cells.append(f"{held.mean():>10.1%} ({held.sum()}/{len(held)})")
        print(f"{calendar.month_abbr[month]:<10}" + "".join(f"{c:>16}" for c in cells))
    print(
        f"{'overall':<10}"
        + "".join(
            f"{frames[m]['held'].mean():>10.1%} ({frames[m]['held'].sum()}/{len(frames[m])})"
            for m in MODELS
        )
    )
    print(
        f"{'lowest':<10}"
        + "".join(f"{frames[m].groupby('month')['held'].mean().min():>16.1%}" for m in MODELS)
    )
    print()
    print("By series (overall coverage; median interval width):")
    for name in data:
        cells = []
        for m in MODELS:
            f = frames[m][frames[m]["series"] == name]
            cells.append(f"{m} {f['held'].mean():.1%}, width {f['width'].median():,.0f}")
        print(f"  {name}: " + "; ".join(cells))
    print()
    print("Brier score of 'chance of a record' / 'of the lowest in N years' statements:")
    for m in MODELS:
        pairs = [s for rows in frames[m]["statements"] for s in rows]
        prob = np.array([p for p, _ in pairs])
        happened = np.array([float(h) for _, h in pairs])
        brier = float(np.mean((prob - happened) ** 2))
        print(f"  {m}: {brier:.4f} over {len(pairs)} statements ({int(happened.sum())} came true)")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
