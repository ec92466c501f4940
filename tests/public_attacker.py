"""A stranger reading the public downloads (``/public/<place>/data.csv``) of several places, or
of one place at two times, and solving for the counts behind them. Written from what the
download says of itself (its ``about`` lines) and from public knowledge (which towns lie in a
county), never from gvrs's disclosure code, the way ``tests/suppression_reader.py`` is.

What a download says, as the reader takes it:

- each month's figure, each year's total (a sum of its months' figures), each month's total
  over the years and the grand total: the figures of one table add up;
- "fewer than N" is a figure from 1 to N-1; "suppressed" any figure; "no data" nothing;
- a figure is its count moved by at most ``within`` (the ``perturbation`` about line; 0 when
  the download has none: the figures are the counts), never moving 0 (so a figure of 1 or
  more is a count of at least 1); a whole year's total is likewise its count (the sum of its
  months' counts) within ``within``.

The reader's unknowns are the true monthly counts. A count is *pinned* when the least and the
greatest value it can take, given everything read, are the same (found by linear programming).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Download:
    """One place's download as the reader parsed it."""

    place: str
    within: int
    threshold: int
    months: dict[tuple[int, int], str]  # (year, month) -> text
    totals: dict[int, str]  # year -> text of its total
    whole_years: set[int]
    column_totals: dict[int, str] = field(default_factory=dict)  # month -> text
    grand_total: str = ""


def read(body: bytes) -> Download:
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    about = {r["row"]: r["value"] for r in rows if r["table"] == "about"}
    found = re.search(r"at most (\d+)", about.get("perturbation", ""))
    within = int(found.group(1)) if found else 0
    threshold = int(re.search(r"counts from 1 to (\d+)", about["suppression"]).group(1))
    months, totals, whole, columns, grand = {}, {}, set(), {}, ""
    for r in rows:
        if r["table"] != "months":
            continue
        if r["row"].startswith("All years"):
            if r["column"] == "Total":
                grand = r["value"]
            else:
                columns[MONTHS.index(r["column"]) + 1] = r["value"]
            continue
        year = int(r["row"][:4])
        if r["row"] == str(year):
            whole.add(year)
        if r["column"] == "Total":
            totals[year] = r["value"]
        else:
            months[(year, MONTHS.index(r["column"]) + 1)] = r["value"]
    return Download(about["place"], within, threshold, months, totals, whole, columns, grand)


class Reader:
    """Unknown true counts and perturbed figures, and everything the downloads say of them."""

    def __init__(self) -> None:
        self.bounds: list[tuple[float, float | None]] = []
        self.eq: list[tuple[dict[int, float], float]] = []
        self.ub: list[tuple[dict[int, float], float]] = []
        self.hidden: dict[tuple, int] = {}  # (name, year, month) of a hidden figure -> count

    def variable(self, low: float = 0, high: float | None = None) -> int:
        self.bounds.append((low, high))
        return len(self.bounds) - 1

    def equal(self, terms: dict[int, float], value: float = 0) -> None:
        self.eq.append((terms, value))

    def at_most(self, terms: dict[int, float], value: float) -> None:
        self.ub.append((terms, value))

    def _figure(self, text: str, d: Download) -> int | None:
        """A perturbed figure's variable, bounded by what it shows; None for no data."""
        if text == "no data":
            return None
        if re.fullmatch(r"\d+", text):
            return self.variable(int(text), int(text))
        if text.startswith("fewer than"):
            return self.variable(1, d.threshold)
        assert text == "suppressed", text
        return self.variable(0, None)

    def _near(self, count: dict[int, float], figure: int, d: Download) -> None:
        """``count`` (a sum of counts) lies within ``d.within`` of ``figure``, and is at least
        1 when the figure is (0 is never moved)."""
        self.at_most({**count, figure: count.get(figure, 0) - 1}, d.within)
        self.at_most({**{k: -v for k, v in count.items()}, figure: 1}, d.within)
        low = self.bounds[figure][0]
        if low >= 1:
            self.at_most({k: -v for k, v in count.items()}, -1)

    def add(self, d: Download, name: str) -> dict[tuple[int, int], int]:
        """Everything one download says; returns the true count's variable of each month."""
        counts, figures = {}, {}
        for (year, month), text in d.months.items():
            figure = self._figure(text, d)
            if figure is None:
                continue
            counts[(year, month)] = self.variable()
            figures[(year, month)] = figure
            self._near({counts[(year, month)]: 1}, figure, d)
            if text != "no data" and not re.fullmatch(r"\d+", text):
                self.hidden[(name, year, month)] = counts[(year, month)]
        for year, text in d.totals.items():
            total = self._figure(text, d)
            if total is None:
                continue
            inside = [k for k in figures if k[0] == year]
            self.equal({**{figures[k]: 1 for k in inside}, total: -1})
            if year in d.whole_years and len(inside) == 12:
                self._near({counts[k]: 1 for k in inside}, total, d)
        for month, text in d.column_totals.items():
            total = self._figure(text, d)
            if total is not None:
                inside = [k for k in figures if k[1] == month]
                self.equal({**{figures[k]: 1 for k in inside}, total: -1})
        return counts

    def range_of(self, variable: int) -> tuple[float, float]:
        n = len(self.bounds)

        def dense(rows):
            a = np.zeros((len(rows), n))
            for i, (terms, _) in enumerate(rows):
                for k, v in terms.items():
                    a[i, k] += v
            return a, np.array([v for _, v in rows])

        kwargs = {"bounds": self.bounds, "method": "highs"}
        if self.eq:
            kwargs["A_eq"], kwargs["b_eq"] = dense(self.eq)
        if self.ub:
            kwargs["A_ub"], kwargs["b_ub"] = dense(self.ub)
        c = np.zeros(n)
        c[variable] = 1
        low, high = linprog(c, **kwargs), linprog(-c, **kwargs)
        assert low.status == 0, low.message
        return low.fun, (np.inf if high.status == 3 else -high.fun)

    def pinned(self, threshold: int) -> dict[tuple, int]:
        """Every hidden count the reader can work out to one value from 1 to ``threshold``."""
        out = {}
        for name, variable in self.hidden.items():
            low, high = self.range_of(variable)
            if high - low < 1 - 1e-6 and 1 - 1e-6 <= low <= threshold + 1e-6:
                out[name] = round(low)
        return out


def nested(county: bytes, towns: list[bytes]) -> tuple[Reader, dict]:
    """The downloads of a county and of towns inside it, linked: each month of the county is
    its towns' months plus the rest of the county (a count >= 0). Returns the reader and the
    rest's variables by month (hidden counts too: the rest is never published)."""
    reader = Reader()
    whole = read(county)
    county_counts = reader.add(whole, whole.place)
    town_counts = []
    for body in towns:
        d = read(body)
        town_counts.append(reader.add(d, d.place))
    rest = {}
    for key, variable in county_counts.items():
        if not all(key in c for c in town_counts):
            continue
        rest[key] = reader.variable()
        reader.equal({variable: 1, rest[key]: -1, **{c[key]: -1 for c in town_counts}})
        reader.hidden[("rest of the county", *key)] = rest[key]
    return reader, rest


def two_releases(before: bytes, after: bytes) -> Reader:
    """One place's download before and after new records arrived: every month's count after
    is its count before plus the records added (never fewer)."""
    reader = Reader()
    first, second = read(before), read(after)
    counts_before = reader.add(first, "before")
    counts_after = reader.add(second, "after")
    for key, variable in counts_after.items():
        if key in counts_before:
            reader.at_most({counts_before[key]: 1, variable: -1}, 0)
    return reader
