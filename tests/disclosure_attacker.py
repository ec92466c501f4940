"""An attacker's tools, written from what the pages say they show, never from gvrs's
disclosure code (the way ``tests/suppression_reader.py`` is): read figures off a page, write
down what each figure says about the unknown counts behind it, and find the least and the
greatest value a count can take given everything read.

What a figure says is taken from the page itself: the window it counts (a tile's "to 31 Jul",
an area table's "1 Jan 2025 to 31 Jul 2025", or, when the page states nothing, the window
asked for) and how far it may be from the count (``data-perturbed-within`` on a page that
perturbs its figures, as docs/disclosure.md describes; exact otherwise). A perturbed figure
of 0 may be a count from 0 to that bound; one above 0 is a count of at least 1.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from html import unescape

import numpy as np
from scipy.optimize import linprog

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {m: i for i, m in enumerate(MONTH_NAMES, 1)}


def figure_range(value: int, within: int) -> tuple[float, float]:
    """The counts a figure shown as ``value`` may stand for."""
    if within == 0:
        return value, value
    if value == 0:
        return 0, within
    return max(1, value - within), value + within


def perturbed_within(page: str) -> int:
    found = re.search(r'data-perturbed-within="(\d+)"', page)
    return int(found.group(1)) if found else 0


class DayCounts:
    """Unknown counts per day from ``first`` to ``last`` (>= 0), and what figures say about
    sums of them."""

    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first = first
        self.days = (last - first).days + 1
        self.rows: list[np.ndarray] = []
        self.low: list[float] = []
        self.high: list[float] = []

    def _mask(self, start: dt.date, end: dt.date) -> np.ndarray:
        mask = np.zeros(self.days)
        a = max(0, (start - self.first).days)
        b = min(self.days - 1, (end - self.first).days)
        mask[a : b + 1] = 1
        return mask

    def see(self, start: dt.date, end: dt.date, value: int, within: int) -> None:
        low, high = figure_range(value, within)
        self.rows.append(self._mask(start, end))
        self.low.append(low)
        self.high.append(high)

    def range_of(self, start: dt.date, end: dt.date) -> tuple[float, float]:
        a = np.array(self.rows)
        a_ub = np.vstack([a, -a])
        b_ub = np.r_[self.high, -np.array(self.low)]
        c = self._mask(start, end)
        bounds = [(0, None)] * self.days
        low = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        high = linprog(-c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        assert low.status == 0, low.message
        return low.fun, (np.inf if high.status == 3 else -high.fun)


def tiles(page: str) -> dict[str, tuple[int, str]]:
    """Each tile's figure and headline, by metric."""
    out = {}
    for article in re.findall(r'<article class="tile[^"]*"(.*?)</article>', page, re.S):
        metric = re.search(r'data-metric="([^"]+)"', article).group(1)
        count = re.search(r'data-count="([^"]*)"', article).group(1)
        headline = re.search(r'<div class="figure">(.*?)</div>', article, re.S).group(1)
        if count.isdigit():
            out[metric] = (int(count), unescape(headline))
    return out


def tile_window(headline: str, asked_until: dt.date) -> tuple[dt.date, dt.date]:
    """The window a tile's headline says it counts: "31 so far in 2025 (to 04 Aug)" is
    1 January to 4 August 2025; "12 in 2024" the whole year."""
    year = int(re.search(r"in (\d{4})", headline).group(1))
    to = re.search(r"to (\d{1,2}) (\w{3})", headline)
    if to:
        return dt.date(year, 1, 1), dt.date(year, MONTHS[to.group(2)], int(to.group(1)))
    if re.search(rf"in {year}\b(?! to)", headline):
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    return dt.date(year, 1, 1), asked_until


def _day(text: str) -> dt.date:
    return dt.datetime.strptime(text.strip(), "%d %b %Y").date()


def area_table(page: str) -> tuple[tuple[dt.date, dt.date] | None, dict[str, int]]:
    """The ranked table of areas: the window its hint names, and each area's shown count."""
    section = re.search(r'data-testid="area-table"(.*?)</section>', page, re.S)
    if not section:
        return None, {}
    body = section.group(1)
    hint = re.search(r"(\d{1,2} \w{3} \d{4}) to (\d{1,2} \w{3} \d{4}), against", body)
    window = (_day(hint.group(1)), _day(hint.group(2))) if hint else None
    counts = {}
    for name, value in re.findall(
        r"<tr>\s*<td>([^<]+)</td>\s*<td class=\"num\" data-value=\"(\d+)\"", body
    ):
        counts[unescape(name)] = int(value)
    return window, counts


def _numbers(value) -> list[float]:
    """A Plotly array, plain or as a base64 typed array."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def map_cells(page: str) -> dict[tuple[float, float], int]:
    """The map's grid cells as drawn: (lon, lat) of each cell's centre -> its figure."""
    found = re.search(r'<script id="chart-map" type="application/json">(.*?)</script>', page, re.S)
    if not found:
        return {}
    figure = json.loads(found.group(1))
    cells = {}
    for trace in figure.get("data", []):
        if "cell" not in trace.get("name", ""):
            continue
        lons, lats = _numbers(trace["lon"]), _numbers(trace["lat"])
        for lon, lat, text in zip(lons, lats, trace["text"], strict=True):
            count = int(re.match(r"([\d,]+)", text).group(1).replace(",", ""))
            cells[(round(lon, 6), round(lat, 6))] = count
    return cells
